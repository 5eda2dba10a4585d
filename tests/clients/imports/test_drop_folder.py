"""The drop folder: kind from the file name, dependency order, done/ and failed/ with
reports beside the files; once in-process and once by a real worker against Redis."""

from __future__ import annotations

import json
import shutil

import pytest

from clients.importers.drop import import_drop_folder, kind_of
from clients.models import ImportBatch, Trade

from .conftest import BAD, SAMPLES


def fill(folder):
    shutil.copy(SAMPLES / "trades_ctp.csv", folder / "trades_20261118.csv")
    shutil.copy(SAMPLES / "snapshots_canonical.csv", folder / "snapshots_20261118.csv")
    shutil.copy(SAMPLES / "clients.csv", folder / "clients_2026.csv")
    shutil.copy(SAMPLES / "branches.csv", folder / "branches.csv")
    shutil.copy(BAD / "trades_bad_date.csv", folder / "trades_broken.csv")
    (folder / "notes.csv").write_text("hello\n", encoding="utf-8")


def check_outcome(folder, batch_ids):
    batches = [ImportBatch.objects.get(pk=pk) for pk in batch_ids]
    assert [(b.kind, b.file_name, b.status) for b in batches] == [
        ("branches", "branches.csv", "imported"),
        ("clients", "clients_2026.csv", "imported"),
        ("snapshots", "snapshots_20261118.csv", "imported"),
        ("trades", "trades_20261118.csv", "imported"),
        ("trades", "trades_broken.csv", "refused"),
    ]
    assert {b.source for b in batches} == {"drop_folder"}
    assert sorted(p.name for p in folder.glob("*.csv")) == []
    assert sorted(p.name for p in (folder / "done").iterdir()) == sorted([
        "branches.csv", "branches.csv.report.json", "clients_2026.csv",
        "clients_2026.csv.report.json", "snapshots_20261118.csv",
        "snapshots_20261118.csv.report.json", "trades_20261118.csv",
        "trades_20261118.csv.report.json"])
    assert sorted(p.name for p in (folder / "failed").iterdir()) == sorted([
        "notes.csv", "notes.csv.report.json", "trades_broken.csv",
        "trades_broken.csv.report.json"])
    report = json.loads((folder / "failed" / "trades_broken.csv.report.json").read_text())
    assert report["status"] == "refused"
    assert report["report"]["errors"][0]["line"] == 3
    assert Trade.objects.count() == 51


def test_kind_comes_from_the_file_name():
    assert kind_of("trades_20261116.csv") == "trades"
    assert kind_of("Snapshots-2026.csv") == "snapshots"
    assert kind_of("branches.csv") == "branches"
    assert kind_of("whatever.csv") is None


def test_drop_folder_in_process(staff_codes, tmp_path):
    fill(tmp_path)
    check_outcome(tmp_path, import_drop_folder(drop_dir=tmp_path))
    assert import_drop_folder(drop_dir=tmp_path) == []  # nothing left waiting


@pytest.mark.worker
def test_drop_folder_task_by_a_real_worker(celery_worker_factory, staff_codes, tmp_path):
    from clients.tasks import import_drop_folder_task

    celery_worker_factory("imports")
    fill(tmp_path)
    batch_ids = import_drop_folder_task.delay(str(tmp_path)).get(timeout=120)
    check_outcome(tmp_path, batch_ids)
