"""load_demo's activity step imports generated files for the accounts clients.demo made."""

from __future__ import annotations

from io import StringIO

from clients.models import AccountSnapshot, ImportBatch, Trade
from tests import factories


def test_demo_activity_imports_snapshots_and_trades_for_existing_accounts(db, settings, tmp_path):
    from clients import demo_activity

    settings.BASE_DIR = tmp_path
    accounts = [factories.AccountFactory() for _ in range(12)]
    ctx = {"stdout": StringIO(), "days": 5, "seed": 7, "clients": 12, "summary": {}}
    demo_activity.load(ctx)
    assert AccountSnapshot.objects.count() == 12 * 5
    assert ctx["summary"]["snapshots"] == 60
    assert ctx["summary"]["trades"] == Trade.objects.count()
    assert set(AccountSnapshot.objects.values_list("account_id", flat=True)) == {a.pk for a in accounts}
    assert set(ImportBatch.objects.values_list("kind", "status")) == {
        ("snapshots", "imported"), ("trades", "imported")}
    demo_activity.load(ctx)  # a second run adds nothing
    assert AccountSnapshot.objects.count() == 60
