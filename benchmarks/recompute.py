"""Benchmark: segment recompute over 100,000 clients × 60 trading days on PostgreSQL.

    flock /tmp/bench.lock .venv/bin/python benchmarks/recompute.py [--clients N] [--days D]

Builds its own database (bench_segments; loaded with COPY), then times, as of the
last day:
  * the floor: one hand-written SQL GROUP BY computing average equity, lots, fees
    and last trade day per client over the same window;
  * the recompute with one real Celery worker process, then with two.
Peak memory is the highest VmHWM of the worker processes (and of this process).
Goal: one worker ≤ 2 × floor, peak ≤ 2 GB, two workers faster than one.
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

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DB_NAME = os.environ.get("BENCH_DB", "bench_segments")
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
BROKER = os.environ.get("BENCH_BROKER", "redis://127.0.0.1:6379/13")
os.environ["DATABASE_URL"] = f"{PG}/{DB_NAME}"
os.environ["CELERY_BROKER_URL"] = BROKER
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "brokercrm.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")


def recreate_database() -> None:
    import psycopg2

    conn = psycopg2.connect(f"{PG}/postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        cur.execute(f"CREATE DATABASE {DB_NAME}")
    conn.close()


def business_days(end: dt.date, n: int) -> list[dt.date]:
    days, day = [], end
    while len(days) < n:
        if day.weekday() < 5:
            days.append(day)
        day -= dt.timedelta(days=1)
    return days[::-1]


def copy(cur, table: str, columns: list[str], text: str) -> None:
    cur.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv, NULL '\\N')",
                    io.StringIO(text))


def load(n_clients: int, days: list[dt.date], seed: int = 11) -> dict:
    """Clients, one account each, a snapshot per account per day, ~70 % trading days."""
    import pandas as pd
    from django.db import connection

    rng = np.random.default_rng(seed)
    t0 = time.monotonic()
    ids = np.arange(1, n_clients + 1)
    now = "2026-01-01 00:00:00+00"
    with connection.cursor() as cur:
        cur.execute("INSERT INTO clients_branch (id, code, name, city) VALUES (1, 'B01', 'Bench', '')")
        cur.execute(
            "INSERT INTO clients_importbatch (id, kind, file_name, sha256, source, correction, "
            "status, encoding, rows, created, updated, unchanged, errors, report, created_at) "
            "VALUES (1, 'snapshots', 'bench', 'bench', 'command', false, 'imported', '', 0, 0, 0, "
            "0, 0, '{}', now())"
        )
        opened = pd.Series(pd.to_datetime("2018-01-01") + pd.to_timedelta(
            rng.integers(0, 3000, n_clients), unit="D")).dt.strftime("%Y-%m-%d")
        clients = pd.DataFrame({
            "id": ids, "client_no": [f"C{i:07d}" for i in ids], "client_type": "person",
            "name": "bench", "id_type": "resident_id", "id_number": "", "id_number_hash": "",
            "phone": "", "email": "", "address": "", "opened_on": opened, "branch_id": 1,
            "investor_category": "ordinary", "created_at": now, "updated_at": now,
        })
        copy(cur, "clients_client", list(clients.columns), clients.to_csv(index=False, header=False))
        accounts = pd.DataFrame({
            "id": ids, "account_id": [f"8{i:08d}" for i in ids], "client_id": ids,
            "opened_on": opened, "status": "active", "created_at": now, "updated_at": now,
        })
        copy(cur, "clients_account", list(accounts.columns), accounts.to_csv(index=False, header=False))
        base_equity = np.exp(rng.normal(12.5, 1.6, n_clients)).round(2)  # ~270k median, long tail
        activity_p = rng.uniform(0.0, 1.0, n_clients) ** 0.5
        snap_cols = ["batch_id", "line", "account_id", "trading_day", "pre_balance", "deposit",
                     "withdrawal", "other_cash", "close_pnl", "position_pnl", "fee", "premium_net",
                     "equity", "margin", "risk_degree", "margin_call"]
        act_cols = ["account_id", "trading_day", "trades", "lots", "turnover", "fee",
                    "exchange_fee", "net_fee", "hedge_lots", "arbitrage_lots",
                    "forced_liquidations", "close_pnl", "overnight"]
        snap_rows = act_rows = 0
        for day in days:
            equity = (base_equity * rng.uniform(0.9, 1.1, n_clients)).round(2)
            margin = (equity * rng.uniform(0, 0.95, n_clients)).round(2)
            pnl = (equity * rng.normal(0, 0.01, n_clients)).round(2)
            fee = rng.uniform(0, 50, n_clients).round(2)
            snaps = pd.DataFrame({
                "batch_id": 1, "line": ids + 1, "account_id": ids, "trading_day": day.isoformat(),
                "pre_balance": equity, "deposit": 0, "withdrawal": 0, "other_cash": 0,
                "close_pnl": pnl, "position_pnl": 0, "fee": fee, "premium_net": 0,
                "equity": equity, "margin": margin, "risk_degree": (margin / equity).round(6),
                "margin_call": 0,
            })
            copy(cur, "clients_accountsnapshot", snap_cols, snaps.to_csv(index=False, header=False))
            snap_rows += len(snaps)
            trading = rng.uniform(0, 1, n_clients) < activity_p * 0.9
            k = int(trading.sum())
            trades = rng.integers(1, 60, k)
            lots = trades * rng.integers(1, 5, k)
            fee_t = (lots * rng.uniform(2, 20, k)).round(2)
            exch = (fee_t * 0.4).round(2)
            acts = pd.DataFrame({
                "account_id": ids[trading], "trading_day": day.isoformat(), "trades": trades,
                "lots": lots, "turnover": (lots * 35000.0).round(2), "fee": fee_t,
                "exchange_fee": exch, "net_fee": (fee_t - exch).round(2),
                "hedge_lots": np.where(rng.uniform(0, 1, k) < 0.05, lots, 0),
                "arbitrage_lots": 0, "forced_liquidations": (rng.uniform(0, 1, k) < 0.01).astype(int),
                "close_pnl": 0, "overnight": np.where(margin[trading] > 0, "t", "f"),
            })
            copy(cur, "clients_dailyaccountactivity", act_cols, acts.to_csv(index=False, header=False))
            act_rows += len(acts)
        cur.execute("ANALYZE")
    return {"snapshots": snap_rows, "activity": act_rows, "load_seconds": round(time.monotonic() - t0, 1)}


FLOOR_SQL = """
SELECT a.client_id,
       avg(s.equity) FILTER (WHERE s.trading_day >= %(tier_from)s) AS avg_equity,
       sum(d.lots) AS lots, sum(d.fee) AS fee, sum(d.net_fee) AS net_fee,
       max(d.trading_day) AS last_trade_day
FROM clients_accountsnapshot s
JOIN clients_account a ON a.id = s.account_id
LEFT JOIN clients_dailyaccountactivity d
       ON d.account_id = s.account_id AND d.trading_day = s.trading_day AND d.trades > 0
WHERE s.trading_day BETWEEN %(from)s AND %(to)s
GROUP BY a.client_id
"""


def floor(days: list[dt.date]) -> tuple[float, int]:
    from django.db import connection

    params = {"tier_from": days[-20], "from": days[0], "to": days[-1]}
    with connection.cursor() as cur:
        t0 = time.monotonic()
        cur.execute(FLOOR_SQL, params)
        rows = cur.fetchall()
        return time.monotonic() - t0, len(rows)


def start_worker(name: str) -> subprocess.Popen:
    from brokercrm.celery import app

    env = {**os.environ, "PYTHONPATH": str(ROOT), "LOG_LEVEL": "WARNING"}
    log = ROOT / "var" / f"bench-worker-{name}.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "brokercrm", "worker", "-l", "warning",
         "-n", f"{name}@%h", "--concurrency=1", "--without-gossip", "--without-mingle",
         "--pool=prefork"],
        cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        replies = app.control.ping(timeout=0.5) or []
        if any(name in k for r in replies for k in r):
            return proc
        time.sleep(0.3)
    raise RuntimeError(f"worker {name} did not start: {log.read_text()[-2000:]}")


def descendants(pid: int) -> list[int]:
    out = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return out
    for child in children:
        out += descendants(int(child))
    return out


def peak_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def timed_recompute(as_of: dt.date, workers: list[subprocess.Popen], shard_size: int) -> dict:
    from segmentation import services

    t0 = time.monotonic()
    run = services.recompute(as_of=as_of, shard_size=shard_size, timeout=1800)
    seconds = time.monotonic() - t0
    peaks = [peak_kb(p) for w in workers for p in descendants(w.pid)]
    return {"seconds": round(seconds, 2), "state": run.state, "clients": run.clients,
            "shards": run.shard_count, "peak_worker_mb": round(max(peaks) / 1024, 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--shard-size", type=int, default=None,
                        help="default: one shard per live worker process (≤ 25,000 clients)")
    parser.add_argument("--keep", action="store_true", help="reuse an existing loaded database")
    args = parser.parse_args()

    if not args.keep:
        recreate_database()
    import django

    django.setup()
    from django.core.management import call_command

    from brokercrm.celery import app

    days = business_days(dt.date(2026, 11, 20), args.days)
    if not args.keep:
        call_command("migrate", verbosity=0)
        loaded = load(args.clients, days)
    else:
        loaded = {"reused": True}
    print(json.dumps({"loaded": loaded}), flush=True)
    app.control.purge()

    floor(days)  # warm the cache the same way the recompute's first pass does
    floor_s, floor_rows = floor(days)
    print(json.dumps({"floor_seconds": round(floor_s, 2), "rows": floor_rows}), flush=True)

    w1 = start_worker("bench1")
    timed_recompute(days[-1], [w1], args.shard_size)  # warm-up (imports, caches)
    one = timed_recompute(days[-1], [w1], args.shard_size)
    print(json.dumps({"one_worker": one}), flush=True)
    w2 = start_worker("bench2")
    two = timed_recompute(days[-1], [w1, w2], args.shard_size)
    print(json.dumps({"two_workers": two}), flush=True)
    for w in (w1, w2):
        w.terminate()
    for w in (w1, w2):
        w.wait(timeout=30)
    result = {
        "clients": args.clients, "days": args.days, **loaded,
        "floor_seconds": round(floor_s, 2),
        "one_worker_seconds": one["seconds"], "two_workers_seconds": two["seconds"],
        "ratio_one_worker_to_floor": round(one["seconds"] / floor_s, 2),
        "peak_worker_mb": max(one["peak_worker_mb"], two["peak_worker_mb"]),
        "peak_bench_process_mb": round(peak_kb(os.getpid()) / 1024, 1),
        "goals": {
            "one_worker_le_2x_floor": one["seconds"] <= 2 * floor_s,
            "peak_le_2gb": max(one["peak_worker_mb"], two["peak_worker_mb"]) <= 2048,
            "two_faster_than_one": two["seconds"] < one["seconds"],
        },
        "load": os.getloadavg(),
    }
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
