"""The trades bulk path: parsed rows go into a TEMP staging table (PostgreSQL: COPY;
SQLite: batched inserts), the checks that need the database run set-based in SQL,
and one INSERT … SELECT moves the new rows into clients_trade.

Natural key: (account, trading_day, exchange, trade_id, direction). Keys already
stored are skipped (ON CONFLICT DO NOTHING on the natural-key constraint) and counted
as unchanged, so the same fills from another file never double-count.
"""

from __future__ import annotations

import io
import itertools

from django.db import connection
from django.utils.translation import gettext_lazy as _

from clients.models.activity import Trade

from .base import RowError

# Staging columns, in COPY order (SQL types valid on PostgreSQL and SQLite).
STAGE_COLUMNS = (
    ("line", "integer"),
    ("account_no", "varchar(30)"),
    ("trading_day", "date"),
    ("trade_date", "date"),
    ("trade_time", "time"),
    ("exchange", "varchar(6)"),
    ("instrument", "varchar(40)"),
    ("product_code", "varchar(10)"),
    ("is_option", "boolean"),
    ("direction", "varchar(4)"),
    ("offset_flag", "varchar(20)"),
    ("hedge_flag", "varchar(12)"),
    ("price", "numeric(18,4)"),
    ("volume", "integer"),
    ("turnover", "numeric(18,2)"),
    ("fee", "numeric(18,2)"),
    ("exchange_fee", "numeric(18,2)"),
    ("exchange_fee_computed", "boolean"),
    ("close_pnl", "numeric(18,2)"),
    ("premium", "numeric(18,2)"),
    ("trade_id", "varchar(40)"),
    ("order_sys_id", "varchar(40)"),
)
FLUSH_ROWS = 20000
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value) -> str:
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        return value.translate(_COPY_ESCAPES)
    return str(value)


class TradeStager:
    """Collects prepared trade tuples in a staging table, then checks and loads them."""

    def __init__(self, batch_id: int):
        self.table = f"stage_trades_{batch_id}"
        self.postgres = connection.vendor == "postgresql"
        self.buffer: list[tuple] = []
        self.staged = 0
        columns = ", ".join(f"{name} {sql_type}" for name, sql_type in STAGE_COLUMNS)
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {self.table}")
            cursor.execute(f"CREATE TEMP TABLE {self.table} ({columns})")

    # --- staging ------------------------------------------------------------------------

    def add(self, values: tuple) -> None:
        self.buffer.append(values)
        if len(self.buffer) >= FLUSH_ROWS:
            self.flush()

    def flush(self) -> None:
        if not self.buffer:
            return
        with connection.cursor() as cursor:
            if self.postgres:
                text = io.StringIO()
                text.writelines(
                    "\t".join(map(_copy_text, values)) + "\n" for values in self.buffer
                )
                text.seek(0)
                names = ", ".join(name for name, _type in STAGE_COLUMNS)
                cursor.copy_expert(f"COPY {self.table} ({names}) FROM STDIN", text)
            else:
                marks = ", ".join(["%s"] * len(STAGE_COLUMNS))
                cursor.executemany(
                    f"INSERT INTO {self.table} VALUES ({marks})",
                    [tuple(_sqlite_value(v) for v in values) for values in self.buffer],
                )
        self.staged += len(self.buffer)
        self.buffer = []

    # --- set-based checks ---------------------------------------------------------------

    def check(self, limit: int) -> list[RowError]:
        """Unknown accounts and natural keys repeated inside the file."""
        errors: list[RowError] = []
        account = "clients_account"
        with connection.cursor() as cursor:
            cursor.execute(
                f"""SELECT s.line, s.account_no FROM {self.table} s
                    LEFT JOIN {account} a ON a.account_id = s.account_no
                    WHERE a.id IS NULL ORDER BY s.line LIMIT %s""",
                [limit],
            )
            errors += [
                RowError(line, "account_id", account_no,
                         _("unknown account: load the clients file with this account first"))
                for line, account_no in cursor.fetchall()
            ]
            cursor.execute(
                f"""SELECT line, first_line, trade_id FROM (
                        SELECT line, trade_id, MIN(line) OVER (
                            PARTITION BY account_no, trading_day, exchange, trade_id, direction
                        ) AS first_line FROM {self.table}) d
                    WHERE line > first_line ORDER BY line LIMIT %s""",
                [limit],
            )
            errors += [
                RowError(line, "trade_id", trade_id,
                         _("the same trade (account, trading day, exchange, trade id, "
                           "direction) is already on line %(line)s") % {"line": first})
                for line, first, trade_id in cursor.fetchall()
            ]
        return errors

    # --- load ---------------------------------------------------------------------------------

    def insert(self, batch_id: int) -> int:
        """Move the rows whose natural key is new into clients_trade; returns how many."""
        table = Trade._meta.db_table
        target = (
            "batch_id, line, account_id, trading_day, trade_date, trade_time, exchange, "
            "instrument, product_code, is_option, direction, \"offset\", hedge_flag, price, "
            "volume, turnover, fee, exchange_fee, exchange_fee_computed, close_pnl, premium, "
            "trade_id, order_sys_id"
        )
        source = (
            "%s, s.line, a.id, s.trading_day, s.trade_date, s.trade_time, s.exchange, "
            "s.instrument, s.product_code, s.is_option, s.direction, s.offset_flag, "
            "s.hedge_flag, s.price, s.volume, s.turnover, s.fee, s.exchange_fee, "
            "s.exchange_fee_computed, s.close_pnl, s.premium, s.trade_id, "
            "COALESCE(s.order_sys_id, '')"
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"""INSERT INTO {table} ({target})
                    SELECT {source} FROM {self.table} s
                    JOIN clients_account a ON a.account_id = s.account_no
                    WHERE TRUE
                    ORDER BY s.line
                    ON CONFLICT (account_id, trading_day, exchange, trade_id, direction)
                    DO NOTHING""",
                [batch_id],
            )
            return cursor.rowcount

    def drop(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {self.table}")


def _sqlite_value(value):
    if value is None or isinstance(value, bool | int | str):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def chunked(iterable, size):
    iterator = iter(iterable)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk
