"""Shared fixtures: the cast of users per role, a real Celery worker, a live server."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from clients import roles
from tests import factories

ROOT = Path(__file__).resolve().parent.parent

# --- reference data ------------------------------------------------------------

# Data migrations ship reference tables (products and fee rates, the suitability
# catalog and questionnaires, segment rules, the default commission scheme, the beat
# schedule). A transactional test ends with a flush that empties them; ship them
# again so the tests after it see the same database a fresh install has.
REFERENCE_DATA = (
    ("clients.migrations.0002_product_reference", "ship"),
    ("suitability.migrations.0002_default_rules_questionnaires_catalog", "load_defaults"),
    ("segmentation.migrations.0002_default_rules_and_schedule", "forwards"),
    ("brokers.migrations.0002_link_exclusion_and_default_scheme", "default_scheme"),
)


def ship_reference_data() -> None:
    from importlib import import_module

    from django.apps import apps

    for module, function in REFERENCE_DATA:
        getattr(import_module(module), function)(apps, None)


@pytest.fixture(autouse=True)
def _reference_data_survives_flush(request, django_db_blocker):
    yield
    marker = request.node.get_closest_marker("django_db")
    transactional = (
        "transactional_db" in request.fixturenames
        or "live_server" in request.fixturenames
        or bool(marker and marker.kwargs.get("transaction"))
    )
    if transactional:
        with django_db_blocker.unblock():
            ship_reference_data()


@pytest.fixture(autouse=True)
def _language_does_not_leak():
    """A request through LocaleMiddleware leaves its language active in the thread; the next
    test starts in the default language again."""
    yield
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)


# --- the cast ------------------------------------------------------------------


@pytest.fixture
def branch_a(db):
    return factories.BranchFactory(code="B01", name="上海营业部")


@pytest.fixture
def branch_b(db):
    return factories.BranchFactory(code="B02", name="北京营业部")


@pytest.fixture
def manager_a(branch_a):
    return factories.staff_user("am_a", roles.ACCOUNT_MANAGER, branch=branch_a)


@pytest.fixture
def manager_b(branch_b):
    return factories.staff_user("am_b", roles.ACCOUNT_MANAGER, branch=branch_b)


@pytest.fixture
def branch_manager_a(branch_a):
    return factories.staff_user("bm_a", roles.BRANCH_MANAGER, branch=branch_a)


@pytest.fixture
def compliance_user(db):
    return factories.staff_user("compliance", roles.COMPLIANCE)


@pytest.fixture
def finance_user(db):
    return factories.staff_user("finance", roles.FINANCE)


@pytest.fixture
def admin_user_role(db):
    return factories.staff_user("admin1", roles.ADMIN, is_staff=True, is_superuser=True)


# --- Celery --------------------------------------------------------------------


@pytest.fixture
def celery_eager():
    """Run tasks in-process for this test, whatever the broker setting."""
    from brokercrm.celery import app

    old = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield app
    app.conf.task_always_eager = old


def _test_database_url() -> str:
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or "postgres"
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}@{host}:{port}/{db['NAME']}"


@pytest.fixture
def celery_worker_factory(transactional_db):
    """Start real `celery worker` processes against Redis and the test database.

    Returns start(name=..., concurrency=1, queues=None) → Popen; every worker is
    stopped at the end of the test. Tests using it must commit their data
    (transactional_db), since the worker is another process.
    """
    if not settings.CELERY_BROKER_URL:
        pytest.skip("no CELERY_BROKER_URL: real-worker tests need Redis")
    from brokercrm.celery import app

    app.control.purge()
    started: list[subprocess.Popen] = []
    logs: list[Path] = []

    def start(name: str = "w1", concurrency: int = 1, extra_env: dict | None = None):
        env = {
            **os.environ,
            "DATABASE_URL": _test_database_url(),
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "PYTHONPATH": str(ROOT),
            **(extra_env or {}),
        }
        log = ROOT / "var" / f"test-worker-{name}.log"
        log.parent.mkdir(exist_ok=True)
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "brokercrm", "worker", "-l", "info",
             "-n", f"{name}@%h", f"--concurrency={concurrency}", "--without-gossip",
             "--without-mingle", "--pool=prefork"],
            cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
        )
        started.append(proc)
        logs.append(log)
        _wait_for_worker(app, name, proc, log)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.terminate()
    for proc in started:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
    app.control.purge()


def _wait_for_worker(app, name: str, proc: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"worker {name} exited: {log.read_text()[-2000:]}")
        replies = app.control.ping(timeout=0.5) or []
        if any(name in reply_name for reply in replies for reply_name in reply):
            return
        time.sleep(0.3)
    raise RuntimeError(f"worker {name} did not start: {log.read_text()[-2000:]}")


# --- browser -------------------------------------------------------------------


def chromium_path() -> str | None:
    for candidate in (os.environ.get("CHROMIUM_PATH"), "/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if candidate and shutil.which(candidate):
            return candidate
    return None


@pytest.fixture
def browser_page(live_server, monkeypatch):
    """A Playwright page in the system's headless Chromium (no browser download)."""
    path = chromium_path()
    if path is None:
        pytest.skip("Chromium not installed: browser tests skipped (apt-get install chromium)")
    # Playwright's sync API runs an event loop; Django must allow ORM use beside it.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=path,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"],
        )
        context = browser.new_context(locale="en-US")
        page = context.new_page()
        page.set_default_timeout(15000)
        page.base_url = live_server.url
        yield page
        context.close()
        browser.close()


def login(page, username: str, password: str = factories.PASSWORD) -> None:
    page.goto(page.base_url + "/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
