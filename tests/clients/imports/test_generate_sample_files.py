"""generate_sample_files writes files the importer takes whole, with the promised shapes."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from io import StringIO

from django.core.management import call_command

from clients.importers.base import REGISTRY
from clients.models import AccountSnapshot, Client, DailyAccountActivity, Trade

from .conftest import run

ORDER = ("branches", "brokers", "clients", "broker_links", "snapshots", "trades")


def test_generated_files_import_cleanly_and_look_real(staff_codes, tmp_path):
    out = StringIO()
    call_command("generate_sample_files", "--clients", "60", "--days", "12", "--out",
                 str(tmp_path), "--seed", "3", "--managers", "M001,M002", stdout=out)
    summary = json.loads(out.getvalue().strip().splitlines()[-1])
    assert summary["rows"]["snapshots"] == 60 * 12
    for kind in ORDER:
        if kind not in REGISTRY:
            continue
        batch = run(kind, tmp_path / f"{kind}.csv")
        assert batch.status == "imported", (kind, batch.report["errors"][:5])
    assert Client.objects.count() == 60
    assert AccountSnapshot.objects.count() == 720
    assert Trade.objects.count() == summary["rows"]["trades"] > 100
    # Night session: some trades carry the calendar date of the evening before.
    night = Trade.objects.exclude(trade_date=None).filter(trade_time__hour__gte=21)
    assert night.exists()
    assert all(t.trade_date < t.trading_day for t in night)
    # Dormant clients never trade; day traders end flat; hedgers hedge.
    traded = set(Trade.objects.values_list("account_id", flat=True).distinct())
    assert 0 < len(traded) < 60
    assert Trade.objects.filter(hedge_flag="hedge").exists()
    assert Trade.objects.filter(offset="close_today").exists()
    assert DailyAccountActivity.objects.count() == len(
        set(Trade.objects.values_list("account_id", "trading_day")))


def test_margin_calls_are_followed_by_forced_liquidations(tmp_path):
    from clients.importers.samples import generate

    generate(tmp_path, clients=400, days=20, seed=11, managers=[])
    with (tmp_path / "snapshots.csv").open() as f:
        calls = {(r["account_id"], r["trading_day"]) for r in csv.DictReader(f)
                 if Decimal(r["margin_call"]) > 0}
    with (tmp_path / "trades.csv").open() as f:
        forced = {r["account_id"] for r in csv.DictReader(f) if r["offset"] == "F"}
    assert calls and forced
    assert forced <= {account for account, _day in calls}


def test_every_snapshot_obeys_the_balance_identity(tmp_path):
    from clients.importers.samples import generate

    generate(tmp_path, clients=80, days=15, seed=5, managers=[])
    with (tmp_path / "snapshots.csv").open() as f:
        for row in csv.DictReader(f):
            d = {k: Decimal(v) for k, v in row.items() if k not in ("account_id", "trading_day")}
            assert (d["pre_balance"] + d["deposit"] - d["withdrawal"] + d["close_pnl"]
                    + d["position_pnl"] - d["fee"] - d["equity"]).copy_abs() <= Decimal("0.01")
