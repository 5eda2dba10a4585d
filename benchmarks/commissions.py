"""Benchmark: a month of IB commissions over big trade volumes.

Reading of the issue ("a month of 20 trading days × 1,000,000 trades over 100,000
accounts linked to 2,000 IBs"): 1,000,000 trades on each of 20 trading days, i.e.
20,000,000 trades in the month (default). `--trades-per-day 50000` gives the
1,000,000-trade reading.

Builds its own database (bench_commissions) by COPY, then times, in one run:
  * the floor: one SQL GROUP BY of net retained fee per IB over the same trades
    (joined to the links valid on each trading day);
  * compute_commissions(month): the real service (windows for contracts and
    suspensions, lines per account × product written by INSERT … SELECT, the six
    steps per IB, statements saved), first build and a rebuild.
Goal: compute ≤ 2 × floor.

Run (one benchmark at a time on this machine):
  flock /tmp/bench.lock .venv/bin/python benchmarks/commissions.py
  flock /tmp/bench.lock .venv/bin/python benchmarks/commissions.py --reuse   # skip the load
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DB = "bench_commissions"
MONTH = dt.date(2026, 11, 1)
PRODUCTS = (("SHFE", "rb"), ("DCE", "m"), ("DCE", "i"), ("CZCE", "TA"), ("CZCE", "MA"),
            ("CFFEX", "IF"), ("SHFE", "au"), ("SHFE", "cu"), ("DCE", "y"), ("DCE", "p"))
CHUNK = 200_000


def trading_days(count: int) -> list[dt.date]:
    days, day = [], MONTH
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += dt.timedelta(days=1)
    if days[-1].month != MONTH.month:
        raise SystemExit("at most 21 trading days in 2026-11")
    return days


def recreate_database(server: str) -> None:
    import psycopg2

    conn = psycopg2.connect(f"{server}/postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {DB}")
        cur.execute(f"CREATE DATABASE {DB}")
    conn.close()


def copy(cursor, table: str, columns: tuple[str, ...], lines) -> int:
    buffer, count = io.StringIO(), 0
    for line in lines:
        buffer.write(line)
        count += 1
        if count % CHUNK == 0:
            buffer.seek(0)
            cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", buffer)
            buffer = io.StringIO()
    buffer.seek(0)
    cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", buffer)
    return count


def load(args) -> dict:
    from django.db import connection

    from clients.models import Branch, ImportBatch

    now = "2026-11-01 00:00:00+00"
    timings = {}
    started = time.perf_counter()
    branch = Branch.objects.create(code="BJ01", name="北京营业部")
    batch = ImportBatch.objects.create(kind="trades", file_name="bench.csv", sha256="0" * 64,
                                       status="imported")
    with connection.cursor() as cursor:
        raw = cursor.cursor
        copy(raw, "clients_client",
             ("client_no", "client_type", "name", "id_type", "id_number", "id_number_hash", "phone",
              "email", "address", "opened_on", "branch_id", "investor_category", "created_at",
              "updated_at"),
             (f"C{n:07d}\tperson\t客户{n}\tresident_id\t\t\t\t\t\t2024-01-02\t{branch.id}\tordinary\t{now}\t{now}\n"
              for n in range(args.accounts)))
        cursor.execute("SELECT id FROM clients_client ORDER BY client_no")
        client_ids = [row[0] for row in cursor.fetchall()]
        copy(raw, "clients_account",
             ("account_id", "client_id", "opened_on", "status", "created_at", "updated_at"),
             (f"8{n:07d}\t{client_ids[n]}\t2024-01-02\tactive\t{now}\t{now}\n"
              for n in range(args.accounts)))
        cursor.execute("SELECT id FROM clients_account ORDER BY account_id")
        account_ids = [row[0] for row in cursor.fetchall()]
        copy(raw, "brokers_introducingbroker",
             ("code", "name", "broker_type", "id_number", "id_number_hash", "full_civil_capacity",
              "qualification_no", "registered_on", "training_hours", "contract_start",
              "contract_end", "status", "bank_name", "bank_account", "bank_account_name",
              "exclusivity_declared", "created_at", "updated_at"),
             (f"IB{n:05d}\t居间人{n}\t{'institution' if n % 10 == 0 else 'person'}\t\t\tt\tF{n}\t"
              f"2021-10-08\t10\t2022-01-01\t2027-12-31\tactive\t\t\t\tt\t{now}\t{now}\n"
              for n in range(args.brokers)))
        cursor.execute("SELECT id FROM brokers_introducingbroker ORDER BY code")
        broker_ids = [row[0] for row in cursor.fetchall()]
        # Every IB active since its contract; 2 % suspended for a week mid-month.
        copy(raw, "brokers_brokerstatuschange",
             ("broker_id", "status", "effective_from", "note", "created_at"),
             (f"{b}\tactive\t2022-01-01\t\t{now}\n" for b in broker_ids))
        suspended = broker_ids[::50]
        copy(raw, "brokers_brokerstatuschange",
             ("broker_id", "status", "effective_from", "note", "created_at"),
             (line for b in suspended for line in (
                 f"{b}\tsuspended\t2026-11-10\t\t{now}\n", f"{b}\tactive\t2026-11-17\t\t{now}\n")))
        cursor.execute("UPDATE brokers_introducingbroker SET status = 'active'")

        # Each account linked to one IB; 5 % move to the next IB on the 16th.
        def links():
            for n, account in enumerate(account_ids):
                broker = broker_ids[n % len(broker_ids)]
                if n % 20 == 0:
                    nxt = broker_ids[(n + 1) % len(broker_ids)]
                    yield f"{account}\t{broker}\t2024-01-02\t2026-11-15\t{now}\t{now}\n"
                    yield f"{account}\t{nxt}\t2026-11-16\t\\N\t{now}\t{now}\n"
                else:
                    yield f"{account}\t{broker}\t2024-01-02\t\\N\t{now}\t{now}\n"

        copy(raw, "brokers_brokerlink",
             ("account_id", "broker_id", "valid_from", "valid_to", "created_at", "updated_at"), links())
    timings["load_reference_s"] = round(time.perf_counter() - started, 1)

    started = time.perf_counter()
    days = trading_days(args.days)
    accounts = len(account_ids)
    columns = ("batch_id", "line", "account_id", "trading_day", "exchange", "instrument",
               "product_code", "is_option", "direction", "\"offset\"", "hedge_flag", "price", "volume",
               "turnover", "fee", "exchange_fee", "exchange_fee_computed", "trade_id",
               "order_sys_id")
    instruments = [(exchange, code, f"{exchange}\t{code}2605\t{code}") for exchange, code in PRODUCTS]

    def trades():
        n = 0
        for day in days:
            day_text = day.isoformat()
            for _ in range(args.trades_per_day):
                n += 1
                account = account_ids[(n * 7919) % accounts]
                _, _, instrument = instruments[n % 10]
                volume = 1 + n % 5
                fee_c = 500 + (n * 31) % 5000
                ex_c = fee_c * 3 // 10
                yield (f"{batch.id}\t{n}\t{account}\t{day_text}\t{instrument}\tf\t"
                       f"{'buy' if n & 1 else 'sell'}\topen\tspeculation\t3500\t{volume}\t"
                       f"{volume * 35000}.00\t{fee_c // 100}.{fee_c % 100:02d}\t"
                       f"{ex_c // 100}.{ex_c % 100:02d}\tf\tT{n:09d}\t\n")

    with connection.cursor() as cursor:
        count = copy(cursor.cursor, "clients_trade", columns, trades())
        cursor.execute("ANALYZE")
    timings["load_trades_s"] = round(time.perf_counter() - started, 1)
    timings["trades"] = count
    return timings


FLOOR_SQL = """
    SELECT l.broker_id, SUM(t.fee - t.exchange_fee)
    FROM clients_trade t
    JOIN brokers_brokerlink l ON l.account_id = t.account_id AND l.valid_from <= t.trading_day
         AND (l.valid_to IS NULL OR l.valid_to >= t.trading_day)
    WHERE t.trading_day >= %s AND t.trading_day <= %s
    GROUP BY l.broker_id
"""


def measure() -> dict:
    from django.db import connection
    from django.db.models import Sum

    from brokers.models import CommissionStatement
    from brokers.services import compute_commissions, month_bounds

    start, end = month_bounds(MONTH)
    figures = {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM clients_trade WHERE trading_day BETWEEN %s AND %s",
                       [start, end])
        figures["trades_in_month"] = cursor.fetchone()[0]
        started = time.perf_counter()
        cursor.execute(FLOOR_SQL, [start, end])
        floor_rows = cursor.fetchall()
        figures["floor_s"] = round(time.perf_counter() - started, 2)
    figures["floor_brokers"] = len(floor_rows)
    floor_total = sum(row[1] for row in floor_rows)
    started = time.perf_counter()
    summary = compute_commissions(month=MONTH)
    figures["compute_s"] = round(time.perf_counter() - started, 2)
    started = time.perf_counter()
    compute_commissions(month=MONTH)
    figures["recompute_s"] = round(time.perf_counter() - started, 2)
    # The floor again after both (warm cache for both sides).
    with connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.execute(FLOOR_SQL, [start, end])
        cursor.fetchall()
        figures["floor_warm_s"] = round(time.perf_counter() - started, 2)
    figures["ratio_compute_to_floor"] = round(figures["compute_s"] / figures["floor_warm_s"], 2)
    figures["ratio_recompute_to_floor"] = round(figures["recompute_s"] / figures["floor_warm_s"], 2)
    figures["statements"] = summary["statements"]
    figures["lines"] = summary["lines"]
    gross = CommissionStatement.objects.filter(month=start).aggregate(g=Sum("gross"))["g"]
    figures["floor_net_retained"] = str(floor_total)
    # The floor ignores suspensions; the statements exclude the suspended IBs' week.
    figures["statements_gross"] = str(gross)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--trades-per-day", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=20)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--brokers", type=int, default=2_000)
    parser.add_argument("--reuse", action="store_true", help="keep the loaded database")
    args = parser.parse_args()

    if not args.reuse:
        recreate_database(args.server)
    os.environ["DATABASE_URL"] = f"{args.server}/{DB}"
    os.environ.pop("CELERY_BROKER_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "brokercrm.settings")
    import django

    django.setup()
    from django.core.management import call_command

    result = {"database": DB, "trades_per_day": args.trades_per_day, "days": args.days,
              "accounts": args.accounts, "brokers": args.brokers}
    if not args.reuse:
        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        result["migrate_s"] = round(time.perf_counter() - started, 1)
        result.update(load(args))
    result.update(measure())
    result["uptime"] = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(json.dumps(result, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
