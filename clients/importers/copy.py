"""The bulk paths of the streaming kinds (trades, snapshots): parsed rows go into a TEMP
staging table (PostgreSQL: COPY; SQLite: batched inserts), the checks that need the
database run set-based in SQL, and INSERT … SELECT moves the new rows into the model table.
Snapshots: see SnapshotStager at the end of this module.

Natural key: (account, trading_day, exchange, trade_id, direction). Keys already
stored are skipped (ON CONFLICT DO NOTHING on the natural-key constraint) and counted
as unchanged, so the same fills from another file never double-count.

Trades on PostgreSQL first try the direct path (RawTrades + TradeStager.insert_direct:
converted, checked and inserted in one statement, no staging table); see docs/imports.md.
"""

from __future__ import annotations

import io
import re

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from brokercrm.db import local_setting
from clients.models.activity import Trade

from . import aggregates
from .base import LoadCounts, RowError

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


class Stager:
    """A TEMP staging table filled in chunks of FLUSH_ROWS tuples (PostgreSQL: COPY;
    SQLite: executemany). Subclasses name the table and columns and add the checks."""

    prefix = "stage"
    columns: tuple[tuple[str, str], ...] = ()

    def __init__(self, batch_id: int):
        self.table = f"{self.prefix}_{batch_id}"
        self.postgres = connection.vendor == "postgresql"
        self.buffer: list[tuple] = []
        self.staged = 0
        columns = ", ".join(f"{name} {sql_type}" for name, sql_type in self.columns)
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
                names = ", ".join(name for name, _type in self.columns)
                cursor.copy_expert(f"COPY {self.table} ({names}) FROM STDIN", text)
            else:
                marks = ", ".join(["%s"] * len(self.columns))
                names = ", ".join(name for name, _type in self.columns)
                cursor.executemany(
                    f"INSERT INTO {self.table} ({names}) VALUES ({marks})",
                    [tuple(_sqlite_value(v) for v in values) for values in self.buffer],
                )
        self.staged += len(self.buffer)
        self.buffer = []

    def drop(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {self.table}")


class TradeStager(Stager):
    """Collects prepared trade tuples in a staging table, then checks and loads them."""

    prefix = "stage_trades"
    columns = STAGE_COLUMNS

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
        """Move the staged rows whose natural key is new into clients_trade and fold them
        into DailyAccountActivity; returns how many trades were new."""
        # Sorted by the natural key: the unique and account indexes grow in order.
        insert = f"""INSERT INTO {Trade._meta.db_table} ({_TRADE_TARGET})
                    SELECT %s, {_trade_source("a.id")} FROM {self.table} s
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
            cursor.execute(_insert_with_aggregates(insert), [batch_id])
            return cursor.fetchone()[0]

    def insert_direct(self, raw: RawTrades, batch_id: int) -> int:
        """PostgreSQL fast path: convert the raw lines and insert them into clients_trade
        (+ DailyAccountActivity) in one statement, with no typed staging table and no
        separate check pass. It only succeeds for a file every check would pass:

        * a row that did not convert cleanly (`ok` false) or names an unknown account gets a
          NULL account_id, so the NOT NULL constraint aborts the statement;
        * a key already stored or repeated inside the file violates the unique natural key
          (a plain INSERT, no ON CONFLICT), which aborts the statement.

        The caller rolls its savepoint back and runs the staged path, which names every error
        (or counts the stored keys as unchanged) exactly as before. Sorted by account and day
        (measured on 1M rows: inserting in file order costs twice as long, the indexes being
        written all over), which is also the order of the daily rows."""
        account = "CASE WHEN s.ok THEN a.id END"
        # NULLS FIRST: a row that fails comes first, so a declined file costs the conversion
        # and the sort, not the insert of every row before it.
        insert = f"""INSERT INTO {Trade._meta.db_table} ({_TRADE_TARGET})
                    SELECT %s, {_trade_source(account)}
                    FROM ({raw.converted()}) s
                    LEFT JOIN clients_account a ON a.account_id = s.account_no
                    ORDER BY {account} NULLS FIRST, s.trading_day"""
        with connection.cursor() as cursor:
            # No daily row yet on the file's days (the usual nightly file): the daily rows
            # are inserted without ON CONFLICT (a concurrent import of those days makes the
            # statement fail, and the staged path merges).
            cursor.execute(f"""SELECT EXISTS (SELECT 1 FROM clients_dailyaccountactivity d
                                WHERE d.trading_day IN (SELECT val FROM {raw.m}_trading_day))""")
            (merge,) = cursor.fetchone()
            # The RETURNING rows come sorted by account and day: a sort and a GroupAggregate
            # beat hashing 800k groups and sorting them again for the insert.
            with local_setting(cursor, "enable_hashagg", "off"):
                cursor.execute(_insert_with_aggregates(insert, merge=merge), [batch_id])
                created = cursor.fetchone()[0]
        if created != raw.rows:  # cannot happen: every line is inserted or the statement fails
            raise FallBack(f"{created} of {raw.rows} rows inserted")
        return created


_TRADE_TARGET = (
    "batch_id, line, account_id, trading_day, trade_date, trade_time, exchange, "
    "instrument, product_code, is_option, direction, \"offset\", hedge_flag, price, "
    "volume, turnover, fee, exchange_fee, exchange_fee_computed, close_pnl, premium, "
    "trade_id, order_sys_id"
)
# The staging columns in _TRADE_TARGET's order after batch_id (account_id: the account's pk).
_TRADE_SOURCE = (
    "line", "account_id", "trading_day", "trade_date", "trade_time", "exchange", "instrument",
    "product_code", "is_option", "direction", "offset_flag", "hedge_flag", "price", "volume",
    "turnover", "fee", "exchange_fee", "exchange_fee_computed", "close_pnl", "premium",
    "trade_id", "order_sys_id",
)


def _trade_source(account: str) -> str:
    """SQL: the values of _TRADE_TARGET after batch_id from staged row s, `account` giving
    the account's pk."""
    return ", ".join(account if name == "account_id"
                     else "COALESCE(s.order_sys_id, '')" if name == "order_sys_id"
                     else f"s.{name}" for name in _TRADE_SOURCE)


def _insert_with_aggregates(insert: str, *, merge: bool = True) -> str:
    """PostgreSQL: `insert` (of trades) as a CTE whose RETURNING rows feed the
    DailyAccountActivity upsert, so new trades are never read back; the statement returns how
    many trades were inserted."""
    returning = ('RETURNING account_id, trading_day, volume, turnover, fee, exchange_fee, '
                 'hedge_flag, "offset", close_pnl')
    return (f"WITH t AS ({insert} {returning}), "
            f"d AS ({aggregates.upsert_sql('t', merge=merge)}) "
            f"SELECT COUNT(*) FROM t")


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
# and one INSERT … SELECT converts them: straight into clients_trade (direct path), or into the
# staging table when the direct insert declines. The SQL conversion is at least as strict as
# values.py: whenever a row does not convert cleanly (or COPY rejects the text), the savepoint
# is rolled back and the Python path reads the file again and names every error.


class FallBack(Exception):
    """The raw path cannot take this file; the Python path will."""


class _NumberedLines(io.RawIOBase):
    """A file-like view of the text stream: `line,` + each non-blank data line."""

    def __init__(self, text, first_line: int):
        self.text = text
        self.line = first_line
        self.rows = 0
        self.pending = b""
        # No whitespace and no quote on any data line: no cell needs trimming (SQL skips BTRIM).
        self.clean = True

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
                raw = raw.rstrip("\r\n")
                if self.clean and _SPACE_OR_QUOTE.search(raw):
                    self.clean = False
                chunk.append(f"{self.line},{raw}\n")
            if not chunk:
                break
            self.pending += "".join(chunk).encode("utf-8")
        size = min(len(buffer), len(self.pending))
        buffer[:size] = self.pending[:size]
        self.pending = self.pending[size:]
        return size


# Python's str.strip() (the Python path) removes exactly what \\s matches in a str pattern.
_SPACE_OR_QUOTE = re.compile(r'[\s"]')
_TRIM = "E' \\t\\r\\n\\f\\v\\u00a0\\u3000'"
# Low-cardinality columns: their distinct values are parsed in Python by values.py (the same
# parsers as the Python path) and joined back; high-cardinality numbers are cast in SQL.
_NUMBERS = ("price", "turnover", "fee", "exchange_fee", "close_pnl", "premium")
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


class RawTrades:
    """The file's data lines COPYed as text into a TEMP table, the maps of the distinct
    low-cardinality values (parsed by values.py) and the effective-dated fee rates;
    `converted()` is the SQL that turns them into typed staging rows with an `ok` flag.

    Two consumers: TradeStager.insert_direct (the fast path: convert, check and insert in one
    statement) and `stage` (the typed staging table the set-based checks read). Raises
    FallBack when the file needs the Python parser."""

    def __init__(self, parsed, table: str, ref):
        self.table = f"{table}_raw"
        self.m = f"{table}_m"
        self.rates = f"{table}_rates"
        self.helpers = [self.table, self.rates, f"{self.m}_instrument"] + [
            f"{self.m}_{name}" for name in ("trading_day", "trade_date", "trade_time",
                                             "exchange", "direction", "offset", "hedge_flag")]
        width = parsed.header_width
        columns = ", ".join(f"c{i} text" for i in range(width))
        lines = _NumberedLines(parsed.text, parsed.header_line)
        self.index = {column.name: i for column, i in parsed.plan if i is not None}
        parsers = {column.name: column.parse for column, _i in parsed.plan}
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE TEMP TABLE {self.table} (line integer, {columns})")
            cursor.copy_expert(
                f"COPY {self.table} FROM STDIN WITH (FORMAT csv, ENCODING 'UTF8')",
                io.BufferedReader(lines, buffer_size=1 << 20), 1 << 18,
            )
            self.rows = parsed.rows_read = lines.rows
            self.clean = lines.clean

            # One scan: the distinct values of every mapped column (GROUPING SETS).
            mapped = [name for name in MAPPED if name in self.index]
            distinct: dict[str, set] = {name: set() for name in mapped}
            if mapped:
                select = ", ".join(f"{self.cell(name)} AS x_{name}" for name in mapped)
                sets = ", ".join(f"(x_{name})" for name in mapped)
                grouping = ", ".join(f"GROUPING(x_{name})" for name in mapped)
                plain = ", ".join(f"x_{name}" for name in mapped)
                cursor.execute(f"SELECT {plain}, ARRAY[{grouping}] FROM "
                               f"(SELECT {select} FROM {self.table} r) s "
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
                values = parse_all(name)
                if name == "trading_day":
                    self.trading_days = sorted({day for _raw, day in values})
                _map_table(cursor, f"{self.m}_{name}", f"raw text, val {sql_type}", values)
            instruments = []
            for raw, instrument in parse_all("instrument"):
                code, is_option = ref.split(instrument)
                product = ref.find(code, None)
                if product is None:
                    raise FallBack("unknown product")
                instruments.append((raw, instrument, product.code, is_option, product.exchange,
                                    product.pk))
            # What the batch holds (a superset when some rows were stored before), recorded
            # for the detection of suitability mismatches with the trading days above.
            self.products = sorted({(exchange, code, is_option)
                                    for _raw, _i, code, is_option, exchange, _pk in instruments})
            _map_table(cursor, f"{self.m}_instrument",
                       "raw text, instrument text, code text, is_option boolean, exchange text, "
                       "product_id bigint", instruments)
            cursor.execute(f"""
                CREATE TEMP TABLE {self.rates} AS
                SELECT r.product_id, r.basis, r.open_rate, r.close_rate, r.close_today_rate,
                       r.valid_from,
                       COALESCE(LEAD(r.valid_from) OVER (PARTITION BY r.product_id
                                                         ORDER BY r.valid_from),
                                DATE '9999-12-31') AS valid_to
                FROM clients_exchangefeerate r""")
            # Statistics for the plans of converted() (a TEMP table has none): the row count
            # matters, not the columns' histograms, so a small sample does (0.3 s → 0.05 s).
            with local_setting(cursor, "default_statistics_target", "10"):
                cursor.execute(f"ANALYZE {self.table}, {self.rates}")

    def cell(self, name: str) -> str:
        """SQL: the trimmed cell of column `name` of raw row r ('' and '--' → NULL)."""
        if name not in self.index:
            return "NULL::text"
        column = f"r.c{self.index[name]}"
        if not self.clean:
            column = f"BTRIM({column}, {_TRIM})"
        return f"NULLIF(NULLIF({column}, ''), '--')"

    def converted(self) -> str:
        """SQL: one row per raw line with the STAGE_COLUMNS, then `ok` — TRUE only when every
        cell converted the way values.py would (otherwise the Python path decides)."""

        def number(name: str) -> str:
            x = f"t.x_{name}"
            if self.clean:
                # No quote on any line, so no cell holds a comma: the cast is as strict as
                # values.decimal (text it refuses raises, and the Python path decides) but
                # for NaN/Infinity, which `finite` below flags.
                return f"{x}::numeric"
            # Digits, sign and point only (NaN, Infinity, 1e5 → NULL → Python decides);
            # thousands separators checked by the same pattern as values.decimal.
            return (f"(CASE WHEN {x} IS NULL THEN NULL "
                    f"WHEN TRANSLATE({x}, '0123456789.+-', '') = '' THEN {x}::numeric "
                    f"WHEN {x} ~ '^[+-]?(\\d{{1,3}}(,\\d{{3}})+)(\\.\\d*)?$' "
                    f"THEN REPLACE({x}, ',', '')::numeric END)")

        trimmed = ", ".join(f"{self.cell(name)} AS x_{name}" for name in (
            "account_id", "trading_day", "trade_date", "trade_time", "exchange", "instrument",
            "direction", "offset", "hedge_flag", "price", "volume", "turnover", "fee",
            "exchange_fee", "close_pnl", "premium", "trade_id", "order_sys_id"))
        finite = " + ".join(f"ABS(COALESCE(c.{name}, 0))" for name in _NUMBERS)
        m = self.m
        # OFFSET 0 keeps t and c subqueries (each cell trimmed and converted once, however
        # often it is used) without materialising them.
        return f"""
            WITH t AS (SELECT r.line, {trimmed} FROM {self.table} r OFFSET 0),
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
                LEFT JOIN {m}_hedge_flag h ON h.raw = t.x_hedge_flag
                OFFSET 0)
            SELECT c.line, c.account_id AS account_no, c.trading_day, c.trade_date, c.trade_time,
                   c.product_exchange AS exchange, c.instrument, c.code AS product_code,
                   c.is_option, c.direction, c.offset_flag, c.hedge_flag, c.price, c.volume,
                   c.turnover, c.fee,
                   COALESCE(c.exchange_fee, ROUND(
                       (CASE c.offset_flag WHEN 'open' THEN p.open_rate
                                           WHEN 'close_today' THEN p.close_today_rate
                                           ELSE p.close_rate END)
                       * (CASE p.basis WHEN 'per_lot' THEN c.volume ELSE c.turnover END), 2))
                       AS exchange_fee,
                   c.exchange_fee IS NULL AS exchange_fee_computed, c.close_pnl, c.premium,
                   c.trade_id, c.order_sys_id,
                   (c.account_id IS NOT NULL AND c.trading_day IS NOT NULL
                    AND c.code IS NOT NULL
                    AND (c.exchange_raw IS NULL OR c.exchange_given = c.product_exchange)
                    AND c.direction IS NOT NULL AND c.offset_flag IS NOT NULL
                    AND c.hedge_flag IS NOT NULL AND c.price > 0 AND c.volume > 0
                    AND c.turnover >= 0 AND c.fee >= 0 AND c.trade_id IS NOT NULL
                    AND {finite} < 'Infinity'
                    AND (c.exchange_fee >= 0 OR (c.exchange_fee_raw IS NULL
                                                 AND p.basis IS NOT NULL))
                    AND (c.close_pnl_raw IS NULL OR c.close_pnl IS NOT NULL)
                    AND (c.premium_raw IS NULL OR c.premium IS NOT NULL)
                    AND (c.trade_date_raw IS NULL OR c.trade_date IS NOT NULL)
                    AND (c.trade_time_raw IS NULL OR c.trade_time IS NOT NULL)) IS TRUE AS ok
            FROM c
            LEFT JOIN {self.rates} p
              ON p.product_id = c.product_id AND c.trading_day >= p.valid_from
             AND c.trading_day < p.valid_to"""

    def stage(self, stager: TradeStager) -> None:
        """Fill stager's table with the converted rows; FallBack if any did not convert."""
        names = ", ".join(name for name, _type in STAGE_COLUMNS)
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {stager.table} ({names}, ok) {self.converted()}")
            staged = cursor.rowcount
            cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {stager.table} WHERE NOT ok)")
            (bad,) = cursor.fetchone()
        if bad or staged != self.rows:
            raise FallBack("some rows need the Python parser")
        stager.staged = staged

    def drop(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {', '.join(self.helpers)}")


# --- snapshots: the same staging table, then set-based checks and one load ---------------------
#
# Natural key (account, trading_day). Each parsed row is reduced to the model's values in Python
# (kinds.SnapshotsKind.prepare: cash flow split, risk degree, the balance identity) and staged;
# the checks that look across rows or at the database run here in SQL, and only a file without
# errors is loaded: new days inserted, identical days counted unchanged, changed days replaced
# (correction imports only) with a SnapshotCorrection keeping the previous values.

SNAPSHOT_MONEY_COLUMNS = ("pre_balance", "deposit", "withdrawal", "other_cash", "close_pnl",
                          "position_pnl", "fee", "premium_net", "equity", "margin", "available",
                          "margin_call")
SNAPSHOT_STAGE_COLUMNS = (
    ("line", "integer"),
    ("account_no", "text"),
    ("trading_day", "date"),
    *((name, "numeric(18,2)") for name in SNAPSHOT_MONEY_COLUMNS),
    ("risk_degree", "numeric(12,6)"),
    # The balance identity is checked in Python; a failing row keeps what the reason names
    # (reported only when the account is known, as an unknown account says it all).
    ("identity_expected", "text"),
    ("equity_raw", "text"),
)
# Values are at the cent (money) and the millionth (risk degree): half a step above the
# tolerance makes the comparison exact on PostgreSQL numerics and SQLite floats alike.
_MONEY_DIFFERS = "0.005"
_RISK_DIFFERS = "0.0001005"  # kinds.RISK_TOLERANCE = 0.0001


def _differs(old: str, new: str) -> str:
    """SQL: the stored snapshot `old` differs from the staged row `new`."""
    money = [f"(({old}.{n} IS NULL) <> ({new}.{n} IS NULL) "
             f"OR COALESCE(ABS({old}.{n} - {new}.{n}) > {_MONEY_DIFFERS}, FALSE))"
             for n in SNAPSHOT_MONEY_COLUMNS]
    risk = f"ABS({old}.risk_degree - {new}.risk_degree) > {_RISK_DIFFERS}"
    return "(" + " OR ".join([*money, risk]) + ")"


class SnapshotStager(Stager):
    """Staged snapshot rows: checked set-based, then loaded in one pass each way."""

    prefix = "stage_snapshots"
    columns = SNAPSHOT_STAGE_COLUMNS

    def _joined(self) -> str:
        return (f"{self.table} st JOIN clients_account a ON a.account_id = st.account_no "
                f"JOIN clients_accountsnapshot s ON s.account_id = a.id "
                f"AND s.trading_day = st.trading_day")

    def _errors(self, cursor, select: str, source: str, limit: int) -> tuple[list, int]:
        """The first `limit` rows of `select … FROM source` by line, and how many in all."""
        cursor.execute(f"SELECT {select} FROM {source} ORDER BY st.line LIMIT %s", [limit])
        rows = cursor.fetchall()
        total = len(rows)
        if total >= limit:
            cursor.execute(f"SELECT COUNT(*) FROM {source}")
            total = cursor.fetchone()[0]
        return rows, total - len(rows)

    def check(self, limit: int, *, correction: bool) -> tuple[list[RowError], int]:
        """Unknown accounts, keys repeated in the file, the balance identity of known
        accounts, and (without --correction) stored days with other values. Returns the
        errors (at most `limit` of each) and how many more there are."""
        errors: list[RowError] = []
        hidden = 0
        with connection.cursor() as cursor:
            if self.postgres:  # statistics for the joins below (a TEMP table has none)
                cursor.execute(f"ANALYZE {self.table}")
            rows, more = self._errors(
                cursor, "st.line, st.account_no",
                f"{self.table} st LEFT JOIN clients_account a ON a.account_id = st.account_no "
                "WHERE a.id IS NULL", limit)
            hidden += more
            errors += [RowError(line, "account_id", account_no,
                                _("unknown account: load the clients file with this account "
                                  "first"))
                       for line, account_no in rows]
            rows, more = self._errors(
                cursor, "st.line, st.first_line, st.trading_day",
                f"(SELECT line, trading_day, MIN(line) OVER (PARTITION BY account_no, "
                f"trading_day) AS first_line FROM {self.table}) st WHERE st.line > st.first_line",
                limit)
            hidden += more
            errors += [RowError(line, "trading_day", str(day),
                                _("duplicate of line %(line)s (same %(key)s)")
                                % {"line": first, "key": "account_id, trading_day"})
                       for line, first, day in rows]
            rows, more = self._errors(
                cursor, "st.line, st.equity_raw, st.identity_expected",
                f"{self.table} st JOIN clients_account a ON a.account_id = st.account_no "
                "WHERE st.identity_expected IS NOT NULL", limit)
            hidden += more
            errors += [RowError(
                line, "equity", equity,
                _("equity does not add up: balance b/f + deposits − withdrawals + other "
                  "cash + realised P/L + MTM P/L + net premium − fee = %(expected)s")
                % {"expected": expected}) for line, equity, expected in rows]
            if not correction:
                rows, more = self._errors(
                    cursor, "st.line, st.trading_day",
                    f"{self._joined()} WHERE {_differs('s', 'st')}", limit)
                hidden += more
                errors += [RowError(
                    line, "trading_day", str(day),
                    _("a snapshot for this account is already imported for that day, use a "
                      "correction import")) for line, day in rows]
        errors.sort(key=lambda e: (e.line, e.column))
        return errors, hidden

    def _previous_json(self) -> str:
        """SQL: the stored row `s` as SnapshotCorrection.previous (decimals as text)."""
        names = (*SNAPSHOT_MONEY_COLUMNS, "risk_degree")
        if self.postgres:
            pairs = ", ".join(f"'{n}', s.{n}::text" for n in names)
            return f"jsonb_build_object('line', s.line, {pairs})"
        pairs = ", ".join(
            f"'{n}', CASE WHEN s.{n} IS NULL THEN NULL ELSE "
            f"printf('%%.{6 if n == 'risk_degree' else 2}f', s.{n}) END" for n in names)
        return f"json_object('line', s.line, {pairs})"

    def load(self, batch_id: int, *, correction: bool) -> LoadCounts:
        """Store a checked file: counts created, updated (replaced) and unchanged."""
        from clients.models import AccountSnapshot, SnapshotCorrection

        counts = LoadCounts()
        table = AccountSnapshot._meta.db_table
        names = (*SNAPSHOT_MONEY_COLUMNS, "risk_degree")
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM {self._joined()} "
                           f"WHERE NOT {_differs('s', 'st')}")
            counts.unchanged = cursor.fetchone()[0]
            if correction:
                now = connection.ops.adapt_datetimefield_value(timezone.now())
                cursor.execute(
                    f"""INSERT INTO {SnapshotCorrection._meta.db_table}
                            (batch_id, replaced_batch_id, account_id, trading_day, previous,
                             created_at)
                        SELECT %s, s.batch_id, s.account_id, s.trading_day,
                               {self._previous_json()}, %s
                        FROM {self._joined()} WHERE {_differs('s', 'st')} ORDER BY st.line""",
                    [batch_id, now])
                assignments = ", ".join(f"{n} = st.{n}" for n in names)
                cursor.execute(
                    f"""UPDATE {table} AS s SET {assignments}, batch_id = %s, line = st.line
                        FROM {self.table} st
                        JOIN clients_account a ON a.account_id = st.account_no
                        WHERE s.account_id = a.id AND s.trading_day = st.trading_day
                          AND {_differs('s', 'st')}""",
                    [batch_id])
                counts.updated = cursor.rowcount
            # Without --correction, check() refused every changed day: nothing to replace.
            columns = ", ".join(names)
            staged = ", ".join(f"st.{n}" for n in names)
            cursor.execute(
                f"""INSERT INTO {table} (batch_id, line, account_id, trading_day, {columns})
                    SELECT %s, st.line, a.id, st.trading_day, {staged}
                    FROM {self.table} st
                    JOIN clients_account a ON a.account_id = st.account_no
                    LEFT JOIN {table} s ON s.account_id = a.id AND s.trading_day = st.trading_day
                    WHERE s.id IS NULL
                    ORDER BY a.id, st.trading_day""",
                [batch_id])
            counts.created = cursor.rowcount
        if counts.updated:
            counts.extra["replaced_snapshots"] = counts.updated
        aggregates.refresh_overnight_of_batch(batch_id)
        return counts
