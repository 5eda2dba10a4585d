"""Benchmark: import 1,000,000 trades for 100,000 accounts through `import_file` on
PostgreSQL, against a raw `psql \\copy` of the same file into a plain table with the
same indexes.

    flock /tmp/bench.lock .venv/bin/python benchmarks/import_trades.py [--rows N] [--accounts N]

Uses its own database (bench_imports by default; dropped and re-created), creates the
accounts by COPY, writes the file to var/bench/, then measures in this order:
  1. raw: psql \\copy into bench_raw_trades (typed columns, unique natural key, day index)
  2. importer: `import_file(kind="trades")` in a child process (its own peak RSS)
Prints both times, the ratio, the importer's peak RSS and its parse/validate/load split.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG = {"host": "127.0.0.1", "port": "5432", "user": "postgres"}

INSTRUMENTS = (  # exchange, instrument, price, multiplier, exchange fee per lot
    ("SHFE", "rb2601", 3300, 10, "3.30"), ("SHFE", "cu2601", 78000, 5, "19.50"),
    ("DCE", "m2601", 2950, 10, "1.50"), ("DCE", "i2601", 780, 100, "7.80"),
    ("CZCE", "TA601", 4770, 5, "3.00"), ("CZCE", "MA601", 2400, 10, "2.00"),
    ("INE", "sc2601", 520, 1000, "20.00"), ("CFFEX", "IF2512", 3900, 300, "26.91"),
    ("GFEX", "si2601", 9000, 5, "4.50"), ("DCE", "y2601", 8000, 10, "2.50"),
)

# The same indexes as clients_trade: id primary key, batch and account indexes, the unique
# natural key and (trading_day, account). No foreign keys, no conversion, no checks.
RAW_TABLE = """
CREATE TABLE bench_raw_trades (
    id bigserial PRIMARY KEY, batch_id integer NOT NULL DEFAULT 1,
    account_id varchar(30) NOT NULL, trading_day date NOT NULL, trade_date date,
    trade_time time, exchange varchar(6) NOT NULL, instrument varchar(40) NOT NULL,
    direction varchar(4) NOT NULL, "offset" varchar(20) NOT NULL, hedge_flag varchar(12),
    price numeric(18,4) NOT NULL, volume integer NOT NULL, turnover numeric(18,2) NOT NULL,
    fee numeric(18,2) NOT NULL, exchange_fee numeric(18,2), close_pnl numeric(18,2),
    trade_id varchar(40) NOT NULL);
CREATE INDEX bench_raw_batch ON bench_raw_trades (batch_id);
CREATE INDEX bench_raw_account ON bench_raw_trades (account_id);
CREATE UNIQUE INDEX bench_raw_key ON bench_raw_trades
    (account_id, trading_day, exchange, trade_id, direction);
CREATE INDEX bench_raw_day ON bench_raw_trades (trading_day, account_id);
"""
RAW_COLUMNS = ("account_id, trading_day, trade_date, trade_time, exchange, instrument, direction, "
               '"offset", hedge_flag, price, volume, turnover, fee, exchange_fee, close_pnl, '
               "trade_id")


def psql(db: str, sql: str) -> str:
    result = subprocess.run(
        ["psql", "-h", PG["host"], "-p", PG["port"], "-U", PG["user"], "-d", db,
         "-v", "ON_ERROR_STOP=1", "-qAt", "-c", sql],
        check=True, capture_output=True, text=True)
    return result.stdout


def database_url(db: str) -> str:
    return f"postgres://{PG['user']}@{PG['host']}:{PG['port']}/{db}"


def setup_database(db: str) -> None:
    psql("postgres", f"DROP DATABASE IF EXISTS {db}")
    psql("postgres", f"CREATE DATABASE {db}")
    env = {**os.environ, "DATABASE_URL": database_url(db)}
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env,
                   check=True)


def create_accounts(db: str, accounts: int, folder: Path) -> None:
    """One branch, `accounts` clients and accounts, loaded by COPY."""
    clients = folder / "clients.tsv"
    accs = folder / "accounts.tsv"
    with clients.open("w") as c, accs.open("w") as a:
        for n in range(1, accounts + 1):
            c.write(f"{n}\tB{n:07d}\tperson\t客户{n}\tresident_id\t\t\t\t\t\t2020-01-01\t\\N\t1\t"
                    "\\N\tordinary\t2026-01-01 00:00:00+00\t2026-01-01 00:00:00+00\n")
            a.write(f"{n}\t{80000000 + n}\t{n}\t2020-01-01\t\\N\tactive\t"
                    "2026-01-01 00:00:00+00\t2026-01-01 00:00:00+00\n")
    psql(db, "INSERT INTO clients_branch (id, code, name, city) VALUES (1, 'BENCH', 'Bench', '')")
    psql(db, f"\\copy clients_client (id, client_no, client_type, name, id_type, id_number, "
             f"id_number_hash, phone, email, address, opened_on, closed_on, branch_id, "
             f"manager_id, investor_category, created_at, updated_at) FROM '{clients}'")
    psql(db, f"\\copy clients_account (id, account_id, client_id, opened_on, closed_on, status, "
             f"created_at, updated_at) FROM '{accs}'")
    psql(db, "SELECT setval('clients_client_id_seq', (SELECT max(id) FROM clients_client));"
             "SELECT setval('clients_account_id_seq', (SELECT max(id) FROM clients_account));"
             "ANALYZE")


def write_trades(path: Path, rows: int, accounts: int, seed: int = 1) -> None:
    """Canonical trades: `rows` fills over 20 trading days, both sides of some fills."""
    rng = random.Random(seed)
    days = []
    day = dt.date(2026, 10, 1)
    while len(days) < 20:
        if day.weekday() < 5:
            days.append(day)
        day += dt.timedelta(days=1)
    offsets = ("O", "O", "C", "CT", "CY", "F")
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write("account_id,trading_day,trade_date,trade_time,exchange,instrument,direction,"
                "offset,hedge_flag,price,volume,turnover,fee,exchange_fee,close_pnl,trade_id\n")
        per_day = rows // len(days)
        written = 0
        for d_index, day in enumerate(days):
            n_rows = per_day if d_index < len(days) - 1 else rows - written
            iso = day.isoformat()
            for i in range(n_rows):
                exchange, instrument, price, mult, xfee = INSTRUMENTS[i % len(INSTRUMENTS)]
                account = 80000000 + rng.randint(1, accounts)
                volume = rng.randint(1, 20)
                p = price + rng.randint(-50, 50)
                offset = offsets[i % len(offsets)]
                close = "" if offset == "O" else f"{rng.randint(-5000, 5000)}.00"
                f.write(f"{account},{iso},{iso},{9 + i % 6}:{i % 60:02d}:{(i * 7) % 60:02d},"
                        f"{exchange},{instrument},{'B' if i % 2 else 'S'},{offset},S,{p},"
                        f"{volume},{p * volume * mult:.2f},{volume * 5}.00,{xfee},{close},"
                        f"{d_index:02d}{i:08d}\n")
            written += n_rows


def raw_copy(db: str, path: Path) -> float:
    psql(db, "DROP TABLE IF EXISTS bench_raw_trades")
    psql(db, RAW_TABLE)
    started = time.perf_counter()
    psql(db, f"\\copy bench_raw_trades ({RAW_COLUMNS}) FROM '{path}' "
             "WITH (FORMAT csv, HEADER true)")
    return time.perf_counter() - started


IMPORTER = """
import json, resource, sys, time, django
django.setup()
from clients.importers.pipeline import import_file
started = time.perf_counter()
batch = import_file(kind="trades", path_or_file=sys.argv[1], file_name="bench_trades.csv")
elapsed = time.perf_counter() - started
print(json.dumps({"status": batch.status, "rows": batch.rows, "created": batch.created,
                  "errors": batch.report.get("errors", [])[:3], "seconds": elapsed,
                  "timings": batch.report.get("timings", {}),
                  "path": batch.report.get("extra", {}).get("trades_path"),
                  "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def run_importer(db: str, path: Path) -> tuple[dict, float]:
    psql(db, "TRUNCATE clients_trade, clients_dailyaccountactivity, clients_importbatch CASCADE")
    env = {**os.environ, "DATABASE_URL": database_url(db),
           "DJANGO_SETTINGS_MODULE": "brokercrm.settings", "PYTHONPATH": str(ROOT),
           "LOG_LEVEL": os.environ.get("LOG_LEVEL", "WARNING"),
           # Production settings: no DEBUG query log in the measured process.
           "DEBUG": "0", "SECRET_KEY": "bench-only-secret-key-0123456789",
           "FIELD_ENCRYPTION_KEY": "bench-only-field-key", "SECURE_SSL_REDIRECT": "0"}
    result = subprocess.run([sys.executable, "-c", IMPORTER, str(path)], cwd=ROOT, env=env,
                            check=True, stdout=subprocess.PIPE, text=True)
    data = json.loads(result.stdout.strip().splitlines()[-1])
    # The importer's own peak (RUSAGE_CHILDREN would report the largest child so far, e.g. the
    # `manage.py migrate` of the setup).
    return data, data["peak_rss_kb"] / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--db", default="bench_imports")
    parser.add_argument("--keep-file", action="store_true")
    args = parser.parse_args()

    folder = ROOT / "var" / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "bench_trades.csv"
    t0 = time.perf_counter()
    setup_database(args.db)
    create_accounts(args.db, args.accounts, folder)
    write_trades(path, args.rows, args.accounts)
    print(f"setup: database, {args.accounts:,} accounts and {args.rows:,}-row file "
          f"({path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t0:.1f} s")

    raw = raw_copy(args.db, path)
    print(f"raw psql \\copy into a plain table with the same 5 indexes as clients_trade: "
          f"{raw:.2f} s")
    data, rss_mb = run_importer(args.db, path)
    if data["status"] != "imported":
        print("importer did not import:", data)
        sys.exit(1)
    imported = data["seconds"]
    t = data["timings"]
    print(f"import_file (trades, path {data['path']}): {imported:.2f} s, "
          f"{data['created']:,} created of {data['rows']:,} rows")
    hooks = t.get("after_import_hooks", 0)
    folded = (" (checks folded into the load statement: conversion flags, account join, "
              "unique key)" if data["path"] == "postgres_direct" else "")
    print(f"  split: parse+stage {t.get('parse', 0):.2f} s, validate {t.get('validate', 0):.2f} s"
          f"{folded}, load {t.get('load', 0):.2f} s, after-import hooks of other apps "
          f"{hooks:.2f} s, other (sha256 + encoding pass, batch record, COMMIT) "
          f"{imported - sum(t.values()):.2f} s")
    print(f"ratio importer / raw copy: {imported / raw:.2f} (goal ≤ 1.5); "
          f"without other apps' hooks: {(imported - hooks) / raw:.2f}")
    print(f"importer peak RSS: {rss_mb:.0f} MB (goal ≤ 500 MB)")
    print(f"load average: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} "
          f"{os.getloadavg()[2]:.2f}")
    if not args.keep_file:
        path.unlink()


if __name__ == "__main__":
    main()
