"""The suitability pages: questionnaire → result, pre-sale check, queue, case page,
conversions, catalog, reports, and the panels on the clients app's pages."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from suitability import defaults, services
from suitability.models import Assessment, MismatchCase
from tests import factories

from .factories import assess
from .test_scoring import answers_scoring


@pytest.fixture
def mine(manager_a, branch_a):
    person = factories.ClientFactory(client_no="C3001", name="吴磊", manager=manager_a, branch=branch_a)
    factories.AccountFactory(account_id="80030001", client=person)
    return person


def form_data(answers: dict) -> dict:
    data = {}
    for qid, value in answers.items():
        data[f"q_{qid}"] = value
    data["client_signed_on"] = "2026-11-16"
    data["esign_ref"] = "ES-1"
    return data


def test_the_questionnaire_page_scores_and_shows_the_result(client, manager_a, mine):
    client.force_login(manager_a)
    page = client.get(f"/suitability/clients/{mine.pk}/questionnaire/")
    assert page.status_code == 200
    # the questions, the client's confirmation (date, e-signature), another lowest-category reason
    assert page.content.decode().count("<fieldset") == len(defaults.PERSON_QUESTIONS) + 3
    response = client.post(f"/suitability/clients/{mine.pk}/questionnaire/", form_data(answers_scoring(36)))
    assessment = Assessment.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/suitability/assessments/{assessment.pk}/"
    html = client.get(response["Location"]).content.decode()
    assert "C3 稳健型" in html and ">36<" in html
    assert assessment.expires_on.isoformat() in html
    # what the client may now trade: R3 commodity futures yes, R4 options only with a warning
    assert "may trade" in html and "only on the warning path" in html


def test_an_incomplete_questionnaire_is_shown_again_with_errors(client, manager_a, mine):
    client.force_login(manager_a)
    answers = answers_scoring(36)
    del answers["goal"]
    response = client.post(f"/suitability/clients/{mine.pk}/questionnaire/", form_data(answers))
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    assert not Assessment.objects.exists()


def test_other_managers_clients_answer_404(client, manager_b, mine):
    client.force_login(manager_b)
    assert client.get(f"/suitability/clients/{mine.pk}/questionnaire/").status_code == 404


def test_the_presale_check_page_opens_a_case(client, manager_a, mine):
    assess(mine, 2, on=dt.date(2026, 1, 5))
    client.force_login(manager_a)
    html = client.post("/suitability/check/", {"account": "80030001", "product": "IF2512"}).content.decode()
    case = MismatchCase.objects.get()
    assert 'id="result">mismatch<' in html and f"/suitability/cases/{case.pk}/" in html
    page = client.get(f"/suitability/cases/{case.pk}/").content.decode()
    assert 'data-action="give_notice"' in page and 'data-action="accept"' not in page


def test_the_queue_shows_counts_ageing_and_exports_csv(client, compliance_user, manager_a, mine):
    assess(mine, 2, on=dt.date(2026, 1, 5))
    services.presale_check(client=mine, product="cu", user=manager_a)
    services.presale_check(client=mine, product="IF2512", user=manager_a)
    client.force_login(compliance_user)
    html = client.get("/suitability/cases/").content.decode()
    assert "SHFE:cu" in html and "CFFEX:IF" in html and "B01" in html
    csv_text = client.get("/suitability/cases/?export=csv").content.decode("utf-8-sig")
    lines = csv_text.strip().splitlines()
    assert lines[0].startswith("case,client_no,branch,manager,product")
    assert len(lines) == 3 and all(",C3001,B01,am_a," in line for line in lines[1:])
    assert client.get("/suitability/cases/?product_level=4").content.decode().count("CFFEX:IF") >= 1
    assert "SHFE:cu" not in client.get("/suitability/cases/?product_level=4").content.decode()


def test_the_queue_pages_through_every_case_oldest_first(client, compliance_user, manager_a, mine, monkeypatch):
    from suitability import views

    monkeypatch.setattr(views, "CASES_PER_PAGE", 2)
    assess(mine, 2, on=dt.date(2026, 1, 5))
    opened = [services.presale_check(client=mine, product=p, user=manager_a).case for p in ("cu", "IF2512", "rb")]
    # one night's detection opens its cases at one instant: the id orders them
    MismatchCase.objects.filter(pk__in=[c.pk for c in opened]).update(opened_at=timezone.now())
    client.force_login(compliance_user)
    first = client.get("/suitability/cases/?source=presale").content.decode()
    second = client.get("/suitability/cases/?source=presale&page=2").content.decode()
    shown = [[c.pk for c in opened if f'href="/suitability/cases/{c.pk}/"' in html] for html in (first, second)]
    assert shown == [[opened[0].pk, opened[1].pk], [opened[2].pk]]
    assert "3 cases" in first and "Page 1 of 2" in first
    assert 'rel="next" href="?source=presale&amp;page=2"' in first
    assert 'rel="prev" href="?source=presale&amp;page=1"' in second and 'rel="next"' not in second
    client.cookies["django_language"] = "zh-hans"
    assert "第 1 页，共 2 页" in client.get("/suitability/cases/?source=presale").content.decode()


def test_the_case_page_records_steps_from_forms(client, manager_a, compliance_user, mine):
    assess(mine, 2, on=dt.date(2026, 1, 5))
    case = services.presale_check(client=mine, product="rb", user=manager_a).case
    client.force_login(manager_a)
    url = f"/suitability/cases/{case.pk}/transition/"
    client.post(url, {"action": "give_notice", "note": "phoned"})
    client.post(url, {"action": "sign_warning", "evidence": "SW-5", "signed_on": "2026-11-16"})
    client.post(url, {"action": "submit_for_review"})
    client.post(url, {"action": "accept", "note": "sneaky"})  # refused: not compliance
    case.refresh_from_db()
    assert case.state == "under_review"
    client.force_login(compliance_user)
    client.post(url, {"action": "accept", "note": "fine"})
    case.refresh_from_db()
    assert case.state == "accepted"
    html = client.get(f"/suitability/cases/{case.pk}/").content.decode()
    assert html.count("<tr data-action=") == 5 and "SW-5" in html


def test_the_timeline_names_every_step_in_both_languages(client, manager_a, compliance_user, mine):
    from suitability import rules
    from suitability.models import CaseAction

    assert set(CaseAction.values) == {"open", *rules.STEPS}  # a name for every step there is
    assess(mine, 2, on=dt.date(2026, 1, 5))
    case = services.presale_check(client=mine, product="rb", user=manager_a).case
    services.case_transition(case=case, user=manager_a, action="give_notice", note="phoned")
    client.force_login(compliance_user)
    english = client.get(f"/suitability/cases/{case.pk}/").content.decode()
    assert "<td>Case opened</td>" in english and "<td>Client told the product is unsuitable</td>" in english
    client.cookies["django_language"] = "zh-hans"
    chinese = client.get(f"/suitability/cases/{case.pk}/").content.decode()
    assert "<td>立案</td>" in chinese and "<td>已告知客户产品不适当</td>" in chinese


def test_reports_are_for_compliance_with_csv(client, compliance_user, manager_a, mine):
    assess(mine, 3, on=timezone.localdate() - dt.timedelta(days=720))  # expires within 30 days
    client.force_login(manager_a)
    assert client.get("/suitability/reports/").status_code == 403
    client.force_login(compliance_user)
    html = client.get("/suitability/reports/").content.decode()
    assert "C3001" in html
    coverage = client.get("/suitability/reports/?export=coverage").content.decode("utf-8-sig").splitlines()
    assert coverage[:3] == ["measure,clients", "clients,1", "valid,1"]
    expiring = client.get("/suitability/reports/?export=expiring").content.decode("utf-8-sig").splitlines()
    assert len(expiring) == 2 and expiring[1].startswith("C3001,吴磊,am_a,C3,")


def test_conversion_pages(client, manager_a, compliance_user, mine):
    client.force_login(manager_a)
    response = client.post(f"/suitability/clients/{mine.pk}/conversion/", {
        "direction": "to_professional", "applicant_type": "person", "financial_assets": "3200000",
        "experience_years": "2", "evidence": "statements", "protections_explained": "on",
    })
    assert response.status_code == 302
    client.force_login(compliance_user)
    assert "C3001" in client.get("/suitability/conversions/").content.decode()
    client.post(response["Location"], {"decision": "approve", "reason": "met"})
    assert "Approved" in client.get(response["Location"]).content.decode()


@pytest.mark.parametrize("url", ["/suitability/", "/suitability/products/", "/suitability/questionnaires/",
                                 "/suitability/questionnaires/?code=P-2017.1", "/suitability/conversions/"])
def test_simple_pages_render(client, compliance_user, url):
    client.force_login(compliance_user)
    assert client.get(url).status_code == 200


def test_the_client_page_shows_the_suitability_history(client, manager_a, mine):
    assess(mine, 4, on=dt.date(2026, 1, 5))
    client.force_login(manager_a)
    html = client.get(f"/clients/{mine.pk}/").content.decode()
    assert 'id="suitability-panel"' in html and "C4 积极型" in html


def test_the_client_list_filters_by_level(client, compliance_user, mine, branch_a):
    other = factories.ClientFactory(client_no="C3002", branch=branch_a)
    assess(mine, 4, on=dt.date(2026, 1, 5))
    assess(other, 1, lowest=True, on=dt.date(2026, 1, 5))
    from clients.models import Client
    from suitability.panels import _filter_level

    qs = Client.objects.all()
    assert list(_filter_level(qs, "C4").values_list("client_no", flat=True)) == ["C3001"]
    assert list(_filter_level(qs, "lowest").values_list("client_no", flat=True)) == ["C3002"]
    assert list(_filter_level(qs, "C1").values_list("client_no", flat=True)) == []
    client.force_login(compliance_user)
    html = client.get("/clients/?suitability_level=C4").content.decode()
    assert "C3001" in html and "C3002" not in html


def test_pages_speak_simplified_chinese(client, compliance_user):
    client.force_login(compliance_user)
    client.cookies["django_language"] = "zh-hans"
    html = client.get("/suitability/cases/").content.decode()
    assert "案件队列" in html and "按营业部" in html
