"""Fixtures of the suitability tests: the sample book imported through the real importer."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from clients import roles
from tests import factories

# Copies of the shared sample files (../shared/data): branches, clients, trades.
DATA = Path(__file__).resolve().parent / "data"

DAY = dt.date(2026, 11, 16)


def import_path(kind: str, path: Path, **kwargs):
    from clients.importers.pipeline import import_file

    with path.open("rb") as handle:
        return import_file(kind=kind, path_or_file=handle, file_name=path.name, **kwargs)


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """The cast logs in with a password: hash it cheaply in these tests."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def suitability_defaults(request):
    """The shipped catalog, questionnaires and rule set: a data migration creates them,
    but a transactional test elsewhere may have flushed the tables since."""
    if "transactional_db" in request.fixturenames or "live_server" in request.fixturenames:
        request.getfixturevalue("transactional_db")
    elif "db" in request.fixturenames:
        request.getfixturevalue("db")
    else:
        return
    from suitability.defaults import ensure_defaults
    from suitability.models import ProductCatalogEntry, QuestionnaireVersion, RuleSet

    ensure_defaults(RuleSet, QuestionnaireVersion, ProductCatalogEntry)


@pytest.fixture
def sample_book(db, django_capture_on_commit_callbacks):
    """Branches, the six sample clients with their managers (M001 in BJ01, M002 in SH01)."""
    m001 = factories.staff_user("m001", roles.ACCOUNT_MANAGER)
    m002 = factories.staff_user("m002", roles.ACCOUNT_MANAGER)
    with django_capture_on_commit_callbacks(execute=True):
        assert import_path("branches", DATA / "branches.csv").status == "imported"
        assert import_path("clients", DATA / "clients.csv").status == "imported"
    return {"m001": m001, "m002": m002}


@pytest.fixture
def import_file_now(django_capture_on_commit_callbacks):
    """Import a file and run its after-import hooks (as after a real commit)."""

    def run(kind: str, path: Path, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return import_path(kind, path, **kwargs)

    return run
