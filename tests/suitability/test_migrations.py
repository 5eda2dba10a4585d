"""Migration 0005 regroups the per-trade case links: no case loses a trade."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("suitability", "0004_casetrade_trade_pk")]
AFTER = [("suitability", "0005_case_trade_days")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def back_to_latest():
    """Leave the schema as the other tests expect it: every migration applied."""
    yield
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_per_trade_links_are_carried_over_grouped_by_day_and_product(back_to_latest):
    apps = migrate(BEFORE)
    Branch = apps.get_model("clients", "Branch")
    Client = apps.get_model("clients", "Client")
    Account = apps.get_model("clients", "Account")
    ImportBatch = apps.get_model("clients", "ImportBatch")
    Trade = apps.get_model("clients", "Trade")
    RuleSet = apps.get_model("suitability", "RuleSet")
    MismatchCase = apps.get_model("suitability", "MismatchCase")
    CaseTrade = apps.get_model("suitability", "CaseTrade")

    branch = Branch.objects.create(code="M1", name="迁移营业部")
    client = Client.objects.create(client_no="M0001", name="迁移客户", branch=branch, opened_on=dt.date(2020, 1, 2))
    account = Account.objects.create(account_id="70000001", client=client, opened_on=dt.date(2020, 1, 2))
    batch = ImportBatch.objects.create(kind="trades", file_name="t.csv", sha256="a" * 64, status="imported")
    rule_set, _ = RuleSet.objects.get_or_create(
        version="migration-test", defaults={"source": "test", "effective_from": dt.date(2020, 1, 1)}
    )
    case = MismatchCase.objects.create(
        client=client, product_key="CFFEX:IF", source="trade", result="mismatch", state="open",
        client_level="C3", product_level=4, rule_set=rule_set,
    )

    def trade(n, day, volume):
        return Trade.objects.create(
            batch=batch, line=n + 1, account=account, trading_day=day, exchange="CFFEX", instrument="IF2512",
            product_code="IF", direction="buy", offset="open", hedge_flag="speculation", price=Decimal("3900"),
            volume=volume, turnover=Decimal("1170000"), fee=Decimal("30"), exchange_fee=Decimal("26.91"),
            trade_id=f"M{n:07d}",
        )

    linked = [trade(1, dt.date(2026, 11, 16), 1), trade(2, dt.date(2026, 11, 16), 2), trade(3, dt.date(2026, 11, 17), 4)]
    for t in linked:
        CaseTrade.objects.create(case=case, trade=t)

    apps = migrate(AFTER)
    days = apps.get_model("suitability", "CaseTradeDay").objects.filter(case_id=case.pk).order_by("trading_day")
    assert [(d.trading_day, d.trades, d.lots, d.product_code) for d in days] == [
        (dt.date(2026, 11, 16), 2, 3, "IF"), (dt.date(2026, 11, 17), 1, 4, "IF"),
    ]
