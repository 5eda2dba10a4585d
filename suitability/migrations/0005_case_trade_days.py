"""Case trades per batch × account × trading day × product instead of one link per trade.

The existing links are carried over (grouped) before the per-trade table goes; no case
loses a trade. The case and transition references lose their database constraints (the
rows are append-only and PROTECTed in Django).
"""

import django.db.models.deletion
from django.db import migrations, models

CARRY_LINKS = """
INSERT INTO suitability_casetradeday
    (case_id, batch_id, account_id, trading_day, exchange, product_code, is_option, trades, lots)
SELECT l.case_id, t.batch_id, t.account_id, t.trading_day, t.exchange, t.product_code, t.is_option,
       COUNT(*), SUM(t.volume)
FROM suitability_casetrade l JOIN clients_trade t ON t.id = l.trade_id
GROUP BY l.case_id, t.batch_id, t.account_id, t.trading_day, t.exchange, t.product_code, t.is_option
"""


def carry_links(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(CARRY_LINKS)


class Migration(migrations.Migration):

    dependencies = [
        ('clients', '0003_client_opened_on_index'),
        ('suitability', '0004_casetrade_trade_pk'),
    ]

    operations = [
        migrations.CreateModel(
            name='CaseTradeDay',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('trading_day', models.DateField(verbose_name='trading day')),
                ('exchange', models.CharField(max_length=6, verbose_name='exchange')),
                ('product_code', models.CharField(max_length=10, verbose_name='product code')),
                ('is_option', models.BooleanField(default=False, verbose_name='option')),
                ('trades', models.PositiveIntegerField(verbose_name='trades')),
                ('lots', models.PositiveIntegerField(verbose_name='lots')),
                ('account', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='clients.account', verbose_name='account')),
                ('batch', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='clients.importbatch', verbose_name='import batch')),
                ('case', models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.PROTECT, related_name='trade_days', to='suitability.mismatchcase', verbose_name='case')),
            ],
            options={
                'verbose_name': 'case trading day',
                'verbose_name_plural': 'case trading days',
                'ordering': ['case', 'trading_day', 'id'],
            },
        ),
        migrations.RunPython(carry_links, migrations.RunPython.noop),
        migrations.RemoveField(
            model_name='mismatchcase',
            name='trades',
        ),
        migrations.AlterField(
            model_name='casetransition',
            name='case',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.PROTECT, related_name='transitions', to='suitability.mismatchcase'),
        ),
        migrations.AlterField(
            model_name='mismatchcase',
            name='client',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.PROTECT, related_name='mismatch_cases', to='clients.client', verbose_name='client'),
        ),
        migrations.DeleteModel(
            name='CaseTrade',
        ),
    ]
