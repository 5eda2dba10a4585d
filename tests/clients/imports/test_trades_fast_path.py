"""Trades on PostgreSQL: the direct path (convert, check and insert in one statement), the
staged path it hands over to, and the Python parser all store the same trades and daily rows;
and without database FOREIGN KEYs on the imported activity, Django still protects it."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import ProtectedError

from clients.importers import copy, kinds
from clients.models import Account, DailyAccountActivity, ImportBatch, Trade
from clients.models.activity import FORCED_OFFSETS

from .conftest import SAMPLES, run
from .test_samples import FULL, TRADE_SHAPES

FORCED = {offset.value for offset in FORCED_OFFSETS}
DAILY = ("account__account_id", "trading_day", "trades", "lots", "turnover", "fee",
         "exchange_fee", "net_fee", "hedge_lots", "arbitrage_lots", "forced_liquidations",
         "close_pnl")


def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("the raw COPY paths are PostgreSQL only")


def stored():
    return (sorted(Trade.objects.values_list(*FULL)),
            sorted(DailyAccountActivity.objects.values_list(*DAILY)))


def daily_from_trades():
    """DailyAccountActivity as it must be: summed from every stored trade."""
    days = defaultdict(lambda: [0, 0, Decimal(0), Decimal(0), Decimal(0), 0, 0, 0, Decimal(0)])
    for t in Trade.objects.select_related("account"):
        d = days[(t.account.account_id, t.trading_day)]
        d[0] += 1
        d[1] += t.volume
        d[2] += t.turnover
        d[3] += t.fee
        d[4] += t.exchange_fee
        d[5] += t.volume if t.hedge_flag == "hedge" else 0
        d[6] += t.volume if t.hedge_flag == "arbitrage" else 0
        d[7] += 1 if t.offset in FORCED else 0
        d[8] += t.close_pnl or 0
    return sorted((account, day, n, lots, turnover, fee, xfee, fee - xfee, hedge, arb, forced,
                   pnl)
                  for (account, day), (n, lots, turnover, fee, xfee, hedge, arb, forced, pnl)
                  in days.items())


def forget(batch):
    """Delete what a trades batch stored and let its file be imported again."""
    Trade.objects.all().delete()
    DailyAccountActivity.objects.all().delete()
    ImportBatch.objects.filter(pk=batch.pk).update(status="refused")


def write(tmp_path, name, header, lines):
    path = tmp_path / name
    path.write_text(header + "".join(lines), encoding="utf-8")
    return path


def canonical():
    text = (SAMPLES / "trades_canonical.csv").read_text(encoding="utf-8-sig")
    header, *lines = text.splitlines(keepends=True)
    return header, lines


def recorded_products(batch) -> list[tuple]:
    return sorted(tuple(p) for p in batch.report["extra"]["products"])


def products_of(batch) -> list[tuple]:
    return sorted(set(Trade.objects.filter(batch=batch).values_list("exchange", "product_code", "is_option")))


def days_of(batch) -> list[str]:
    return sorted({day.isoformat() for day in Trade.objects.filter(batch=batch).values_list("trading_day", flat=True)})


@pytest.mark.parametrize("shape", TRADE_SHAPES)
def test_direct_staged_and_python_paths_store_the_same(sample_clients, shape, monkeypatch):
    postgres_only()
    batch = run("trades", SAMPLES / shape)
    assert batch.report["extra"]["trades_path"] == "postgres_direct"
    direct = stored()
    assert direct[1] == daily_from_trades()

    def decline(*args):
        raise copy.FallBack("forced by the test")

    forget(batch)
    monkeypatch.setattr(copy.TradeStager, "insert_direct", decline)
    staged = run("trades", SAMPLES / shape)
    assert staged.report["extra"] == {"trades_path": "postgres_raw_copy",
                                      "direct_insert_declined": "FallBack",
                                      "products": batch.report["extra"]["products"],
                                      "trading_days": batch.report["extra"]["trading_days"]}
    assert (staged.created, staged.unchanged) == (batch.created, batch.unchanged)
    assert stored() == direct

    forget(staged)
    monkeypatch.setattr(kinds, "USE_RAW_COPY", False)
    python = run("trades", SAMPLES / shape)
    assert python.report["extra"]["trades_path"] == "python"
    assert stored() == direct
    # every path records exactly the products and days the batch holds (detection reads them)
    assert recorded_products(python) == recorded_products(batch) == products_of(python)
    assert python.report["extra"]["trading_days"] == batch.report["extra"]["trading_days"] == days_of(python)


def test_stored_keys_hand_over_to_the_staged_path_and_count_unchanged(sample_clients,
                                                                      tmp_path):
    postgres_only()
    header, lines = canonical()
    first = run("trades", write(tmp_path, "first.csv", header, lines[:30]))
    assert first.report["extra"]["trades_path"] == "postgres_direct"
    # 10 rows stored by the first file + 21 new ones: the direct insert hits the unique key.
    batch = run("trades", write(tmp_path, "second.csv", header, lines[20:]))
    assert batch.status == "imported", batch.report["errors"]
    assert {k: v for k, v in batch.report["extra"].items() if k not in ("products", "trading_days")} == {
        "trades_path": "postgres_raw_copy", "direct_insert_declined": "IntegrityError"}
    assert (batch.created, batch.unchanged) == (len(lines) - 30, 10)
    # the file's products and days: a superset of what the batch stored
    assert set(products_of(batch)) <= set(recorded_products(batch))
    assert set(days_of(batch)) <= set(batch.report["extra"]["trading_days"])
    assert Trade.objects.count() == len(lines)
    assert sorted(DailyAccountActivity.objects.values_list(*DAILY)) == daily_from_trades()


def test_new_trades_of_days_already_summed_go_direct_and_add_up(sample_clients, tmp_path):
    postgres_only()
    header, lines = canonical()
    run("trades", write(tmp_path, "odd.csv", header, lines[0::2]))
    batch = run("trades", write(tmp_path, "even.csv", header, lines[1::2]))
    assert batch.report["extra"]["trades_path"] == "postgres_direct"
    assert (batch.created, batch.unchanged) == (len(lines[1::2]), 0)
    assert sorted(DailyAccountActivity.objects.values_list(*DAILY)) == daily_from_trades()


@pytest.mark.parametrize(("cell", "reason"), [("NaN", "not a number"),
                                              ("Infinity", "not a number"),
                                              ("12x", "not a number")])
def test_a_number_sql_would_take_is_refused_as_the_parser_does(sample_clients, tmp_path,
                                                                cell, reason):
    postgres_only()
    header, lines = canonical()
    cells = lines[4].split(",")
    cells[9] = cell  # price
    lines[4] = ",".join(cells)
    batch = run("trades", write(tmp_path, "bad_price.csv", header, lines))
    assert batch.status == "refused"
    assert [(e["line"], e["column"], e["reason"]) for e in batch.report["errors"]] == [
        (6, "price", reason)]
    assert Trade.objects.count() == DailyAccountActivity.objects.count() == 0


def test_an_exponent_is_read_as_the_parser_reads_it(sample_clients, tmp_path, monkeypatch):
    postgres_only()
    header, lines = canonical()
    cells = lines[0].split(",")
    cells[9] = "2.952e3"  # price 2952
    lines[0] = ",".join(cells)
    path = write(tmp_path, "exponent.csv", header, lines)
    batch = run("trades", path)
    assert batch.report["extra"]["trades_path"] == "postgres_direct"
    direct = stored()
    forget(batch)
    monkeypatch.setattr(kinds, "USE_RAW_COPY", False)
    run("trades", path)
    assert stored() == direct


# --- no database FOREIGN KEY on trades and daily rows: Django's on_delete still holds ---------


def test_an_account_with_trades_cannot_be_deleted(sample_clients):
    run("trades", SAMPLES / "trades_canonical.csv")
    account = Account.objects.get(account_id="80010001")
    with pytest.raises(ProtectedError):
        account.delete()
    assert Trade.objects.filter(account=account).exists()


def test_an_import_batch_with_trades_cannot_be_deleted(sample_clients):
    batch = run("trades", SAMPLES / "trades_canonical.csv")
    with pytest.raises(ProtectedError):
        ImportBatch.objects.get(pk=batch.pk).delete()
    assert Trade.objects.filter(batch_id=batch.pk).count() == batch.created


def test_daily_rows_go_with_their_account(sample_clients):
    account = Account.objects.get(account_id="80010001")
    DailyAccountActivity.objects.create(account=account, trading_day="2026-11-16", trades=1)
    account.delete()
    assert not DailyAccountActivity.objects.exists()
