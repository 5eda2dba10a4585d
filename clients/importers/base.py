"""The contract every import kind implements.

A kind declares its columns (canonical name, aliases, required, value parser);
the pipeline (clients/importers/pipeline.py) handles encodings, header matching,
row parsing and error collection, then calls the kind's `validate` (cross-row and
database checks, no writes) and, only when no row is invalid, `load` inside one
transaction. Kinds whose files can be huge (trades, snapshots) may override `run`
with a streaming path but must keep the same report shape.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any


def _text(value: str) -> str:
    return value.strip()


@dataclass(frozen=True)
class Column:
    name: str  # canonical name, as in the formats spec
    aliases: tuple[str, ...] = ()
    required: bool = False
    # Turns the raw cell into a value; raises ValueError(reason) for a bad value.
    # Empty cells and "--" never reach parse: they become `default`.
    parse: Callable[[str], Any] = _text
    default: Any = None


@dataclass(frozen=True)
class RowError:
    line: int  # line number in the file (header = line 1)
    column: str  # canonical column name, "" for a row-level reason
    value: str
    reason: str  # plain words; may be a lazy translation
    # A warning is reported but does not refuse the file (e.g. a check digit the
    # back office, which verified the person, disagrees with).
    warning: bool = False

    def as_dict(self) -> dict:
        return {"line": self.line, "column": self.column, "value": self.value, "reason": str(self.reason)}

    def __str__(self) -> str:
        where = f"line {self.line}, column {self.column}" if self.column else f"line {self.line}"
        return f"{where}: {self.reason}"


@dataclass
class Row:
    line: int
    values: dict[str, Any]
    # Canonical names of the columns the file actually has (absent ones hold defaults).
    present: frozenset = frozenset()

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)


@dataclass
class LoadCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    extra: dict = field(default_factory=dict)  # e.g. {"replaced_snapshots": 3}


class ImportRefused(Exception):
    """Raised by validate/load when the file must be refused as a whole."""

    def __init__(self, errors: Sequence[RowError]):
        super().__init__(f"{len(errors)} invalid row(s)")
        self.errors = list(errors)


class ImportKind:
    name: str = ""
    columns: tuple[Column, ...] = ()
    natural_key: tuple[str, ...] = ()
    # Streaming kinds implement run(parsed, batch, correction=) instead of validate/load:
    # they read parsed.rows() once, never holding the file in memory.
    streaming: bool = False

    def run(self, parsed, batch, *, correction: bool = False) -> LoadCounts:
        raise NotImplementedError

    def validate(self, rows: list[Row], *, correction: bool = False) -> list[RowError]:
        """Cross-row and database checks; must not write. Return every error found."""
        return []

    def load(self, batch, rows: Iterable[Row], *, correction: bool = False) -> LoadCounts:
        """Store the rows (called inside the import transaction)."""
        raise NotImplementedError

    def after_commit(self, batch) -> None:
        """Hook run once the batch is committed (e.g. suitability detection)."""


REGISTRY: dict[str, ImportKind] = {}


def register(kind_class: type[ImportKind]) -> type[ImportKind]:
    """Class decorator: @register class TradesKind(ImportKind): name = "trades" …"""
    REGISTRY[kind_class.name] = kind_class()
    return kind_class


def get_kind(name: str) -> ImportKind:
    return REGISTRY[name]


# Other apps react to committed imports (suitability detects mismatches in new
# trades, …) by registering a callback here rather than through signals, so the
# order of work is explicit and testable.
AFTER_IMPORT: dict[str, list[Callable[[Any], None]]] = {}


def after_import(kind_name: str) -> Callable:
    """Decorator: @after_import("trades") def detect(batch): … runs after commit."""

    def decorate(func: Callable[[Any], None]) -> Callable[[Any], None]:
        AFTER_IMPORT.setdefault(kind_name, []).append(func)
        return func

    return decorate
