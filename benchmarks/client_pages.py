"""Benchmark: the client pages with 100,000 clients in PostgreSQL under 20 concurrent users.

    flock /tmp/bench.lock .venv/bin/python benchmarks/client_pages.py [--clients 100000]
        [--users 20] [--seconds 60] [--workers 4] [--port 8765] [--think 0 1]

1. (Re)creates the database bench_clients (BENCH_DATABASE_URL to change), migrates it.
2. Loads 1,000 clients with accounts by COPY, counts the SQL queries of the list, search
   and client pages in-process; loads the rest up to --clients and counts again.
3. Starts gunicorn (DEBUG=0, real keys), logs in --users users through the login form
   (account managers, branch managers, compliance), and drives for --seconds: the client
   list (filtered, sorted, paginated), search by name and client pages — once per --think
   value: 0 = every user clicks again as soon as a page arrives (capacity), 1 = a pause
   of 0.5–1.5 s between clicks (people reading the page).
4. Prints p50/p95/p99, requests/s, errors, and the query counts at 1k vs 100k.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import http.client
import io
import os
import random
import re
import secrets
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DB_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_clients")
PASSWORD = "bench-pass-2026"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国志红玉春梅海燕晨阳宇航欣怡浩然子涵思远雨桐"
BRANCHES = 5
MANAGERS_PER_BRANCH = 10

# The process that loads data and counts queries runs Django against the bench database
# with production settings, so the keys must be the ones gunicorn gets.
ENV = {
    "DATABASE_URL": DB_URL,
    "DEBUG": "0",
    "SECRET_KEY": os.environ.get("BENCH_SECRET_KEY", secrets.token_urlsafe(50)),
    "FIELD_ENCRYPTION_KEY": "bench-field-key-" + "x" * 16,
    "SECURE_SSL_REDIRECT": "0",
    "SESSION_COOKIE_SECURE": "0",
    "CSRF_COOKIE_SECURE": "0",
    "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
    "CONN_MAX_AGE": "60",
    "LOG_LEVEL": "WARNING",
}
ENV.pop("CELERY_BROKER_URL", None)


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S', time.gmtime())} UTC] {msg}", flush=True)


def recreate_database() -> None:
    import psycopg2

    parsed = urllib.parse.urlparse(DB_URL)
    name = parsed.path.lstrip("/")
    conn = psycopg2.connect(host=parsed.hostname, port=parsed.port or 5432,
                            user=parsed.username or "postgres", dbname="postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                    [name])
        cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()


def migrate() -> None:
    env = {**os.environ, **ENV}
    env.pop("CELERY_BROKER_URL", None)
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT,
                   env=env, check=True)


def setup_django() -> None:
    os.environ.update(ENV)
    os.environ.pop("CELERY_BROKER_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "brokercrm.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def create_staff() -> dict:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group

    from clients import roles
    from clients.models import Branch, StaffProfile

    User = get_user_model()
    password = make_password(PASSWORD)
    groups = {name: Group.objects.get_or_create(name=name)[0] for name in roles.ALL_ROLES}
    branches = [Branch.objects.create(code=f"BR{b:02d}", name=f"第{b}营业部", city="上海")
                for b in range(1, BRANCHES + 1)]
    managers, branch_managers, compliance = [], [], []
    for b, branch in enumerate(branches, start=1):
        for m in range(1, MANAGERS_PER_BRANCH + 1):
            user = User.objects.create(username=f"am_{b:02d}_{m:02d}", password=password)
            user.groups.add(groups[roles.ACCOUNT_MANAGER])
            StaffProfile.objects.create(user=user, staff_code=user.username.upper(), branch=branch)
            managers.append(user)
        user = User.objects.create(username=f"bm_{b:02d}", password=password)
        user.groups.add(groups[roles.BRANCH_MANAGER])
        StaffProfile.objects.create(user=user, staff_code=user.username.upper(), branch=branch)
        branch_managers.append(user)
    for c in range(1, 8):
        user = User.objects.create(username=f"compliance_{c}", password=password)
        user.groups.add(groups[roles.COMPLIANCE])
        compliance.append(user)
    return {"branches": branches, "managers": managers, "branch_managers": branch_managers,
            "compliance": compliance}


def load_clients(staff: dict, start: int, stop: int, rng: random.Random) -> None:
    """COPY clients start..stop-1 (and their accounts) straight into the tables."""
    from cryptography.fernet import Fernet
    from django.conf import settings
    from django.db import connection

    from clients.idnumbers import make_resident_id

    key = settings.FIELD_ENCRYPTION_KEY
    fernet = Fernet(base64.urlsafe_b64encode(hashlib.sha256(("fernet:" + key).encode()).digest()))
    hash_key = ("hash:" + key).encode()
    managers = staff["managers"]
    clients_buf, accounts_buf = io.StringIO(), io.StringIO()
    now = "2026-11-22 00:00:00+00"
    for n in range(start, stop):
        manager = managers[n % len(managers)]
        branch_id = manager.staff_profile.branch_id
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
        id_number = make_resident_id(f"310104{1950 + n % 50}{1 + n % 12:02d}{1 + n % 28:02d}"
                                     f"{n % 1000:03d}")
        token = fernet.encrypt(id_number.encode()).decode()
        hashed = hmac.new(hash_key, id_number.encode(), hashlib.sha256).hexdigest()
        opened = f"{2010 + n % 16}-{1 + n % 12:02d}-{1 + n % 28:02d}"
        closed = r"\N" if n % 20 else "2026-01-05"
        client_type = "person" if n % 10 else "institution"
        clients_buf.write("\t".join([
            str(n), f"C{n:08d}", client_type, name, "resident_id", token, hashed,
            f"138{n:08d}", "", "", opened, closed, str(branch_id), str(manager.pk), "ordinary",
            now, now]) + "\n")
        accounts_buf.write(f"{n}\t8{n:08d}\t{n}\t{opened}\t\\N\tactive\t{now}\t{now}\n")
        if n % 10 == 3:
            accounts_buf.write(f"{n + 10_000_000}\t9{n:08d}\t{n}\t{opened}\t\\N\tactive\t{now}\t{now}\n")
    clients_buf.seek(0)
    accounts_buf.seek(0)
    with connection.cursor() as cur:
        raw = cur.cursor
        raw.copy_expert(
            "COPY clients_client (id, client_no, client_type, name, id_type, id_number, "
            "id_number_hash, phone, email, address, opened_on, closed_on, branch_id, manager_id, "
            "investor_category, created_at, updated_at) FROM STDIN", clients_buf)
        raw.copy_expert(
            "COPY clients_account (id, account_id, client_id, opened_on, closed_on, status, "
            "created_at, updated_at) FROM STDIN", accounts_buf)
        cur.execute("SELECT setval(pg_get_serial_sequence('clients_client', 'id'), %s)", [stop])
        cur.execute("SELECT setval(pg_get_serial_sequence('clients_account', 'id'), %s)",
                    [stop + 10_000_000])
        cur.execute("ANALYZE clients_client")
        cur.execute("ANALYZE clients_account")


def bench_urls(role: str, user, rng: random.Random, visible_ids: list[int], branch_ids) -> str:
    """One request of the mix: list (filtered, sorted, paginated), search by name, client page."""
    kind = rng.random()
    if kind < 0.45:
        params = {"sort": rng.choice(["client_no", "-client_no", "name", "-name", "opened_on",
                                      "-opened_on", "manager", "branch"]),
                  "page": rng.randint(1, 20)}
        if rng.random() < 0.5:
            params["status"] = rng.choice(["open", "closed"])
        if rng.random() < 0.3:
            params["client_type"] = rng.choice(["person", "institution"])
        if role != "am" and rng.random() < 0.4:
            params["branch"] = rng.choice(branch_ids)
        return "/clients/?" + urllib.parse.urlencode(params)
    if kind < 0.70:
        q = rng.choice(SURNAMES) + rng.choice(GIVEN)
        return "/clients/?" + urllib.parse.urlencode({"q": q})
    return f"/clients/{rng.choice(visible_ids)}/"


def count_queries(staff: dict) -> dict[str, int]:
    """SQL queries per page, in-process, for a compliance user (sees every client)."""
    from django.db import connection
    from django.test import Client as TestClient
    from django.test.utils import CaptureQueriesContext

    from clients.models import Client

    http = TestClient()
    results = {}
    user = staff["compliance"][0]
    http.force_login(user)
    some = Client.objects.order_by("id").values_list("id", flat=True)[500]
    pages = {
        "list": "/clients/?sort=name&page=3",
        "list_filtered": f"/clients/?branch={staff['branches'][0].pk}&status=open&sort=-opened_on",
        "search": "/clients/?q=" + urllib.parse.quote("王"),
        "client_page": f"/clients/{some}/",
        "api_list": "/api/v1/clients/?ordering=name",
        "dashboard": "/",
    }
    for name, url in pages.items():
        http.get(url)  # warm (role cache, content types)
        with CaptureQueriesContext(connection) as ctx:
            response = http.get(url)
        assert response.status_code == 200, (url, response.status_code)
        results[name] = len(ctx.captured_queries)
    return results


def login(port: int, username: str) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/login/")
    response = conn.getresponse()
    body = response.read().decode()
    cookies = dict(_cookies(response))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1)
    form = urllib.parse.urlencode({"username": username, "password": PASSWORD,
                                   "csrfmiddlewaretoken": token, "next": "/"})
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST", "/login/", body=form, headers={
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": f"csrftoken={cookies['csrftoken']}", "Referer": f"http://127.0.0.1:{port}/login/",
    })
    response = conn.getresponse()
    response.read()
    session = dict(_cookies(response)).get("sessionid")
    if response.status != 302 or not session:
        raise RuntimeError(f"login of {username} failed: {response.status}")
    return session


def _cookies(response):
    for header, value in response.getheaders():
        if header.lower() == "set-cookie":
            name, _, rest = value.partition("=")
            yield name.strip(), rest.split(";")[0]


def drive(port: int, sessions: list[tuple[str, str, list[int], list[int]]], seconds: float,
          think: float = 0.0):
    latencies: list[tuple[str, float]] = []
    errors: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def worker(i: int, role: str, session: str, visible: list[int], branch_ids: list[int]):
        rng = random.Random(1000 + i)
        local, local_errors = [], []
        while time.monotonic() < deadline:
            url = bench_urls(role, None, rng, visible, branch_ids)
            kind = "client_page" if url.startswith("/clients/") and "?" not in url else (
                "search" if "q=" in url else "list")
            started = time.perf_counter()
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                conn.request("GET", url, headers={"Cookie": f"sessionid={session}"})
                response = conn.getresponse()
                response.read()
                conn.close()
                if response.status != 200:
                    local_errors.append(f"{response.status} {url}")
            except Exception as exc:  # noqa: BLE001 - counted, not raised
                local_errors.append(f"{exc.__class__.__name__} {url}")
            local.append((kind, (time.perf_counter() - started) * 1000))
            if think:
                # A person reads the page before the next click (uniform 0.5–1.5 × think).
                time.sleep(think * rng.uniform(0.5, 1.5))
        with lock:
            latencies.extend(local)
            errors.extend(local_errors)

    threads = [threading.Thread(target=worker, args=(i, *s)) for i, s in enumerate(sessions)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, errors, time.monotonic() - started


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--think", type=float, nargs="*", default=[0.0, 1.0],
                        help="seconds a user pauses between requests; one run per value")
    args = parser.parse_args()

    log(f"recreating {DB_URL} and migrating")
    recreate_database()
    migrate()
    setup_django()
    rng = random.Random(42)
    staff = create_staff()
    t0 = time.monotonic()
    load_clients(staff, 1, 1001, rng)
    queries_1k = count_queries(staff)
    log(f"1,000 clients loaded; queries per page: {queries_1k}")
    for start in range(1001, args.clients + 1, 20_000):
        load_clients(staff, start, min(start + 20_000, args.clients + 1), rng)
    log(f"{args.clients:,} clients loaded in {time.monotonic() - t0:.1f} s")
    queries_big = count_queries(staff)
    log(f"queries per page at {args.clients:,}: {queries_big}")

    from django.db import connection

    from clients.models import Client

    connection.close()
    env = {**os.environ, **ENV}
    env.pop("CELERY_BROKER_URL", None)
    gunicorn = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "brokercrm.wsgi", "-b", f"127.0.0.1:{args.port}",
         "-w", str(args.workers), "--log-level", "warning"],
        cwd=ROOT, env=env,
    )
    try:
        for _ in range(100):
            try:
                c = http.client.HTTPConnection("127.0.0.1", args.port, timeout=2)
                c.request("GET", "/login/")
                if c.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.2)
        # 20 users: account managers, branch managers and compliance officers.
        cast = []
        for i in range(args.users):
            if i % 5 in (0, 1):
                user, role = staff["managers"][i * 2 % len(staff["managers"])], "am"
            elif i % 5 in (2, 3):
                user, role = staff["branch_managers"][i % len(staff["branch_managers"])], "bm"
            else:
                user, role = staff["compliance"][i % len(staff["compliance"])], "co"
            cast.append((user, role))
        from clients.selectors import clients_visible_to

        sessions = []
        for user, role in cast:
            visible = list(clients_visible_to(user).order_by("?").values_list("id", flat=True)[:500])
            branch_ids = [b.pk for b in staff["branches"]]
            sessions.append((role, login(args.port, user.username), visible, branch_ids))
        connection.close()
        log(f"{len(sessions)} users logged in; driving for {args.seconds:.0f} s")
        drive(args.port, sessions[:4], 5)  # warm-up: workers import and connect
        runs = [(think, *drive(args.port, sessions, args.seconds, think)) for think in args.think]
    finally:
        gunicorn.terminate()
        gunicorn.wait(timeout=30)

    print()
    print(f"clients: {Client.objects.count():,}  users: {args.users}  gunicorn workers: "
          f"{args.workers}  load: {os.getloadavg()[0]:.2f}")
    for think, latencies, errors, elapsed in runs:
        report(think, latencies, errors, elapsed)
    print(f"queries per page  1k: {queries_1k}")
    print(f"queries per page {args.clients // 1000}k: {queries_big}")
    print(f"query counts independent of size: {queries_1k == queries_big}")


def report(think, latencies, errors, elapsed) -> None:
    all_ms = [ms for _, ms in latencies]
    print()
    print(f"--- think time {think:.1f} s, duration {elapsed:.1f} s")
    print(f"requests: {len(all_ms):,}  requests/s: {len(all_ms) / elapsed:.1f}  errors: {len(errors)}")
    print(f"{'page':<12} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    for kind in ("list", "search", "client_page", "all"):
        values = all_ms if kind == "all" else [ms for k, ms in latencies if k == kind]
        if values:
            print(f"{kind:<12} {len(values):>6} {statistics.median(values):>8.1f} "
                  f"{pct(values, 95):>8.1f} {pct(values, 99):>8.1f}")
    if errors:
        print("first errors:", errors[:5])
    print(f"goal p95 <= 150 ms: {'met' if pct(all_ms, 95) <= 150 else 'NOT met'}")


if __name__ == "__main__":
    main()
