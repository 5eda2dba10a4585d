"""Helpers for the importer tests: the shared sample files and a one-call import."""

from __future__ import annotations

from pathlib import Path

import pytest

from clients.importers.pipeline import import_file
from tests import factories

# ../shared/data beside the repository (where CI puts it); copies ship in samples/.
SAMPLES = Path(__file__).resolve().parents[3].parent / "shared" / "data"
if not SAMPLES.exists():
    SAMPLES = Path(__file__).resolve().parent / "samples"
BAD = Path(__file__).resolve().parent / "bad_files"


def run(kind: str, path, *, correction: bool = False, **kwargs):
    path = Path(path)
    return import_file(kind=kind, path_or_file=path, file_name=path.name,
                       correction=correction, **kwargs)


@pytest.fixture
def staff_codes(db):
    """The account managers the sample clients files name (M001, M002)."""
    from clients import roles

    m1 = factories.staff_user("m001", roles.ACCOUNT_MANAGER)
    m2 = factories.staff_user("m002", roles.ACCOUNT_MANAGER)
    m1.staff_profile.staff_code = "M001"
    m1.staff_profile.save()
    m2.staff_profile.staff_code = "M002"
    m2.staff_profile.save()
    return m1, m2


@pytest.fixture
def sample_clients(staff_codes):
    """Branches and clients of the samples loaded."""
    assert run("branches", SAMPLES / "branches.csv").status == "imported"
    batch = run("clients", SAMPLES / "clients.csv")
    assert batch.status == "imported", batch.report
    return batch


@pytest.fixture(autouse=True)
def product_reference(db):
    """The shipped product table; a transactional test elsewhere may have flushed it."""
    from importlib import import_module

    from django.apps import apps as django_apps

    from clients.models import FuturesProduct

    if not FuturesProduct.objects.filter(code="rb", exchange="SHFE").exists() or \
            not FuturesProduct.objects.filter(code="sc").exists():
        import_module("clients.migrations.0002_product_reference").ship(django_apps, None)
