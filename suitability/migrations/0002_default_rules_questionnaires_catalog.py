from django.db import migrations


def load_defaults(apps, schema_editor):
    from suitability.defaults import ensure_defaults

    ensure_defaults(
        apps.get_model("suitability", "RuleSet"),
        apps.get_model("suitability", "QuestionnaireVersion"),
        apps.get_model("suitability", "ProductCatalogEntry"),
    )


class Migration(migrations.Migration):
    dependencies = [("suitability", "0001_initial")]

    operations = [migrations.RunPython(load_defaults, migrations.RunPython.noop)]
