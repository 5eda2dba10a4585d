"""The trades bulk path: parsed rows go into a TEMP staging table (PostgreSQL: COPY;
SQLite: batched inserts), the checks that need the database run set-based in SQL,
and one INSERT … SELECT moves the new rows into clients_trade.

Natural key: (account, trading_day, exchange, trade_id, direction). Keys already
stored are skipped (ON CONFLICT DO NOTHING on the natural-key constraint) and counted
as unchanged, so the same fills from another file never double-count.
"""

from __future__ import annotations

import io

from django.db import connection
from django.utils.translation import gettext_lazy as _

from clients.models.activity import Trade

from . import aggregates
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
        columns += ", ok boolean DEFAULT TRUE"
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
                names = ", ".join(name for name, _type in STAGE_COLUMNS)
                cursor.executemany(
                    f"INSERT INTO {self.table} ({names}) VALUES ({marks})",
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
        """Move the rows whose natural key is new into clients_trade and fold them into
        DailyAccountActivity; returns how many trades were new."""
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
        # Sorted by the natural key: the unique and account indexes grow in order.
        insert = f"""INSERT INTO {table} ({target})
                    SELECT {source} FROM {self.table} s
                    JOIN clients_account a ON a.account_id = s.account_no
                    WHERE TRUE
                    ORDER BY a.id, s.trading_day, s.exchange, s.trade_id, s.direction
                    ON CONFLICT (account_id, trading_day, exchange, trade_id, direction)
                    DO NOTHING"""
        with connection.cursor() as cursor:
            if not self.postgres:  # SQLite has no INSERT in WITH: two statements
                cursor.execute(insert, [batch_id])
                created = cursor.rowcount
                aggregates.add_trades_of_batch(batch_id)
                return created
            # One statement: the daily rows are summed from what the insert RETURNS, so the
            # new trades are never read back.
            returning = ('RETURNING account_id, trading_day, volume, turnover, fee, '
                         'exchange_fee, hedge_flag, "offset", close_pnl')
            cursor.execute(
                f"WITH t AS ({insert} {returning}) "
                + aggregates.upsert_sql("t").replace("FROM t\n", "FROM t t\n"),
                [batch_id],
            )
            cursor.execute(f"SELECT COUNT(*) FROM {table} WHERE batch_id = %s", [batch_id])
            return cursor.fetchone()[0]

    def drop(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {self.table}")


def _sqlite_value(value):
    if value is None or isinstance(value, bool | int | str):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


# --- PostgreSQL: the raw file straight into COPY, parsed set-based ------------------------------
#
# The Python parser costs ~20 µs a row; PostgreSQL parses the same text in a fraction of that.
# So on PostgreSQL the data lines go to COPY as they are (each prefixed with its line number),
# and one INSERT … SELECT converts them into the staging table. The SQL conversion is at least
# as strict as values.py: whenever a row does not convert cleanly (or COPY rejects the text),
# the savepoint is rolled back and the Python path reads the file again and names every error.


class FallBack(Exception):
    """The raw path cannot take this file; the Python path will."""


class _NumberedLines(io.RawIOBase):
    """A file-like view of the text stream: `line,` + each non-blank data line."""

    def __init__(self, text, first_line: int):
        self.text = text
        self.line = first_line
        self.rows = 0
        self.pending = b""

    def readable(self):
        return True

    def readinto(self, buffer):
        while len(self.pending) < len(buffer):
            chunk = []
            for _count in range(2000):
                raw = self.text.readline()
                if not raw:
                    break
                self.line += 1
                if not raw.strip():
                    continue
                if raw.count('"') % 2:  # a quoted cell spans lines: numbering would drift
                    raise FallBack("multi-line cell")
                self.rows += 1
                chunk.append(f"{self.line},{raw.rstrip(chr(13) + chr(10))}\n")
            if not chunk:
                break
            self.pending += "".join(chunk).encode("utf-8")
        size = min(len(buffer), len(self.pending))
        buffer[:size] = self.pending[:size]
        self.pending = self.pending[size:]
        return size


_TRIM = "E' \\t\\r\\n\\f\\v\\u00a0\\u3000'"
# Low-cardinality columns: their distinct values are parsed in Python by values.py (the same
# parsers as the Python path) and joined back; high-cardinality numbers are cast in SQL.
MAPPED = ("trading_day", "trade_date", "trade_time", "exchange", "instrument", "direction",
          "offset", "hedge_flag")


def _map_table(cursor, table: str, columns: str, rows: list[tuple]) -> None:
    cursor.execute(f"CREATE TEMP TABLE {table} ({columns})")
    if rows:
        text = io.StringIO()
        text.writelines("\t".join(map(_copy_text, row)) + "\n" for row in rows)
        text.seek(0)
        cursor.copy_expert(f"COPY {table} FROM STDIN", text)
    cursor.execute(f"ANALYZE {table}")


def raw_stage_postgres(parsed, stager: TradeStager, ref) -> None:
    """Fill stager's table from the file through COPY; raises FallBack when it cannot."""
    width = parsed.header_width
    raw_table = f"{stager.table}_raw"
    columns = ", ".join(f"c{i} text" for i in range(width))
    lines = _NumberedLines(parsed.text, parsed.header_line)
    index = {column.name: i for column, i in parsed.plan if i is not None}
    parsers = {column.name: column.parse for column, _i in parsed.plan}
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMP TABLE {raw_table} (line integer, {columns})")
        cursor.copy_expert(
            f"COPY {raw_table} FROM STDIN WITH (FORMAT csv, ENCODING 'UTF8')",
            io.BufferedReader(lines, buffer_size=1 << 20), 1 << 18,
        )
        parsed.rows_read = lines.rows

        def cell(name: str) -> str:
            if name not in index:
                return "NULL::text"
            return f"NULLIF(NULLIF(BTRIM(r.c{index[name]}, {_TRIM}), ''), '--')"

        # One scan: the distinct values of every mapped column (GROUPING SETS).
        mapped = [name for name in MAPPED if name in index]
        distinct: dict[str, set] = {name: set() for name in mapped}
        if mapped:
            select = ", ".join(f"{cell(name)} AS x_{name}" for name in mapped)
            sets = ", ".join(f"(x_{name})" for name in mapped)
            grouping = ", ".join(f"GROUPING(x_{name})" for name in mapped)
            plain = ", ".join(f"x_{name}" for name in mapped)
            cursor.execute(f"SELECT {plain}, ARRAY[{grouping}] FROM "
                           f"(SELECT {select} FROM {raw_table} r) s "
                           f"GROUP BY GROUPING SETS ({sets})")
            for row in cursor.fetchall():
                flags = row[-1]
                for position, name in enumerate(mapped):
                    if flags[position] == 0 and row[position] is not None:
                        distinct[name].add(row[position])


        def parse_all(name):
            out = []
            for raw in distinct.get(name, ()):
                try:
                    out.append((raw, parsers[name](raw)))
                except ValueError:
                    raise FallBack(f"bad {name} value") from None
            return out

        for name, sql_type in (("trading_day", "date"), ("trade_date", "date"),
                               ("trade_time", "time"), ("exchange", "text"),
                               ("direction", "text"), ("offset", "text"),
                               ("hedge_flag", "text")):
            _map_table(cursor, f"{stager.table}_m_{name}", f"raw text, val {sql_type}",
                       parse_all(name))
        instruments = []
        for raw, instrument in parse_all("instrument"):
            code, is_option = ref.split(instrument)
            product = ref.find(code, None)
            if product is None:
                raise FallBack("unknown product")
            instruments.append((raw, instrument, product.code, is_option, product.exchange,
                                product.pk))
        _map_table(cursor, f"{stager.table}_m_instrument",
                   "raw text, instrument text, code text, is_option boolean, exchange text, "
                   "product_id bigint", instruments)
        cursor.execute(f"""
            CREATE TEMP TABLE {stager.table}_rates AS
            SELECT r.product_id, r.basis, r.open_rate, r.close_rate, r.close_today_rate,
                   r.valid_from,
                   COALESCE(LEAD(r.valid_from) OVER (PARTITION BY r.product_id
                                                     ORDER BY r.valid_from),
                            DATE '9999-12-31') AS valid_to
            FROM clients_exchangefeerate r""")


        def number(name: str) -> str:
            # Digits, sign and point only (NaN, Infinity, 1e5 → NULL → Python decides);
            # thousands separators checked by the same pattern as values.decimal.
            x = f"t.x_{name}"
            return (f"(CASE WHEN {x} IS NULL THEN NULL "
                    f"WHEN TRANSLATE({x}, '0123456789.+-', '') = '' THEN {x}::numeric "
                    f"WHEN {x} ~ '^[+-]?(\\d{{1,3}}(,\\d{{3}})+)(\\.\\d*)?$' "
                    f"THEN REPLACE({x}, ',', '')::numeric END)")

        trimmed = ", ".join(f"{cell(name)} AS x_{name}" for name in (
            "account_id", "trading_day", "trade_date", "trade_time", "exchange", "instrument",
            "direction", "offset", "hedge_flag", "price", "volume", "turnover", "fee",
            "exchange_fee", "close_pnl", "premium", "trade_id", "order_sys_id"))
        m = f"{stager.table}_m"
        names = ", ".join(name for name, _type in STAGE_COLUMNS)
        insert_sql = (f"""
            INSERT INTO {stager.table} ({names}, ok)
            WITH t AS MATERIALIZED (SELECT r.line, {trimmed} FROM {raw_table} r),
            c AS (
                SELECT t.line, t.x_account_id AS account_id, d.val AS trading_day, td.val AS trade_date,
                       tt.val AS trade_time, ex.val AS exchange_given,
                       t.x_exchange AS exchange_raw, i.instrument, i.code, i.is_option,
                       i.exchange AS product_exchange, i.product_id,
                       di.val AS direction, o.val AS offset_flag,
                       COALESCE(h.val, CASE WHEN t.x_hedge_flag IS NULL
                                            THEN 'speculation' END) AS hedge_flag,
                       {number("price")} AS price,
                       (CASE WHEN TRANSLATE(t.x_volume, '0123456789', '') = ''
                             AND LENGTH(t.x_volume) <= 9 THEN t.x_volume::integer END) AS volume,
                       {number("turnover")} AS turnover, {number("fee")} AS fee,
                       {number("exchange_fee")} AS exchange_fee,
                       t.x_exchange_fee AS exchange_fee_raw,
                       {number("close_pnl")} AS close_pnl, t.x_close_pnl AS close_pnl_raw,
                       {number("premium")} AS premium, t.x_premium AS premium_raw,
                       t.x_trade_date AS trade_date_raw, t.x_trade_time AS trade_time_raw,
                       t.x_trade_id AS trade_id,
                       COALESCE(t.x_order_sys_id, '') AS order_sys_id
                FROM t
                LEFT JOIN {m}_trading_day d ON d.raw = t.x_trading_day
                LEFT JOIN {m}_trade_date td ON td.raw = t.x_trade_date
                LEFT JOIN {m}_trade_time tt ON tt.raw = t.x_trade_time
                LEFT JOIN {m}_exchange ex ON ex.raw = t.x_exchange
                LEFT JOIN {m}_instrument i ON i.raw = t.x_instrument
                LEFT JOIN {m}_direction di ON di.raw = t.x_direction
                LEFT JOIN {m}_offset o ON o.raw = t.x_offset
                LEFT JOIN {m}_hedge_flag h ON h.raw = t.x_hedge_flag)
            SELECT c.line, c.account_id, c.trading_day, c.trade_date, c.trade_time,
                   c.product_exchange, c.instrument, c.code, c.is_option, c.direction,
                   c.offset_flag, c.hedge_flag, c.price, c.volume, c.turnover, c.fee,
                   COALESCE(c.exchange_fee, ROUND(
                       (CASE c.offset_flag WHEN 'open' THEN p.open_rate
                                           WHEN 'close_today' THEN p.close_today_rate
                                           ELSE p.close_rate END)
                       * (CASE p.basis WHEN 'per_lot' THEN c.volume ELSE c.turnover END), 2)),
                   c.exchange_fee IS NULL, c.close_pnl, c.premium, c.trade_id, c.order_sys_id,
                   (c.account_id IS NOT NULL AND c.trading_day IS NOT NULL
                    AND c.code IS NOT NULL
                    AND (c.exchange_raw IS NULL OR c.exchange_given = c.product_exchange)
                    AND c.direction IS NOT NULL AND c.offset_flag IS NOT NULL
                    AND c.hedge_flag IS NOT NULL AND c.price > 0 AND c.volume > 0
                    AND c.turnover >= 0 AND c.fee >= 0 AND c.trade_id IS NOT NULL
                    AND (c.exchange_fee >= 0 OR (c.exchange_fee_raw IS NULL
                                                 AND p.basis IS NOT NULL))
                    AND (c.close_pnl_raw IS NULL OR c.close_pnl IS NOT NULL)
                    AND (c.premium_raw IS NULL OR c.premium IS NOT NULL)
                    AND (c.trade_date_raw IS NULL OR c.trade_date IS NOT NULL)
                    AND (c.trade_time_raw IS NULL OR c.trade_time IS NOT NULL)) IS TRUE
            FROM c
            LEFT JOIN {stager.table}_rates p
              ON p.product_id = c.product_id AND c.trading_day >= p.valid_from
             AND c.trading_day < p.valid_to""")
        cursor.execute(insert_sql)
        staged = cursor.rowcount
        cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {stager.table} WHERE NOT ok)")
        (bad,) = cursor.fetchone()
        helpers = [raw_table, f"{stager.table}_rates", f"{m}_instrument"] + [
            f"{m}_{name}" for name in ("trading_day", "trade_date", "trade_time", "exchange",
                                       "direction", "offset", "hedge_flag")]
        cursor.execute(f"DROP TABLE {', '.join(helpers)}")
    if bad or staged != lines.rows:
        raise FallBack("some rows need the Python parser")
    stager.staged = staged
