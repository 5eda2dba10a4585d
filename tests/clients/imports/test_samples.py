"""Every sample file of ../shared/data loads, and the shapes agree with each other."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from clients.models import Account, AccountSnapshot, Client, Trade

from .conftest import SAMPLES, run

TRADE_SHAPES = ["trades_canonical.csv", "trades_ctp.csv", "trades_statement_gb18030.csv",
                "trades_cfmmc.csv"]
COMPARED = ("account__account_id", "trading_day", "exchange", "instrument", "product_code",
            "is_option", "direction", "offset", "hedge_flag", "price", "volume", "turnover",
            "fee", "exchange_fee", "trade_id")


def stored_trades():
    return sorted(
        (tuple(row[name] for name in COMPARED), row["close_pnl"] or Decimal("0"))
        for row in Trade.objects.values(*COMPARED, "close_pnl")
    )


def test_branches_and_clients_load(sample_clients):
    assert sample_clients.created == 6
    assert Client.objects.count() == 6
    zhang = Client.objects.get(client_no="C0001")
    assert zhang.name == "张伟"
    assert zhang.manager.staff_profile.staff_code == "M001"
    assert zhang.branch.code == "BJ01"
    assert zhang.id_number == "11010519491231002X"
    assert Client.objects.get(client_no="C0005").investor_category == "professional"
    assert Client.objects.get(client_no="C0004").client_type == "institution"


@pytest.mark.parametrize("name", ["clients.csv", "clients_cn_gb18030.csv"])
def test_shared_clients_samples_load_and_report_their_wrong_id_check_digits(staff_codes, name):
    run("branches", SAMPLES / "branches.csv")
    batch = run("clients", SAMPLES / name)
    assert batch.status == "imported", batch.report
    assert Client.objects.count() == 6
    assert [(w["line"], w["column"], w["value"]) for w in batch.report["warnings"]] == [
        (3, "id_number", "310104198502150028"),
        (4, "id_number", "44030519781108001X"),
        (7, "id_number", "510107199007070017"),
    ]
    assert {w["reason"] for w in batch.report["warnings"]} == {
        "the check digit of the resident ID number is wrong"}


def test_a_resident_id_of_the_wrong_shape_refuses_the_file(staff_codes, tmp_path):
    run("branches", SAMPLES / "branches.csv")
    lines = (SAMPLES / "clients.csv").read_text(encoding="utf-8-sig").splitlines()
    lines[1] = lines[1].replace("11010519491231002X", "1101051949123100")
    bad = tmp_path / "clients_short_id.csv"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    batch = run("clients", bad)
    assert batch.status == "refused"
    assert [(e["line"], e["column"]) for e in batch.report["errors"]] == [(2, "id_number")]
    assert "18 characters" in batch.report["errors"][0]["reason"]
    assert Client.objects.count() == 0


def test_an_unknown_manager_code_loads_the_client_without_a_manager(db):
    run("branches", SAMPLES / "branches.csv")
    batch = run("clients", SAMPLES / "clients.csv")
    assert batch.status == "imported", batch.report
    assert Client.objects.filter(manager__isnull=True).count() == 6
    assert {w["line"] for w in batch.report["warnings"] if w["column"] == "manager_code"} == {
        2, 3, 4, 5, 6, 7}


def test_chinese_gb18030_clients_file_updates_nothing_after_the_english_one(sample_clients):
    batch = run("clients", SAMPLES / "clients_cn_gb18030.csv")
    assert batch.status == "imported", batch.report
    assert batch.encoding == "gb18030"
    assert (batch.created, batch.updated, batch.unchanged) == (0, 0, 6)
    assert Account.objects.count() == 6


@pytest.mark.parametrize("shape", TRADE_SHAPES)
def test_each_trades_shape_loads_51_trades(sample_clients, shape):
    batch = run("trades", SAMPLES / shape)
    assert batch.status == "imported", batch.report["errors"]
    assert (batch.rows, batch.created, batch.unchanged) == (51, 51, 0)
    assert Trade.objects.count() == 51


def test_all_trades_shapes_store_the_same_trades(sample_clients):
    run("trades", SAMPLES / "trades_canonical.csv")
    reference = stored_trades()
    for shape in TRADE_SHAPES[1:]:
        Trade.objects.all().delete()
        batch = run("trades", SAMPLES / shape)
        assert batch.status == "imported", batch.report["errors"]
        assert stored_trades() == reference, shape


def test_a_second_trades_shape_adds_nothing(sample_clients):
    run("trades", SAMPLES / "trades_canonical.csv")
    for shape in TRADE_SHAPES[1:]:
        batch = run("trades", SAMPLES / shape)
        assert batch.status == "imported"
        assert (batch.created, batch.unchanged) == (0, 51), shape
    assert Trade.objects.count() == 51


def test_sample_facts(sample_clients):
    run("trades", SAMPLES / "trades_statement_gb18030.csv")
    both = Trade.objects.filter(trade_id="00100004").order_by("account__account_id")
    assert [(t.account.account_id, t.direction) for t in both] == [
        ("80010001", "sell"), ("80010002", "buy")]
    forced = Trade.objects.get(account__account_id="80010003", offset="forced_close")
    assert forced.trading_day == dt.date(2026, 11, 18)
    assert forced.exchange_fee == Decimal("60.00") and forced.exchange_fee_computed is True
    night = Trade.objects.get(account__account_id="80010003", trade_id="00100248")
    assert night.trade_date == dt.date(2026, 11, 13)
    assert night.trading_day == dt.date(2026, 11, 16)
    assert Trade.objects.filter(account__account_id="80010004", hedge_flag="hedge").count() == 9
    assert Trade.objects.get(account__account_id="80010005", hedge_flag="arbitrage").product_code == "i"
    assert set(Trade.objects.filter(account__account_id="80010006").values_list("exchange", flat=True)) == {"CFFEX"}
    assert Trade.objects.get(account__account_id="80010001", trade_id="00100004").line == 2


@pytest.mark.parametrize("shape", ["snapshots_canonical.csv", "snapshots_statement_gb18030.csv"])
def test_each_snapshots_shape_loads(sample_clients, shape):
    batch = run("snapshots", SAMPLES / shape)
    assert batch.status == "imported", batch.report["errors"]
    assert (batch.rows, batch.created) == (18, 18)
    call = AccountSnapshot.objects.get(account__account_id="80010002", trading_day="2026-11-16")
    assert call.margin_call == Decimal("6876.84")
    assert call.risk_degree == Decimal("1.080000")
    deposit = AccountSnapshot.objects.get(account__account_id="80010002", trading_day="2026-11-17")
    assert (deposit.deposit, deposit.withdrawal) == (Decimal("200000.00"), Decimal("0.00"))


def test_the_second_snapshots_shape_adds_nothing(sample_clients):
    run("snapshots", SAMPLES / "snapshots_canonical.csv")
    batch = run("snapshots", SAMPLES / "snapshots_statement_gb18030.csv")
    assert batch.status == "imported", batch.report["errors"]
    assert (batch.created, batch.updated, batch.unchanged) == (0, 0, 18)


FULL = (*COMPARED, "trade_date", "trade_time", "close_pnl", "premium", "order_sys_id",
        "exchange_fee_computed", "line")


@pytest.mark.parametrize("shape", TRADE_SHAPES)
def test_on_postgresql_valid_trades_take_the_raw_copy_path(sample_clients, shape):
    """The SQL conversion stores exactly what the Python parser stores, column by column."""
    from django.db import connection

    from clients.importers import kinds
    from clients.models import ImportBatch

    if connection.vendor != "postgresql":
        pytest.skip("the raw COPY path is PostgreSQL only")
    batch = run("trades", SAMPLES / shape)
    assert batch.report["extra"]["trades_path"] == "postgres_direct"
    raw = sorted(Trade.objects.values_list(*FULL))
    Trade.objects.all().delete()
    ImportBatch.objects.filter(pk=batch.pk).update(status="refused")  # allow a re-import
    kinds.USE_RAW_COPY = False
    try:
        python = run("trades", SAMPLES / shape)
    finally:
        kinds.USE_RAW_COPY = True
    assert python.report["extra"]["trades_path"] == "python"
    assert sorted(Trade.objects.values_list(*FULL)) == raw


def test_on_postgresql_a_bad_file_falls_back_and_names_its_errors(sample_clients):
    from django.db import connection

    from .conftest import BAD

    if connection.vendor != "postgresql":
        pytest.skip("the raw COPY path is PostgreSQL only")
    batch = run("trades", BAD / "trades_many_errors.csv")
    assert batch.status == "refused" and batch.errors == 4
    assert [e["line"] for e in batch.report["errors"]] == [2, 4, 5, 6]
