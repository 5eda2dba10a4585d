"""The import pipeline: one service, `import_file`, for every door (page, API,
command, drop folder).

bytes → sha256 + encoding → header matched by aliases → rows parsed cell by cell
(every error kept) → kind.validate → kind.load in one transaction → batch report
→ AFTER_IMPORT hooks once committed. Streaming kinds (trades, snapshots) take over
after the header and read the rows once (see kinds.TradesKind, kinds.SnapshotsKind and
copy.py).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import logging
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clients.models.activity import ImportBatch, ImportStatus

from .base import AFTER_IMPORT, REGISTRY, Column, ImportRefused, LoadCounts, Row, RowError

logger = logging.getLogger(__name__)

# The report keeps this many errors in full; the count is always exact.
MAX_REPORTED_ERRORS = 5000
CHUNK = 1 << 20
# The files we read are small text tables; csv's default 128 KiB cell limit is plenty
# for them but an exotic statement line may be longer.
csv.field_size_limit(1 << 24)


class EncodingRefused(Exception):
    pass


# --- encodings ----------------------------------------------------------------------


def _open_binary(path_or_file):
    """(binary file, close_after) for a path, a Django UploadedFile or a binary file."""
    if isinstance(path_or_file, str | Path):
        return open(path_or_file, "rb"), True  # noqa: SIM115
    inner = getattr(path_or_file, "file", None)
    handle = inner if inner is not None and hasattr(inner, "read") else path_or_file
    handle.seek(0)
    return handle, False


def fingerprint(handle) -> tuple[str, str]:
    """(sha256 hex, encoding) in one pass: utf-8-sig, utf-8 or gb18030."""
    digest = hashlib.sha256()
    head = handle.read(CHUNK)
    if isinstance(head, str):
        raise EncodingRefused(_("the file must be read as bytes"))
    bom = head.startswith(codecs.BOM_UTF8)
    utf8 = codecs.getincrementaldecoder("utf-8")()
    utf8_ok = True
    chunk = head
    while chunk:
        digest.update(chunk)
        if utf8_ok:
            try:
                utf8.decode(chunk)
            except UnicodeDecodeError:
                utf8_ok = False
        chunk = handle.read(CHUNK)
    if utf8_ok:
        try:
            utf8.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8_ok = False
    if utf8_ok:
        handle.seek(0)
        return digest.hexdigest(), "utf-8-sig" if bom else "utf-8"
    # Not UTF-8: a second pass decides whether it is GB18030 (a superset of GBK).
    if _valid_gb18030(handle):
        return digest.hexdigest(), "gb18030"
    raise EncodingRefused(
        _("the file is neither UTF-8 nor GB18030/GBK text; save it as UTF-8 CSV and try again")
    )


def _valid_gb18030(handle) -> bool:
    """Decode the whole file as GB18030, then rewind."""
    handle.seek(0)
    decoder = codecs.getincrementaldecoder("gb18030")()
    ok = True
    try:
        while chunk := handle.read(CHUNK):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        ok = False
    handle.seek(0)
    return ok


# --- header -----------------------------------------------------------------------------

_SPACES = re.compile(r"[\s\u3000\ufeff]+")
_CJK_THEN_LATIN = re.compile(r"^([^\x00-\x7f]+)([\x00-\x7f]*)$")


def normalise_header(name: str) -> str:
    return _SPACES.sub("", name).casefold()


def header_candidates(name: str) -> list[str]:
    """`手 续 费 Commission` → ["手续费commission", "手续费", "commission"]."""
    full = normalise_header(name)
    out = [full]
    match = _CJK_THEN_LATIN.match(full)
    if match and match.group(2):
        out += [match.group(1), match.group(2)]
    return out


def alias_map(columns) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for column in columns:
        for label in (column.name, *column.aliases):
            mapping.setdefault(normalise_header(label), column.name)
    return mapping


@dataclass
class ParsedFile:
    """The header matched against the kind's columns, and a one-pass row reader."""

    kind: Any
    encoding: str
    text: Any  # text stream positioned after the header
    reader: Any
    plan: list[tuple[Column, int | None]]
    present: frozenset
    ignored_columns: list[str]
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    rows_read: int = 0
    timings: dict = field(default_factory=dict)
    header_width: int = 0
    header_line: int = 1

    def rewind(self) -> None:
        """Start reading the rows again (a fast path gave up): fresh reader, no errors."""
        handle = self.text.detach()
        handle.seek(0)
        fresh = read_header(self.kind, handle, self.encoding)
        self.text, self.reader = fresh.text, fresh.reader
        self.errors, self.error_count, self.rows_read = [], 0, 0

    def add_error(self, error: RowError) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(error)

    def add_errors(self, errors) -> None:
        for error in errors:
            self.add_error(error)

    def rows(self) -> Iterator[Row]:
        """Parse each row; cells in error are reported, valid rows are yielded."""
        required = _("a value is required")
        present = self.present
        reader = self.reader
        # Hot loop (a million rows): plain tuples, absent columns filled once per row.
        cells = [(c.name, i, c.parse, c.required, c.default)
                 for c, i in self.plan if i is not None]
        absent = {c.name: c.default for c, i in self.plan if i is None}
        needed = max((i for _n, i, *_rest in cells), default=-1) + 1
        for raw in reader:
            if len(raw) < needed:
                if not any(cell.strip() for cell in raw):
                    continue
                raw = raw + [""] * (needed - len(raw))
            line = reader.line_num
            values: dict[str, Any] = dict(absent)
            bad = False
            empty = True
            for name, index, parse, is_required, default in cells:
                cell = raw[index].strip()
                if not cell or cell == "--":
                    if is_required:
                        bad = True
                    values[name] = default
                    continue
                empty = False
                try:
                    values[name] = parse(cell)
                except ValueError as exc:
                    self.add_error(RowError(line, name, cell, _reason(exc)))
                    bad = True
            if empty and not any(cell.strip() for cell in raw):
                continue  # a blank line
            self.rows_read += 1
            if bad:
                for name, index, _parse, is_required, _default in cells:
                    cell = raw[index].strip()
                    if is_required and (not cell or cell == "--"):
                        self.add_error(RowError(line, name, cell, required))
                continue
            yield Row(line, values, present)


def _reason(exc: ValueError):
    return exc.args[0] if exc.args else _("invalid value")


def read_header(kind, handle, encoding: str) -> ParsedFile:
    text = io.TextIOWrapper(handle, encoding=encoding, newline="")
    reader = csv.reader(text)
    header: list[str] | None = None
    for raw in reader:
        if raw and any(cell.strip() for cell in raw):
            header = raw
            break
    if header is None:
        raise ImportRefused([RowError(1, "", "", _("the file is empty: a header row is required"))])
    aliases = alias_map(kind.columns)
    positions: dict[str, int] = {}
    ignored: list[str] = []
    for index, label in enumerate(header):
        if not label.strip():
            continue
        canonical = next(
            (aliases[c] for c in header_candidates(label) if c in aliases), None
        )
        if canonical is None or canonical in positions:
            ignored.append(label.strip())
            continue
        positions[canonical] = index
    header_line = reader.line_num
    missing = [c.name for c in kind.columns if c.required and c.name not in positions]
    if missing:
        raise ImportRefused(
            [RowError(header_line, name, "", _("required column is missing from the header"))
             for name in missing]
        )
    plan = [(column, positions.get(column.name)) for column in kind.columns]
    return ParsedFile(
        kind=kind, encoding=encoding, text=text, reader=reader, plan=plan,
        present=frozenset(positions), ignored_columns=ignored,
        header_width=len(header), header_line=header_line,
    )


# --- the service -------------------------------------------------------------------------


def import_file(
    *,
    kind: str,
    path_or_file,
    file_name: str,
    correction: bool = False,
    source: str = "command",
    user=None,
    batch: ImportBatch | None = None,
) -> ImportBatch:
    """Import one file of `kind`; returns its ImportBatch (status imported,
    already_imported, refused or failed) with counts and report.

    `batch` lets a door create the record first (upload page: the page polls it
    while a task runs the import).
    """
    if kind not in REGISTRY:
        raise ValueError(f"unknown import kind {kind!r}; known: {', '.join(sorted(REGISTRY))}")
    import_kind = REGISTRY[kind]
    if batch is None:
        batch = ImportBatch(kind=kind, file_name=file_name, source=source, correction=correction,
                            uploaded_by=user if getattr(user, "pk", None) else None)
    batch.status = ImportStatus.RUNNING
    batch.started_at = timezone.now()
    batch.save()

    handle, close_after = _open_binary(path_or_file)
    try:
        return _run(import_kind, batch, handle, correction)
    except Exception as exc:  # a bug or a lost database: record it, then let it surface
        logger.exception("import batch %s failed", batch.pk)
        batch.status = ImportStatus.FAILED
        batch.report = {**batch.report, "failure": f"{type(exc).__name__}: {exc}"}
        batch.finished_at = timezone.now()
        batch.save()
        raise
    finally:
        if close_after:
            handle.close()


def _finish(batch: ImportBatch, status: str, **fields) -> ImportBatch:
    for name, value in fields.items():
        setattr(batch, name, value)
    batch.status = status
    batch.finished_at = timezone.now()
    batch.save()
    return batch


def _refuse(batch, parsed: ParsedFile | None, errors, error_count=None, **report) -> ImportBatch:
    errors = list(errors)
    shown = [e.as_dict() for e in errors[:MAX_REPORTED_ERRORS]]
    report = {
        **batch.report,
        "errors": shown,
        "ignored_columns": parsed.ignored_columns if parsed else [],
        "timings": parsed.timings if parsed else {},
        **report,
    }
    return _finish(
        batch, ImportStatus.REFUSED, rows=parsed.rows_read if parsed else 0, created=0,
        updated=0, unchanged=0, errors=error_count if error_count is not None else len(errors),
        report=report,
    )


def _run(import_kind, batch: ImportBatch, handle, correction: bool) -> ImportBatch:
    try:
        sha256, encoding = fingerprint(handle)
    except EncodingRefused as exc:
        return _refuse(batch, None, [RowError(1, "", "", exc.args[0])])
    batch.sha256 = sha256
    batch.encoding = encoding
    earlier = (
        ImportBatch.objects.filter(kind=batch.kind, sha256=sha256, status=ImportStatus.IMPORTED)
        .exclude(pk=batch.pk).order_by("pk").first()
    )
    if earlier is not None:
        return _finish(
            batch, ImportStatus.ALREADY_IMPORTED, rows=earlier.rows, created=0, updated=0,
            unchanged=0, errors=0,
            report={"already_imported_as": earlier.pk, "errors": [], "ignored_columns": []},
        )

    try:
        parsed = read_header(import_kind, handle, encoding)
    except ImportRefused as refused:
        return _refuse(batch, None, refused.errors)
    except UnicodeDecodeError:
        return _refuse(batch, None, [RowError(1, "", "", _("the file could not be decoded"))])

    try:
        if import_kind.streaming:
            counts = import_kind.run(parsed, batch, correction=correction)
        else:
            counts = _run_in_memory(import_kind, parsed, batch, correction)
    except ImportRefused as refused:
        parsed.add_errors(refused.errors)
        errors = sorted(parsed.errors, key=lambda e: (e.line, e.column))
        return _refuse(batch, parsed, errors, parsed.error_count)

    report = {
        "errors": [],
        "warnings": batch.report.get("warnings", []),
        "ignored_columns": parsed.ignored_columns,
        "timings": parsed.timings,
        **({"extra": counts.extra} if counts.extra else {}),
    }
    batch = _finish(
        batch, ImportStatus.IMPORTED, rows=parsed.rows_read, created=counts.created,
        updated=counts.updated, unchanged=counts.unchanged, errors=0, report=report,
    )
    transaction.on_commit(lambda: run_after_import(batch))
    return batch


def _run_in_memory(import_kind, parsed: ParsedFile, batch, correction: bool) -> LoadCounts:
    started = time.perf_counter()
    rows = list(parsed.rows())
    parsed.timings["parse"] = round(time.perf_counter() - started, 3)
    started = time.perf_counter()
    found = import_kind.validate(rows, correction=correction)
    errors = [e for e in found if not e.warning]
    batch.report = {**batch.report, "warnings": [e.as_dict() for e in found if e.warning][
        :MAX_REPORTED_ERRORS]}
    parsed.timings["validate"] = round(time.perf_counter() - started, 3)
    if parsed.error_count or errors:
        raise ImportRefused(errors)
    started = time.perf_counter()
    with transaction.atomic():
        counts = import_kind.load(batch, rows, correction=correction)
    parsed.timings["load"] = round(time.perf_counter() - started, 3)
    # After-import hooks of small kinds may read the parsed rows (e.g. broker_code of
    # the clients file); streaming kinds do not keep them.
    batch.parsed_rows = rows
    return counts


def run_after_import(batch: ImportBatch) -> None:
    started = time.perf_counter()
    kind = REGISTRY.get(batch.kind)
    if kind is not None:
        kind.after_commit(batch)
    hooks = AFTER_IMPORT.get(batch.kind, [])
    for hook in hooks:
        try:
            hook(batch)
        except Exception:  # one app's hook must not hide the import's success
            logger.exception("after-import hook %s failed for batch %s", hook, batch.pk)
    if hooks:
        # Hooks may have written to the report themselves: re-read before adding the time.
        report = ImportBatch.objects.filter(pk=batch.pk).values_list("report", flat=True).first()
        report = dict(report or {})
        report.setdefault("timings", {})["after_import_hooks"] = round(
            time.perf_counter() - started, 3)
        ImportBatch.objects.filter(pk=batch.pk).update(report=report)
        batch.report = report
