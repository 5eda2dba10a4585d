"""The suitability API: the matrix through POST /check/, visibility, steps, no delete."""

from __future__ import annotations

import datetime as dt

import pytest

from suitability.models import Assessment, MismatchCase
from tests import factories

from .factories import MATRIX, assess, put_in_state

PRODUCTS = ["AM-R1", "AM-R2", "rb", "IF2512", "OTC-UNBOUNDED"]  # R1 … R5


@pytest.fixture
def api(client):
    def as_user(user):
        client.force_login(user)
        return client

    return as_user


@pytest.mark.parametrize("state", list(MATRIX))
def test_the_whole_matrix_through_the_api(api, compliance_user, state):
    person = factories.ClientFactory()
    account = factories.AccountFactory(client=person)
    put_in_state(person, state)
    http = api(compliance_user)
    got = []
    for product in PRODUCTS:
        response = http.post("/api/v1/suitability/check/", {"account": account.account_id, "product": product,
                                                             "on": "2026-11-16"})
        assert response.status_code == 200, response.content
        got.append(response.json()["result"])
    assert got == MATRIX[state]


def test_a_check_reports_levels_warnings_and_the_case_it_opened(api, manager_a, branch_a):
    person = factories.ClientFactory(manager=manager_a, branch=branch_a)
    account = factories.AccountFactory(client=person)
    assess(person, 3, on=dt.date(2026, 1, 5), horizon="short", product_kinds=["futures"])
    body = api(manager_a).post("/api/v1/suitability/check/", {"account": account.account_id, "product": "i2607-P-750",
                                                              "on": "2026-11-16"}).json()
    case = MismatchCase.objects.get()
    assert body == {
        "result": "mismatch", "client_level": "C3", "product_level": "R4", "product": "DCE:i:options",
        "catalog_code": "OPTIONS", "warnings": ["product_kind"], "reason": "above_level", "case": case.pk,
    }
    assert (case.source, case.state, case.opened_by) == ("presale", "open", manager_a)


def test_someone_elses_account_is_an_unknown_account(api, manager_a, manager_b, branch_b):
    other = factories.AccountFactory(client=factories.ClientFactory(manager=manager_b, branch=branch_b))
    response = api(manager_a).post("/api/v1/suitability/check/", {"account": other.account_id, "product": "rb"})
    assert response.status_code == 400
    assert response.json()["errors"] == {"account": ["Unknown account."]}


def test_missing_fields_are_reported_per_field(api, manager_a):
    response = api(manager_a).post("/api/v1/suitability/check/", {})
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"account", "product"}


def test_cases_of_other_managers_clients_answer_404(api, manager_a, manager_b, branch_b, compliance_user):
    theirs = factories.ClientFactory(manager=manager_b, branch=branch_b)
    account = factories.AccountFactory(client=theirs)
    api(manager_b).post("/api/v1/suitability/check/", {"account": account.account_id, "product": "rb"})
    case = MismatchCase.objects.get()
    http = api(manager_a)
    assert http.get(f"/api/v1/suitability/cases/{case.pk}/").status_code == 404
    assert http.post(f"/api/v1/suitability/cases/{case.pk}/transitions/", {"action": "give_notice"}).status_code == 404
    assert http.get("/api/v1/suitability/cases/").json()["count"] == 0
    assert api(compliance_user).get("/api/v1/suitability/cases/").json()["count"] == 1


def test_transitions_through_the_api(api, manager_a, branch_a, compliance_user):
    person = factories.ClientFactory(manager=manager_a, branch=branch_a)
    account = factories.AccountFactory(client=person)
    assess(person, 2, on=dt.date(2026, 1, 5))
    case_id = api(manager_a).post("/api/v1/suitability/check/", {"account": account.account_id, "product": "cu"}).json()["case"]
    url = f"/api/v1/suitability/cases/{case_id}/transitions/"
    http = api(manager_a)
    assert http.post(url, {"action": "give_notice", "note": "told by phone"}).status_code == 201
    refused = http.post(url, {"action": "sign_warning"})
    assert refused.status_code == 400
    assert "evidence" in refused.json()["errors"]
    assert http.post(url, {"action": "sign_warning", "evidence": "SW-1", "signed_on": "2026-11-16"}).status_code == 201
    assert http.post(url, {"action": "accept", "note": "mine"}).json()["errors"] == {
        "action": ["Only compliance takes this step."]}
    assert http.post(url, {"action": "submit_for_review"}).status_code == 201
    body = api(compliance_user).post(url, {"action": "accept", "note": "ok"}).json()
    assert (body["from_state"], body["to_state"], body["by"]) == ("under_review", "accepted", "compliance")
    detail = api(compliance_user).get(f"/api/v1/suitability/cases/{case_id}/").json()
    assert [t["action"] for t in detail["transitions"]] == [
        "open", "give_notice", "sign_warning", "submit_for_review", "accept"]
    assert detail["allowed_actions"] == []


def test_assessments_are_created_from_answers(api, manager_a, branch_a):
    from .test_scoring import answers_scoring

    person = factories.ClientFactory(manager=manager_a, branch=branch_a)
    response = api(manager_a).post("/api/v1/suitability/assessments/", {
        "client": person.pk, "answers": answers_scoring(56), "client_signed_on": "2026-11-16",
        "esign_ref": "ES-77",
    }, content_type="application/json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["score"], body["level"], body["lowest"], body["questionnaire"]) == (56, 4, False, "P-2017.1")
    assessment = Assessment.objects.get()
    assert assessment.entered_by == manager_a
    assert (assessment.expires_on - assessment.assessed_on).days in (730, 731)


def test_unanswered_questions_are_field_errors(api, manager_a, branch_a):
    person = factories.ClientFactory(manager=manager_a, branch=branch_a)
    response = api(manager_a).post("/api/v1/suitability/assessments/", {"client": person.pk, "answers": {"goal": "growth"}},
                                   content_type="application/json")
    assert response.status_code == 400
    assert "income_source" in response.json()["errors"]["answers"]


def test_the_catalog_is_listed(api, finance_user):
    body = api(finance_user).get("/api/v1/products/?risk_level=4").json()
    assert [p["code"] for p in body["results"]] == ["FUT-CRUDE", "FUT-FINANCIAL", "OPTIONS", "OTC-BOUNDED"]


@pytest.mark.parametrize("url", ["/api/v1/suitability/assessments/{a}/", "/api/v1/suitability/cases/{c}/",
                                 "/api/v1/products/{p}/"])
def test_nothing_can_be_deleted_or_edited_through_the_api(api, compliance_user, admin_user_role, url):
    person = factories.ClientFactory()
    account = factories.AccountFactory(client=person)
    a = assess(person, 1)
    http = api(admin_user_role)
    c = http.post("/api/v1/suitability/check/", {"account": account.account_id, "product": "rb"}).json()["case"]
    from suitability.models import ProductCatalogEntry

    target = url.format(a=a.pk, c=c, p=ProductCatalogEntry.objects.first().pk)
    assert http.delete(target).status_code == 405
    assert http.patch(target, {"note": "x"}, content_type="application/json").status_code == 405


def test_finance_may_not_run_presale_checks(api, finance_user, client):
    account = factories.AccountFactory()
    response = api(finance_user).post("/api/v1/suitability/check/", {"account": account.account_id, "product": "rb"})
    assert response.status_code == 403
    assert client.get("/suitability/check/").status_code == 403
    assert not MismatchCase.objects.exists()


def test_the_error_envelope_speaks_the_users_language(api, manager_a, branch_a):
    person = factories.ClientFactory(manager=manager_a, branch=branch_a)
    http = api(manager_a)
    http.post("/i18n/setlang/", {"language": "zh-hans"})
    body = http.post("/api/v1/suitability/assessments/", {"client": person.pk, "answers": "abc"},
                     content_type="application/json").json()
    assert body["detail"] == "无效的输入。"
    assert body["errors"]["answers"] == ["答案须为对象：{题目编号: 选项值}。"]


def test_a_question_named_like_a_field_is_reported_under_answers(api, manager_a, branch_a):
    from .test_scoring import answers_scoring

    person = factories.ClientFactory(manager=manager_a, branch=branch_a)
    answers = answers_scoring(56)
    del answers["horizon"]  # the question id is also a read-only field of the assessment
    body = api(manager_a).post("/api/v1/suitability/assessments/", {"client": person.pk, "answers": answers},
                               content_type="application/json").json()
    assert body["errors"] == {"answers": {"horizon": ["This question must be answered."]}}
