"""The drop folder: files waiting in IMPORT_DROP_DIR are imported in dependency order
and moved to done/ or failed/, each with its report written beside it."""

from __future__ import annotations

import fcntl
import json
import logging
import shutil
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from clients.models.activity import ImportStatus

from .base import REGISTRY

logger = logging.getLogger(__name__)

# Masters before the rows that refer to them.
KIND_ORDER = ("branches", "clients", "brokers", "broker_links", "schemes", "assessments",
              "snapshots", "trades")


def kind_of(file_name: str) -> str | None:
    """`trades_20261116.csv` → trades; the longest registered kind the name starts with."""
    name = file_name.lower()
    matches = [kind for kind in REGISTRY if name.startswith(kind)]
    return max(matches, key=len) if matches else None


def _order(path: Path) -> tuple:
    kind = kind_of(path.name)
    rank = KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER)
    return (rank, path.name)


def _move(path: Path, folder: Path, report: dict) -> Path:
    folder.mkdir(exist_ok=True)
    target = folder / path.name
    if target.exists():  # the same name came again: keep both
        stamp = timezone.now().strftime("%Y%m%dT%H%M%S%f")
        target = folder / f"{path.stem}.{stamp}{path.suffix}"
    shutil.move(str(path), target)
    report_path = target.with_name(target.name + ".report.json")
    report_path.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    return target


def import_drop_folder(*, drop_dir=None) -> list[int]:
    """Import every *.csv waiting in the folder; returns the batch ids, in order.

    A lock file stops two runs (beat + a manual run) from taking the same files.
    """
    from .pipeline import import_file

    folder = Path(drop_dir or settings.IMPORT_DROP_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    lock = (folder / ".lock").open("w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        logger.info("drop folder %s is being imported by another run", folder)
        lock.close()
        return []
    batch_ids: list[int] = []
    try:
        files = sorted((p for p in folder.iterdir() if p.is_file() and p.suffix.lower() == ".csv"),
                       key=_order)
        for path in files:
            kind = kind_of(path.name)
            if kind is None:
                _move(path, folder / "failed", {
                    "status": "refused", "file_name": path.name,
                    "reason": "the file name does not start with a known kind: "
                              + ", ".join(KIND_ORDER)})
                continue
            try:
                batch = import_file(kind=kind, path_or_file=path, file_name=path.name,
                                    source="drop_folder")
            except Exception as exc:  # recorded on the batch; the folder moves on
                logger.exception("drop folder import of %s failed", path)
                _move(path, folder / "failed", {"status": "failed", "file_name": path.name,
                                                "reason": f"{type(exc).__name__}: {exc}"})
                continue
            batch_ids.append(batch.pk)
            ok = batch.status in (ImportStatus.IMPORTED, ImportStatus.ALREADY_IMPORTED)
            _move(path, folder / ("done" if ok else "failed"), batch_report(batch))
    finally:
        fcntl.flock(lock, fcntl.LOCK_UN)
        lock.close()
    return batch_ids


def batch_report(batch) -> dict:
    return {
        "batch": batch.pk, "kind": batch.kind, "file_name": batch.file_name,
        "status": batch.status, "encoding": batch.encoding, "rows": batch.rows,
        "created": batch.created, "updated": batch.updated, "unchanged": batch.unchanged,
        "errors": batch.errors, "report": batch.report,
        "started_at": batch.started_at.isoformat() if batch.started_at else None,
        "finished_at": batch.finished_at.isoformat() if batch.finished_at else None,
    }
