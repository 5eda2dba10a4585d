"""Snapshots stream through a staging table in chunks: memory stays flat, and the
file is still accepted or refused as a whole, every error named."""

from __future__ import annotations

from decimal import Decimal

import pytest

from clients.importers import copy as bulk
from clients.importers import pipeline
from clients.models import AccountSnapshot, DailyAccountActivity, SnapshotCorrection

from .conftest import SAMPLES, run

CHUNK = 4


@pytest.fixture
def chunks(monkeypatch):
    """Stage in chunks of CHUNK rows; returns the size of every chunk written."""
    monkeypatch.setattr(bulk, "FLUSH_ROWS", CHUNK)
    sizes: list[int] = []
    flush = bulk.Stager.flush

    def counting_flush(self):
        if self.buffer:
            sizes.append(len(self.buffer))
        flush(self)

    monkeypatch.setattr(bulk.Stager, "flush", counting_flush)
    return sizes


def canonical_lines() -> list[str]:
    return (SAMPLES / "snapshots_canonical.csv").read_text(encoding="utf-8").splitlines()


def write(path, lines: list[str]):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_valid_multi_chunk_file_loads_every_row(sample_clients, chunks):
    batch = run("snapshots", SAMPLES / "snapshots_canonical.csv")
    assert batch.status == "imported", batch.report
    assert (batch.rows, batch.created, batch.updated, batch.unchanged) == (18, 18, 0, 0)
    assert chunks == [4, 4, 4, 4, 2]  # never more than CHUNK rows held
    assert set(batch.report["timings"]) == {"parse", "validate", "load"}
    assert sorted(AccountSnapshot.objects.filter(batch=batch).values_list("line", flat=True)) \
        == list(range(2, 20))
    call = AccountSnapshot.objects.get(account__account_id="80010002", trading_day="2026-11-16")
    assert (call.equity, call.margin_call, call.risk_degree) == (
        Decimal("85960.45"), Decimal("6876.84"), Decimal("1.080000"))


def test_an_error_in_the_last_chunk_refuses_the_whole_file(sample_clients, chunks, tmp_path):
    lines = canonical_lines()
    # Last row (line 19, in the fifth chunk): equity off by 1.00.
    lines[-1] = lines[-1].replace(",512817.03,0.00,512817.03,", ",512818.03,0.00,512817.03,")
    batch = run("snapshots", write(tmp_path / "s.csv", lines))
    assert batch.status == "refused"
    assert len(chunks) == 5
    assert [(e["line"], e["column"], e["value"]) for e in batch.report["errors"]] == [
        (19, "equity", "512818.03")]
    assert batch.report["errors"][0]["reason"].endswith("= 512817.03")
    assert batch.report["warnings"] == []
    assert (batch.errors, batch.created, batch.updated, batch.unchanged) == (1, 0, 0, 0)
    assert not AccountSnapshot.objects.exists()


def test_cross_chunk_errors_are_named_with_their_lines(sample_clients, chunks, tmp_path):
    lines = canonical_lines()
    lines.append(lines[1].replace(",1249432.91,", ",1249433.91,"))  # line 20 repeats line 2
    lines.append(lines[2].replace("80010002", "99999999"))  # line 21: unknown account
    lines.append(lines[3].replace("2026-11-16", "2026-11-31"))  # line 22: bad cell
    batch = run("snapshots", write(tmp_path / "s.csv", lines))
    assert batch.status == "refused"
    assert [(e["line"], e["column"], e["value"], e["reason"])
            for e in batch.report["errors"]] == [
        (20, "equity", "1249433.91",
         "equity does not add up: balance b/f + deposits − withdrawals + other cash + realised "
         "P/L + MTM P/L + net premium − fee = 1249432.91"),
        (20, "trading_day", "2026-11-16", "duplicate of line 2 (same account_id, trading_day)"),
        (21, "account_id", "99999999",
         "unknown account: load the clients file with this account first"),
        (22, "trading_day", "2026-11-31", "not a calendar date"),
    ]
    assert (batch.rows, batch.errors) == (21, 4)
    assert not AccountSnapshot.objects.exists()


def test_the_error_count_stays_exact_beyond_the_reported_errors(sample_clients, chunks,
                                                               tmp_path, monkeypatch):
    monkeypatch.setattr(pipeline, "MAX_REPORTED_ERRORS", 2)
    lines = canonical_lines()
    lines[1:] = [line.replace("8001000", "9001000") for line in lines[1:]]  # all unknown
    batch = run("snapshots", write(tmp_path / "s.csv", lines))
    assert batch.status == "refused"
    assert batch.errors == 18
    assert [e["line"] for e in batch.report["errors"]] == [2, 3]


def test_a_multi_chunk_correction_replaces_only_changed_days(sample_clients, chunks, tmp_path):
    original = run("snapshots", SAMPLES / "snapshots_canonical.csv")
    lines = canonical_lines()
    # 80010002 on 2026-11-16 (line 3): position P/L and equity +100; margin 0 on the last row.
    lines[2] = lines[2].replace(",151.02,206.57,85960.45,", ",251.02,206.57,86060.45,")
    lines[-1] = lines[-1].replace(",512817.03,0.00,512817.03,", ",512817.03,10.00,512817.03,")
    path = write(tmp_path / "s.csv", lines)

    refused = run("snapshots", path)
    assert [(e["line"], e["column"]) for e in refused.report["errors"]] == [
        (3, "trading_day"), (19, "trading_day")]

    batch = run("snapshots", path, correction=True)
    assert batch.status == "imported", batch.report
    assert (batch.created, batch.updated, batch.unchanged) == (0, 2, 16)
    assert batch.report["extra"] == {"replaced_snapshots": 2}
    snap = AccountSnapshot.objects.get(account__account_id="80010002", trading_day="2026-11-16")
    assert (snap.equity, snap.batch_id, snap.line) == (Decimal("86060.45"), batch.pk, 3)
    corrections = {c.trading_day.isoformat() + c.account.account_id: c
                   for c in SnapshotCorrection.objects.select_related("account")}
    assert set(corrections) == {"2026-11-1680010002", "2026-11-1880010006"}
    previous = corrections["2026-11-1680010002"].previous
    assert previous["equity"] == "85960.45" and previous["line"] == 3
    assert previous["available"] == "-6876.84" and previous["risk_degree"] == "1.080000"
    assert corrections["2026-11-1880010006"].replaced_batch_id == original.pk
    assert AccountSnapshot.objects.count() == 18
    assert not DailyAccountActivity.objects.exists()  # no trades: no activity rows
