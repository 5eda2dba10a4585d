"""Rejected input on the suitability pages: refused with the field and the reason, never
stored when the database cannot hold it, and a bad queue filter drops only itself."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import models
from django.utils import timezone

from clients.models import Task
from suitability import services
from suitability.forms import ConversionForm
from suitability.models import CaseTransition, Conversion, ReturnVisit
from tests import factories

from .factories import assess


@pytest.fixture
def mine(manager_a, branch_a):
    person = factories.ClientFactory(client_no="C3001", name="吴磊", manager=manager_a, branch=branch_a)
    factories.AccountFactory(account_id="80030001", client=person)
    return person


@pytest.fixture
def case(mine, manager_a):
    """An open mismatch case: a C2 client asked for rebar (R3)."""
    assess(mine, 2, on=dt.date(2026, 1, 5))
    return services.presale_check(client=mine, product="rb", user=manager_a).case


@pytest.fixture
def visit_task(case, manager_a, compliance_user):
    """The return visit raised when compliance accepts a C2 client's R4 (IF) case."""
    case = services.presale_check(client=case.client, product="IF2512", user=manager_a).case
    for action, extra, user in [
        ("give_notice", {}, manager_a),
        ("sign_warning", {"evidence": "SW-1", "signed_on": dt.date(2026, 11, 16)}, manager_a),
        ("submit_for_review", {}, manager_a),
        ("accept", {"note": "ok"}, compliance_user),
    ]:
        services.case_transition(case=case, user=user, action=action, **extra)
    return Task.objects.get(kind="return_visit")


def conversion(**values) -> dict:
    return {"direction": "to_professional", "applicant_type": "person", "evidence": "X", **values}


# --- conversions: the form's limits are the database's --------------------------------


@pytest.mark.parametrize("name", [f.name for f in Conversion._meta.fields if isinstance(f, models.DecimalField)])
def test_the_conversion_form_takes_the_digits_of_the_model(name):
    column, field = Conversion._meta.get_field(name), ConversionForm.base_fields[name]
    assert (field.max_digits, field.decimal_places) == (column.max_digits, column.decimal_places)


def test_too_many_years_of_experience_are_a_field_error(client, manager_a, mine):
    client.force_login(manager_a)

    response = client.post(f"/suitability/clients/{mine.pk}/conversion/", conversion(experience_years="123456"))

    assert response.status_code == 200
    assert "Ensure that there are no more than 5 digits in total." in response.content.decode()
    assert not Conversion.objects.exists()


def test_a_25_digit_financial_asset_amount_is_a_field_error(client, manager_a, mine):
    client.force_login(manager_a)

    response = client.post(f"/suitability/clients/{mine.pk}/conversion/",
                           conversion(financial_assets="1" * 25))

    assert "Ensure that there are no more than 18 digits in total." in response.content.decode()
    assert not Conversion.objects.exists()


def test_the_conversion_pages_still_open_after_a_refused_application(client, manager_a, mine):
    client.force_login(manager_a)
    client.post(f"/suitability/clients/{mine.pk}/conversion/", conversion(experience_years="123456"))

    assert client.get("/suitability/conversions/").status_code == 200
    assert client.get(f"/suitability/clients/{mine.pk}/conversion/").status_code == 200
    assert client.get(f"/clients/{mine.pk}/").status_code == 200


def test_an_application_within_the_limits_is_recorded(client, manager_a, mine):
    client.force_login(manager_a)

    response = client.post(f"/suitability/clients/{mine.pk}/conversion/",
                           conversion(financial_assets="1234567890123.45", experience_years="9999.9"))

    assert response.status_code == 302
    assert str(Conversion.objects.get().experience_years) == "9999.9"


# --- case steps and return visits: each error with its field -------------------------------


def test_an_invalid_signing_date_names_the_field_and_the_reason(client, manager_a, case):
    client.force_login(manager_a)
    url = f"/suitability/cases/{case.pk}/transition/"
    client.post(url, {"action": "give_notice", "note": "phoned"})

    page = client.post(url, {"action": "sign_warning", "evidence": "SW-5", "signed_on": "2026-13-45"}, follow=True)

    html = page.content.decode()
    assert "Signed on: Enter a valid date." in html
    assert "Invalid input" not in html
    assert CaseTransition.objects.filter(case=case, action="sign_warning").count() == 0


def test_an_invalid_return_visit_outcome_names_the_field_and_the_reason(client, manager_a, visit_task):
    client.force_login(manager_a)

    page = client.post(f"/suitability/return-visits/{visit_task.pk}/",
                       {"outcome": "maybe", "visited_on": "2026-11-18"}, follow=True)

    html = page.content.decode()
    assert "Outcome: Select a valid choice. maybe is not one of the available choices." in html
    assert not ReturnVisit.objects.exists()


def test_a_second_return_visit_is_refused_with_its_reason(client, manager_a, visit_task):
    client.force_login(manager_a)
    url = f"/suitability/return-visits/{visit_task.pk}/"
    client.post(url, {"outcome": "confirmed", "visited_on": "2026-11-18"})

    page = client.post(url, {"outcome": "concerns", "visited_on": "2026-11-19"}, follow=True)

    assert "This return visit is already closed; nothing was recorded." in page.content.decode()
    assert ReturnVisit.objects.get().outcome == "confirmed"


def test_a_return_visit_dated_in_the_future_is_refused_with_its_reason(client, manager_a, visit_task):
    client.force_login(manager_a)
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()

    page = client.post(f"/suitability/return-visits/{visit_task.pk}/",
                       {"outcome": "confirmed", "visited_on": tomorrow}, follow=True)

    assert page.status_code == 200
    assert "The visit date cannot be in the future." in page.content.decode()
    assert not ReturnVisit.objects.exists()


# --- the case queue: a bad filter value drops only itself ------------------------------------


@pytest.fixture
def rejected_and_open(case, mine, manager_a, compliance_user):
    """The rebar case rejected by compliance, and an open crude-oil case of the same client."""
    for action, extra, user in [
        ("give_notice", {}, manager_a),
        ("sign_warning", {"evidence": "SW-2", "signed_on": dt.date(2026, 11, 16)}, manager_a),
        ("submit_for_review", {}, manager_a),
        ("reject", {"note": "no"}, compliance_user),
    ]:
        services.case_transition(case=case, user=user, action=action, **extra)
    services.presale_check(client=mine, product="sc", user=manager_a)
    return case


def test_a_bad_queue_filter_keeps_the_other_filters(client, compliance_user, rejected_and_open):
    client.force_login(compliance_user)

    html = client.get("/suitability/cases/", {"state": "rejected", "product_level": "9"}).content.decode()

    assert "SHFE:rb" in html and "INE:sc" not in html
    assert ">1 case</p>" in html


def test_a_bad_queue_filter_is_named_with_its_value(client, compliance_user, rejected_and_open):
    client.force_login(compliance_user)

    html = client.get("/suitability/cases/", {"state": "rejected", "product_level": "9"}).content.decode()

    assert "Filter ignored: Product level “9” is not a valid value." in html


def test_the_csv_export_keeps_the_valid_filters_too(client, compliance_user, rejected_and_open):
    client.force_login(compliance_user)

    csv_text = client.get("/suitability/cases/", {"state": "rejected", "product_level": "9", "export": "csv"})

    lines = csv_text.content.decode("utf-8-sig").strip().splitlines()
    assert len(lines) == 2 and ",SHFE:rb," in lines[1]
