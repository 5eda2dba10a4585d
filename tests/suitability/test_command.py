"""manage.py suitability_check: the last line is the JSON summary."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core.management import CommandError, call_command

from suitability.models import MismatchCase
from tests import factories

from .factories import assess


@pytest.fixture
def account(db):
    person = factories.ClientFactory()
    account = factories.AccountFactory(account_id="80077001", client=person)
    assess(person, 3, on=dt.date(2025, 1, 10))  # valid until 2027-01-10
    return account


def run(*args) -> dict:
    out = io.StringIO()
    call_command("suitability_check", *args, stdout=out)
    return json.loads(out.getvalue().strip().splitlines()[-1])


@pytest.mark.parametrize("product,expected", [
    ("rb", {"result": "match", "client_level": "C3", "product_level": "R3"}),
    ("sc", {"result": "mismatch", "client_level": "C3", "product_level": "R4"}),
    ("IF2512", {"result": "mismatch", "client_level": "C3", "product_level": "R4"}),
    ("i2607-P-750", {"result": "mismatch", "client_level": "C3", "product_level": "R4"}),
    ("TA605", {"result": "match", "client_level": "C3", "product_level": "R3"}),
    ("AM-R2", {"result": "match", "client_level": "C3", "product_level": "R2"}),
    ("OTC-UNBOUNDED", {"result": "mismatch", "client_level": "C3", "product_level": "R5"}),
    ("zz2601", {"result": "mismatch", "client_level": "C3", "product_level": "R5", "flagged": True}),
])
def test_products_by_code_instrument_or_catalog_code(account, product, expected):
    assert run("--account", "80077001", "--product", product, "--on", "2026-11-16") == expected


def test_as_of_a_day_after_expiry(account):
    assert run("--account", "80077001", "--product", "rb", "--on", "2027-01-10") == {
        "result": "prohibited", "client_level": "unassessed", "product_level": "R3"}


def test_the_command_opens_no_case(account):
    run("--account", "80077001", "--product", "sc")
    assert not MismatchCase.objects.exists()


def test_an_unknown_account_fails(db):
    with pytest.raises(CommandError):
        call_command("suitability_check", "--account", "nope", "--product", "rb")
