"""manage.py import_file: errors as `line L, column C: reason`, then one JSON line."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command

from clients.models import Trade

from .conftest import BAD, SAMPLES


def command(*args):
    out = StringIO()
    code = 0
    try:
        call_command("import_file", *args, stdout=out)
    except SystemExit as exc:
        code = exc.code
    lines = out.getvalue().strip().splitlines()
    return code, lines[:-1], json.loads(lines[-1])


def test_import_prints_the_summary_and_exits_0(sample_clients):
    code, errors, summary = command("--kind", "trades", str(SAMPLES / "trades_ctp.csv"))
    assert code == 0 and errors == []
    assert {k: summary[k] for k in ("status", "kind", "rows", "created", "updated", "unchanged",
                                    "errors")} == {
        "status": "imported", "kind": "trades", "rows": 51, "created": 51, "updated": 0,
        "unchanged": 0, "errors": 0}


def test_already_imported_exits_0(sample_clients):
    command("--kind", "trades", str(SAMPLES / "trades_ctp.csv"))
    code, _errors, summary = command("--kind", "trades", str(SAMPLES / "trades_ctp.csv"))
    assert (code, summary["status"]) == (0, "already_imported")


def test_refused_prints_each_error_and_exits_1(sample_clients):
    code, errors, summary = command("--kind", "trades", str(BAD / "trades_many_errors.csv"))
    assert code == 1
    assert summary["status"] == "refused" and summary["errors"] == 4
    assert errors == [
        "line 2, column trading_day: not a calendar date",
        "line 4, column volume: must be a whole number greater than zero",
        "line 5, column account_id: unknown account: load the clients file with this account first",
        "line 6, column offset: unknown open/close flag (use 0–6, O/C/CT/CY/F or 开/平/平今/平昨/强平)",
    ]
    assert Trade.objects.count() == 0


def test_correction_flag_is_passed(sample_clients, tmp_path):
    from .test_idempotency_and_corrections import write_snapshot_file

    command("--kind", "snapshots", str(SAMPLES / "snapshots_canonical.csv"))
    path = write_snapshot_file(tmp_path / "fix.csv", "5")
    code, _errors, summary = command("--kind", "snapshots", str(path))
    assert (code, summary["status"]) == (1, "refused")
    code, _errors, summary = command("--kind", "snapshots", str(path), "--correction")
    assert (code, summary["status"], summary["updated"]) == (0, "imported", 1)


def test_kind_choices_come_from_the_registry(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="invalid choice"):
        call_command("import_file", "--kind", "nonsense", "x.csv")
