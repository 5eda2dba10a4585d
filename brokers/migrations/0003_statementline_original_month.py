"""Adjustment lines name the month they correct (`original_month`), also for an IB
that had no statement that month (no `original_statement` to point at); existing
adjustment lines take their original statement's month."""

from django.db import migrations, models


def fill_original_month(apps, schema_editor):
    StatementLine = apps.get_model("brokers", "StatementLine")
    CommissionStatement = apps.get_model("brokers", "CommissionStatement")
    ids = (StatementLine.objects.filter(original_statement__isnull=False)
           .values_list("original_statement_id", flat=True).distinct())
    for statement_id, month in CommissionStatement.objects.filter(id__in=list(ids)).values_list(
        "id", "month"
    ):
        StatementLine.objects.filter(original_statement_id=statement_id).update(original_month=month)


class Migration(migrations.Migration):
    dependencies = [("brokers", "0002_link_exclusion_and_default_scheme")]

    operations = [
        migrations.AddField(
            model_name="statementline",
            name="original_month",
            field=models.DateField(blank=True, null=True, verbose_name="corrected month"),
        ),
        migrations.AddIndex(
            model_name="statementline",
            index=models.Index(condition=models.Q(("original_month__isnull", False)),
                               fields=["original_month"], name="brokers_line_orig_month"),
        ),
        migrations.RunPython(fill_original_month, migrations.RunPython.noop),
    ]
