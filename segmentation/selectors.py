"""Reads: the frames a shard computes from, and the reports of the pages and API.

The frame loaders read the per-account daily aggregates and snapshots, never raw
trades. On PostgreSQL they stream `COPY (SELECT …) TO STDOUT` into pandas, which is
several times faster than fetching rows through the cursor.
"""

from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict

import numpy as np
import pandas as pd
from django.db import connection
from django.db.models import Count, Max, QuerySet

from clients.models import Account, AccountSnapshot, Client, DailyAccountActivity
from clients.selectors import clients_visible_to

from .models import ClientSegment, RunState, SegmentRun

# --- calendar ------------------------------------------------------------------------


def latest_trading_day() -> dt.date | None:
    return AccountSnapshot.objects.aggregate(day=Max("trading_day"))["day"]


def trading_calendar(*, as_of: dt.date, limit: int | None = None) -> list[dt.date]:
    """The distinct trading days present in imported snapshots, ≤ as_of, ascending."""
    table = AccountSnapshot._meta.db_table
    if connection.vendor == "postgresql":
        # A loose index scan: one index probe per day instead of reading every row.
        sql = (
            f"WITH RECURSIVE days(d) AS ("
            f" SELECT max(trading_day) FROM {table} WHERE trading_day <= %s"
            f" UNION ALL SELECT (SELECT max(trading_day) FROM {table} WHERE trading_day < days.d)"
            f" FROM days WHERE days.d IS NOT NULL"
            f") SELECT d FROM days WHERE d IS NOT NULL"
        )
    else:
        sql = f"SELECT DISTINCT trading_day FROM {table} WHERE trading_day <= %s ORDER BY 1 DESC"
    params: list = [as_of]
    if limit:
        sql += " LIMIT %s"
        params.append(limit)
    with connection.cursor() as cur:
        cur.execute(sql, params)
        days = [_to_date(row[0]) for row in cur.fetchall()]
    return days[::-1]


def _to_date(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


# --- shard frames -------------------------------------------------------------------------


def _frame(sql: str, params: list, columns: list[str], numeric: list[str]) -> pd.DataFrame:
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            query = cur.mogrify(sql, params).decode()
            buf = io.BytesIO()
            cur.copy_expert(f"COPY ({query}) TO STDOUT WITH (FORMAT csv)", buf)
        buf.seek(0)
        if not buf.getbuffer().nbytes:
            return pd.DataFrame({c: pd.Series(dtype="float64") for c in columns})
        return pd.read_csv(buf, header=None, names=columns, engine="c")
    with connection.cursor() as cur:
        cur.execute(sql, params)
        frame = pd.DataFrame(cur.fetchall(), columns=columns)
    for col in numeric:
        frame[col] = pd.to_numeric(frame[col]).astype("float64")
    return frame


def _day_expr(column: str) -> str:
    # Epoch days on PostgreSQL (cheap to ship and to parse); ISO dates on SQLite.
    if connection.vendor == "postgresql":
        return f"({column} - DATE '1970-01-01')"
    return column


def shard_accounts(*, client_id_min: int, client_id_max: int) -> dict[int, int]:
    """account pk → client pk for the shard's clients."""
    return dict(
        Account.objects.filter(client_id__gte=client_id_min, client_id__lte=client_id_max)
        .values_list("id", "client_id")
    )


def _owner_filter(alias: str, accounts: dict[int, int], lo: int, hi: int) -> tuple[str, list]:
    """Rows of the shard's accounts. On PostgreSQL by account id (the unique index on
    (account, trading_day); no join per row); elsewhere through the account table."""
    if connection.vendor == "postgresql":
        return f"{alias}.account_id = ANY(%s)", [list(accounts)]
    a = Account._meta.db_table
    return (f"{alias}.account_id IN (SELECT id FROM {a} WHERE client_id BETWEEN %s AND %s)",
            [lo, hi])


def _to_clients(frame: pd.DataFrame, accounts: dict[int, int]) -> pd.DataFrame:
    ids = frame.pop("account_id").to_numpy(dtype="int64")
    if len(accounts):
        keys = np.fromiter(accounts.keys(), dtype="int64", count=len(accounts))
        values = np.fromiter(accounts.values(), dtype="int64", count=len(accounts))
        order = np.argsort(keys)
        client = values[order][np.searchsorted(keys[order], ids)] if len(ids) else ids
    else:
        client = ids
    frame.insert(0, "client_id", client)
    return frame


def shard_snapshots(
    *, client_id_min: int, client_id_max: int, ranges: list[tuple[dt.date, dt.date]],
    accounts: dict[int, int] | None = None,
) -> pd.DataFrame:
    """client_id, trading_day, equity, margin, margin_call, pnl per account and day."""
    s = AccountSnapshot._meta.db_table
    if accounts is None:
        accounts = shard_accounts(client_id_min=client_id_min, client_id_max=client_id_max)
    owner, params = _owner_filter("s", accounts, client_id_min, client_id_max)
    where_days = " OR ".join("s.trading_day BETWEEN %s AND %s" for _ in ranges) or "FALSE"
    sql = (
        f"SELECT s.account_id, {_day_expr('s.trading_day')}, s.equity, s.margin, s.margin_call, "
        f"s.close_pnl + s.position_pnl - s.fee "
        f"FROM {s} s WHERE {owner} AND ({where_days})"
    )
    for lo, hi in ranges:
        params += [lo, hi]
    columns = ["account_id", "trading_day", "equity", "margin", "margin_call", "pnl"]
    frame = _frame(sql, params, columns, ["equity", "margin", "margin_call", "pnl"])
    return _days(_to_clients(frame, accounts))


def shard_activity(*, client_id_min: int, client_id_max: int, since: dt.date,
                   until: dt.date, accounts: dict[int, int] | None = None) -> pd.DataFrame:
    d = DailyAccountActivity._meta.db_table
    if accounts is None:
        accounts = shard_accounts(client_id_min=client_id_min, client_id_max=client_id_max)
    owner, params = _owner_filter("d", accounts, client_id_min, client_id_max)
    sql = (
        f"SELECT d.account_id, {_day_expr('d.trading_day')}, d.trades, d.lots, d.turnover, "
        f"d.net_fee, d.hedge_lots, d.arbitrage_lots, d.forced_liquidations "
        f"FROM {d} d WHERE {owner} AND d.trading_day BETWEEN %s AND %s AND d.trades > 0"
    )
    columns = ["account_id", "trading_day", "trades", "lots", "turnover", "net_fee",
               "hedge_lots", "arbitrage_lots", "forced_liquidations"]
    frame = _frame(sql, [*params, since, until], columns, ["turnover", "net_fee"])
    for col in ("trades", "lots", "hedge_lots", "arbitrage_lots", "forced_liquidations"):
        frame[col] = pd.to_numeric(frame[col]).astype("int64")
    return _days(_to_clients(frame, accounts))


def _days(frame: pd.DataFrame) -> pd.DataFrame:
    col = frame["trading_day"]
    if connection.vendor == "postgresql" or col.empty:
        frame["trading_day"] = col.to_numpy(dtype="int64")
    else:
        frame["trading_day"] = pd.to_datetime(col.astype(str)).to_numpy(dtype="datetime64[D]").astype("int64")
    return frame


def shard_clients(*, client_id_min: int, client_id_max: int, as_of: dt.date) -> pd.DataFrame:
    """client_id, first_opened (first account opened, else the client's date), closed."""
    qs = (
        Client.objects.filter(id__gte=client_id_min, id__lte=client_id_max, opened_on__lte=as_of)
        .values_list("id", "opened_on", "closed_on")
        .order_by("id")
    )
    rows = list(qs)
    first_acc = dict(
        Account.objects.filter(client_id__gte=client_id_min, client_id__lte=client_id_max)
        .values("client_id").annotate(first=_min("opened_on")).values_list("client_id", "first")
    )
    return pd.DataFrame({
        "client_id": pd.Series([r[0] for r in rows], dtype="int64"),
        "first_opened": [min(first_acc.get(r[0]) or r[1], r[1]) for r in rows],
        "closed": [bool(r[2] and r[2] <= as_of) for r in rows],
    })


def _min(field):
    from django.db.models import Min

    return Min(field)


def run_rows_frame(*, run_id: int, columns: list[str]) -> pd.DataFrame:
    """A run's stored rows as a frame (the final step's input)."""
    table = ClientSegment._meta.db_table
    if connection.vendor == "postgresql":
        sql = f"SELECT {', '.join(columns)} FROM {table} WHERE run_id = %s"
        frame = _frame(sql, [run_id], columns, [])
        return frame
    rows = list(ClientSegment.objects.filter(run_id=run_id).values_list(*columns))
    return pd.DataFrame(rows, columns=columns)


# --- runs and segments -----------------------------------------------------------------------


def current_run(*, as_of: dt.date | None = None) -> SegmentRun | None:
    """The complete run the segments show: for that day, or the latest day."""
    qs = SegmentRun.objects.filter(is_current=True, state=RunState.DONE)
    if as_of is not None:
        qs = qs.filter(as_of=as_of)
    return qs.order_by("-as_of").first()


def segments_visible_to(user, *, as_of: dt.date | None = None) -> QuerySet[ClientSegment]:
    run = current_run(as_of=as_of)
    if run is None:
        return ClientSegment.objects.none()
    return ClientSegment.objects.filter(
        run=run, client__in=clients_visible_to(user)
    ).select_related("client")


def client_segment_history(client) -> QuerySet[ClientSegment]:
    """The client's segments on each day with a current run, latest first."""
    return ClientSegment.objects.filter(client=client, run__is_current=True).order_by("-as_of")


def month_end_runs() -> list[SegmentRun]:
    """The last current run of each month, ascending."""
    by_month: dict[tuple[int, int], SegmentRun] = {}
    for run in SegmentRun.objects.filter(is_current=True, state=RunState.DONE).order_by("as_of"):
        by_month[(run.as_of.year, run.as_of.month)] = run
    return [by_month[k] for k in sorted(by_month)]


def new_large_clients(user, *, month: dt.date | None = None, tier: str = "large") -> dict:
    """Clients large on the month's last run and not large on the previous calendar
    month's last run, for this month and the month before (as of the latest run). A month
    without a run lists nobody; one whose previous month has no run counts every large
    client as new (`no_baseline`) rather than comparing with an older month."""
    runs = month_end_runs()
    if month is not None:
        runs = [r for r in runs if (r.as_of.year, r.as_of.month) <= (month.year, month.month)]
    visible = clients_visible_to(user)

    def large_ids(run):
        if run is None:
            return set()
        return set(
            ClientSegment.objects.filter(run=run, fund_tier=tier, client__in=visible)
            .values_list("client_id", flat=True)
        )

    by_month = {(r.as_of.year, r.as_of.month): r for r in runs}

    def month_before(year: int, month: int) -> tuple[int, int]:
        return (year - 1, 12) if month == 1 else (year, month - 1)

    def entry(key):
        run = by_month.get(key)
        month = f"{key[0]:04d}-{key[1]:02d}" if key else None
        if run is None:  # no run that month: nothing to say (not the month before it)
            return {"run": None, "month": month, "clients": [], "no_baseline": False}
        # against the previous calendar month's last run; without one (the first month, or
        # a month missed) every large client counts as new, and no_baseline says so
        prev = by_month.get(month_before(*key))
        new_ids = large_ids(run) - large_ids(prev)
        clients = list(Client.objects.filter(id__in=new_ids).order_by("client_no"))
        return {"run": run, "month": month, "clients": clients, "no_baseline": prev is None}

    if not runs:
        return {"this_month": entry(None), "last_month": entry(None)}
    this = (runs[-1].as_of.year, runs[-1].as_of.month)
    return {"this_month": entry(this), "last_month": entry(month_before(*this))}


def distribution(user, *, run: SegmentRun | None, field: str) -> dict[str, int]:
    if run is None:
        return {}
    qs = ClientSegment.objects.filter(run=run, client__in=clients_visible_to(user))
    return {row[field]: row["n"] for row in qs.values(field).annotate(n=Count("id")).order_by(field)}


def trends(user, *, field: str) -> dict:
    """Counts per value of `field` on each month's last run: {labels, series}."""
    runs = month_end_runs()
    visible = clients_visible_to(user)
    labels = [r.as_of.isoformat() for r in runs]
    series: dict[str, list[int]] = defaultdict(lambda: [0] * len(runs))
    rows = (
        ClientSegment.objects.filter(run__in=runs, client__in=visible)
        .values("run_id", field).annotate(n=Count("id"))
    )
    index = {r.id: i for i, r in enumerate(runs)}
    for row in rows:
        series[row[field]][index[row["run_id"]]] = row["n"]
    return {"labels": labels, "series": dict(series)}


def migration_matrix(user, *, date_from: dt.date, date_to: dt.date,
                     field: str = "fund_tier") -> dict:
    """How many clients moved from each value to each other between two runs."""
    run_a = current_run_on_or_before(date_from)
    run_b = current_run_on_or_before(date_to)
    if run_a is None or run_b is None:
        return {"from": run_a, "to": run_b, "rows": [], "values": []}
    visible = clients_visible_to(user)
    before = dict(
        ClientSegment.objects.filter(run=run_a, client__in=visible).values_list("client_id", field)
    )
    after = dict(
        ClientSegment.objects.filter(run=run_b, client__in=visible).values_list("client_id", field)
    )
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for cid in set(before) | set(after):
        counts[(before.get(cid, "—"), after.get(cid, "—"))] += 1
    values = sorted({k[0] for k in counts} | {k[1] for k in counts})
    rows = [(v, [counts.get((v, w), 0) for w in values]) for v in values]
    return {"from": run_a, "to": run_b, "rows": rows, "values": values}


def current_run_on_or_before(day: dt.date) -> SegmentRun | None:
    return (
        SegmentRun.objects.filter(is_current=True, state=RunState.DONE, as_of__lte=day)
        .order_by("-as_of").first()
    )


def dormant_per_manager(user, *, run: SegmentRun | None) -> list[dict]:
    if run is None:
        return []
    rows = (
        ClientSegment.objects.filter(run=run, activity_class="dormant",
                                     client__in=clients_visible_to(user))
        .values("client__manager__username").annotate(n=Count("id"))
        .order_by("-n", "client__manager__username")
    )
    return [{"manager": r["client__manager__username"] or "—", "n": r["n"]} for r in rows]
