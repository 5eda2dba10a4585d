"""The same file twice, the same rows in another file, and correction imports."""

from __future__ import annotations

import shutil
from decimal import Decimal

from clients.models import AccountSnapshot, ImportBatch, SnapshotCorrection, Trade

from .conftest import SAMPLES, run


def test_the_same_file_twice_is_already_imported_and_changes_nothing(sample_clients):
    first = run("trades", SAMPLES / "trades_canonical.csv")
    second = run("trades", SAMPLES / "trades_canonical.csv")
    assert second.status == "already_imported"
    assert second.report["already_imported_as"] == first.pk
    assert (second.created, second.updated, second.unchanged) == (0, 0, 0)
    assert Trade.objects.count() == 51
    assert set(Trade.objects.values_list("batch_id", flat=True)) == {first.pk}


def test_same_content_under_another_kind_is_not_already_imported(sample_clients):
    run("branches", SAMPLES / "branches.csv")
    assert ImportBatch.objects.filter(kind="branches", status="already_imported").count() == 1


def test_a_renamed_copy_is_recognised_by_its_content(sample_clients, tmp_path):
    run("snapshots", SAMPLES / "snapshots_canonical.csv")
    copy = tmp_path / "snapshots_again.csv"
    shutil.copy(SAMPLES / "snapshots_canonical.csv", copy)
    assert run("snapshots", copy).status == "already_imported"


def write_snapshot_file(path, equity_delta: str = "0"):
    """The canonical 2026-11-16 row of 80010002 with equity and P/L moved by delta."""
    delta = Decimal(equity_delta)
    path.write_text(
        "account_id,trading_day,pre_balance,deposit,withdrawal,close_pnl,position_pnl,fee,"
        "equity,margin,available,margin_call\n"
        f"80010002,2026-11-16,86000.00,0.00,0.00,16.00,{Decimal('151.02') + delta},206.57,"
        f"{Decimal('85960.45') + delta},92837.29,-6876.84,6876.84\n",
        encoding="utf-8",
    )
    return path


def test_a_changed_day_without_correction_is_refused(sample_clients, tmp_path):
    run("snapshots", SAMPLES / "snapshots_canonical.csv")
    batch = run("snapshots", write_snapshot_file(tmp_path / "s.csv", "100"))
    assert batch.status == "refused"
    assert [(e["line"], e["column"], e["reason"]) for e in batch.report["errors"]] == [
        (2, "trading_day",
         "a snapshot for this account is already imported for that day, use a correction import")]
    snap = AccountSnapshot.objects.get(account__account_id="80010002", trading_day="2026-11-16")
    assert snap.equity == Decimal("85960.45")


def test_a_correction_replaces_the_day_and_records_what_it_replaced(sample_clients, tmp_path):
    original = run("snapshots", SAMPLES / "snapshots_canonical.csv")
    batch = run("snapshots", write_snapshot_file(tmp_path / "s.csv", "100"), correction=True)
    assert batch.status == "imported", batch.report
    assert (batch.created, batch.updated, batch.unchanged) == (0, 1, 0)
    assert batch.report["extra"] == {"replaced_snapshots": 1}
    snap = AccountSnapshot.objects.get(account__account_id="80010002", trading_day="2026-11-16")
    assert (snap.equity, snap.position_pnl) == (Decimal("86060.45"), Decimal("251.02"))
    assert (snap.batch_id, snap.line) == (batch.pk, 2)
    correction = SnapshotCorrection.objects.get()
    assert correction.batch_id == batch.pk and correction.replaced_batch_id == original.pk
    assert correction.previous["equity"] == "85960.45"
    assert correction.previous["position_pnl"] == "151.02"
    assert correction.previous["line"] == 3
    assert AccountSnapshot.objects.count() == 18


def test_a_correction_with_identical_values_changes_nothing(sample_clients, tmp_path):
    run("snapshots", SAMPLES / "snapshots_canonical.csv")
    batch = run("snapshots", write_snapshot_file(tmp_path / "s.csv"), correction=True)
    assert (batch.status, batch.updated, batch.unchanged) == ("imported", 0, 1)
    assert not SnapshotCorrection.objects.exists()


def test_every_stored_row_keeps_batch_and_line(sample_clients):
    batch = run("snapshots", SAMPLES / "snapshots_statement_gb18030.csv")
    lines = sorted(AccountSnapshot.objects.filter(batch=batch).values_list("line", flat=True))
    assert lines == list(range(2, 20))


def test_timings_and_counts_are_recorded(sample_clients):
    batch = run("trades", SAMPLES / "trades_ctp.csv")
    assert set(batch.report["timings"]) == {"parse", "validate", "load"}
    assert batch.encoding == "utf-8" and len(batch.sha256) == 64
    assert batch.duration_seconds is not None and batch.duration_seconds >= 0


def test_unknown_columns_are_listed_in_the_report(sample_clients):
    batch = run("trades", SAMPLES / "trades_statement_gb18030.csv")
    assert batch.report["ignored_columns"] == ["品种"]
