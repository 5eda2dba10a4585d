"""The bad-file corpus: each file is refused naming its line, column and reason,
and the database is exactly as before."""

from __future__ import annotations

import pytest

from clients.importers.base import REGISTRY
from clients.models import (
    Account,
    AccountSnapshot,
    Client,
    DailyAccountActivity,
    ImportBatch,
    Trade,
)

from .conftest import BAD, SAMPLES, run


def table_counts():
    return {model.__name__: model.objects.count()
            for model in (Client, Account, Trade, AccountSnapshot, DailyAccountActivity)}


def refused(kind, name):
    before = table_counts()
    batch = run(kind, BAD / name)
    assert batch.status == "refused"
    assert table_counts() == before, "a refused file must change nothing"
    assert batch.created == batch.updated == batch.unchanged == 0
    return [(e["line"], e["column"], e["reason"]) for e in batch.report["errors"]]


def test_wrong_encoding_is_refused_with_a_clear_reason(sample_clients):
    assert refused("trades", "trades_wrong_encoding_utf16.csv") == [
        (1, "", "the file is neither UTF-8 nor GB18030/GBK text; save it as UTF-8 CSV and try again")
    ]


def test_missing_required_column_is_refused_before_any_row(sample_clients):
    batch = run("trades", BAD / "trades_missing_required_column.csv")
    assert batch.status == "refused" and batch.rows == 0
    assert [(e["line"], e["column"], e["reason"]) for e in batch.report["errors"]] == [
        (1, "volume", "required column is missing from the header")]


def test_bad_date(sample_clients):
    assert refused("trades", "trades_bad_date.csv") == [
        (3, "trading_day", "not a calendar date")]


def test_negative_volume(sample_clients):
    assert refused("trades", "trades_negative_volume.csv") == [
        (4, "volume", "must be a whole number greater than zero")]


def test_unknown_account(sample_clients):
    assert refused("trades", "trades_unknown_account.csv") == [
        (3, "account_id", "unknown account: load the clients file with this account first")]


def test_unknown_product(sample_clients):
    assert refused("trades", "trades_unknown_product.csv") == [
        (2, "instrument", "unknown product: not in the product reference table")]


def test_duplicate_natural_key_inside_the_file(sample_clients):
    assert refused("trades", "trades_duplicate_key.csv") == [
        (5, "trade_id", "the same trade (account, trading day, exchange, trade id, direction) "
                        "is already on line 2")]


def test_every_error_of_a_file_is_listed_not_only_the_first(sample_clients):
    assert refused("trades", "trades_many_errors.csv") == [
        (2, "trading_day", "not a calendar date"),
        (4, "volume", "must be a whole number greater than zero"),
        (5, "account_id", "unknown account: load the clients file with this account first"),
        (6, "offset", "unknown open/close flag (use 0–6, O/C/CT/CY/F or 开/平/平今/平昨/强平)"),
    ]


def test_balance_identity_broken(sample_clients):
    errors = refused("snapshots", "snapshots_balance_identity_broken.csv")
    assert [(line, column) for line, column, _reason in errors] == [(3, "equity")]
    assert errors[0][2].startswith("equity does not add up")
    assert errors[0][2].endswith("= 85960.45")


def test_overlapping_broker_links(sample_clients):
    if "broker_links" not in REGISTRY:
        pytest.skip("the 'broker_links' kind is not registered (brokers/importers.py)")
    brokers = run("brokers", SAMPLES / "brokers.csv")
    assert brokers.status == "imported", brokers.report["errors"]
    errors = refused("broker_links", "broker_links_overlapping.csv")
    assert [line for line, _column, _reason in errors] == [4]


def test_reasons_come_in_the_users_language(sample_clients):
    from django.utils import translation

    with translation.override("zh-hans"):
        batch = run("trades", BAD / "trades_negative_volume.csv")
    assert batch.report["errors"][0]["reason"] == "必须是大于零的整数"


def test_refused_file_is_recorded_with_its_report(sample_clients):
    run("trades", BAD / "trades_bad_date.csv")
    batch = ImportBatch.objects.filter(kind="trades").latest("pk")
    assert (batch.status, batch.rows, batch.errors) == ("refused", 5, 1)
    assert batch.sha256 and batch.finished_at is not None
