"""No two overlapping links for one account, enforced by PostgreSQL itself
(services check first; SQLite relies on the services alone), and the firm-wide
default scheme the spec ships: flat 0.50, default rates, minimum payout 100."""

import datetime as dt

from django.db import migrations

CONSTRAINT = "brokers_link_no_overlap"


def add_exclusion(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    schema_editor.execute(
        f"ALTER TABLE brokers_brokerlink ADD CONSTRAINT {CONSTRAINT} EXCLUDE USING gist "
        "(account_id WITH =, daterange(valid_from, valid_to, '[]') WITH &&)"
    )


def drop_exclusion(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"ALTER TABLE brokers_brokerlink DROP CONSTRAINT IF EXISTS {CONSTRAINT}")


def default_scheme(apps, schema_editor):
    Scheme = apps.get_model("brokers", "CommissionScheme")
    Scheme.objects.get_or_create(
        broker=None,
        valid_from=dt.date(2000, 1, 1),
        defaults={
            "mode": "flat",
            "bands": [["0", "0.50"]],
            "vat_rate": "0.0672",
            "reserve_rate": "0.05",
            "protection_rate": "0",
            "other_deductions": "0",
            "min_payout": "100",
        },
    )


def remove_default_scheme(apps, schema_editor):
    apps.get_model("brokers", "CommissionScheme").objects.filter(
        broker=None, valid_from=dt.date(2000, 1, 1)
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("brokers", "0001_register_links_schemes_statements")]

    operations = [
        migrations.RunPython(add_exclusion, drop_exclusion),
        migrations.RunPython(default_scheme, remove_default_scheme),
    ]
