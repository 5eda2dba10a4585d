from django.db import migrations


def load_defaults(apps, schema_editor):
    from suitability import defaults

    RuleSet = apps.get_model("suitability", "RuleSet")
    QuestionnaireVersion = apps.get_model("suitability", "QuestionnaireVersion")
    ProductCatalogEntry = apps.get_model("suitability", "ProductCatalogEntry")
    if not RuleSet.objects.filter(version=defaults.DEFAULT_RULE_SET["version"]).exists():
        RuleSet.objects.create(**defaults.DEFAULT_RULE_SET)
    for q in defaults.DEFAULT_QUESTIONNAIRES:
        QuestionnaireVersion.objects.get_or_create(code=q["code"], defaults=q)
    for entry in defaults.DEFAULT_CATALOG:
        ProductCatalogEntry.objects.get_or_create(
            code=entry["code"], defaults={**entry, "rated_on": defaults.RATED_ON}
        )


class Migration(migrations.Migration):
    dependencies = [("suitability", "0001_initial")]

    operations = [migrations.RunPython(load_defaults, migrations.RunPython.noop)]
