"""Browser: an account manager assesses a client, a pre-sale check comes back mismatch,
the notice and the signed warning are recorded; compliance accepts; the timeline shows it all."""

from __future__ import annotations

import pytest

from clients import roles
from tests import factories
from tests.conftest import login

pytestmark = pytest.mark.browser


@pytest.fixture
def cast(transactional_db):
    from suitability.defaults import ensure_defaults
    from suitability.models import ProductCatalogEntry, QuestionnaireVersion, RuleSet

    # a transactional test elsewhere may have flushed the migration's data
    ensure_defaults(RuleSet, QuestionnaireVersion, ProductCatalogEntry)
    branch = factories.BranchFactory(code="B01", name="上海营业部")
    manager = factories.staff_user("am_browser", roles.ACCOUNT_MANAGER, branch=branch)
    compliance = factories.staff_user("compliance_browser", roles.COMPLIANCE)
    person = factories.ClientFactory(client_no="C7001", name="孙丽", manager=manager, branch=branch)
    factories.AccountFactory(account_id="80070001", client=person)
    return {"manager": manager, "compliance": compliance, "client": person}


def answers_for_c2() -> dict:
    from tests.suitability.test_scoring import answers_scoring

    return answers_scoring(30)


def test_questionnaire_check_warning_and_acceptance(browser_page, cast):
    page = browser_page
    login(page, "am_browser")
    page.goto(f"{page.base_url}/suitability/clients/{cast['client'].pk}/questionnaire/")
    for qid, value in answers_for_c2().items():
        for v in value if isinstance(value, list) else [value]:
            page.check(f"input[name=q_{qid}][value='{v}']")
    page.fill("input[name=client_signed_on]", "2026-11-16")
    page.fill("input[name=esign_ref]", "ES-7001")
    page.click("#questionnaire button[type=submit]")
    page.wait_for_selector("#level")
    assert page.inner_text("#level").startswith("C2")
    assert page.inner_text("#score") == "30"

    page.goto(f"{page.base_url}/suitability/check/")
    page.fill("input[name=account]", "80070001")
    page.fill("input[name=product]", "IF2512")
    page.click("#check-form button[type=submit]")
    assert page.inner_text("#result") == "mismatch"
    assert page.inner_text("#client-level") == "C2 Cautious"
    assert page.inner_text("#product-level") == "R4"
    page.click("#case-link")

    notice = page.locator("form[data-action=give_notice]")
    notice.locator("textarea[name=note]").fill("告知客户股指期货不适合其风险等级")
    notice.locator("button").click()
    page.wait_for_selector("form[data-action=sign_warning]")
    warning = page.locator("form[data-action=sign_warning]")
    warning.locator("input[name=signed_on]").fill("2026-11-16")
    warning.locator("input[name=evidence]").fill("特别风险警示书 SW-7001")
    warning.locator("button").click()
    page.wait_for_selector("form[data-action=submit_for_review]")
    page.locator("form[data-action=submit_for_review] button").click()
    page.wait_for_selector("#case-state")
    assert "review" in page.inner_text("#case-state").lower()
    assert page.locator("form[data-action=accept]").count() == 0

    page.click("form[action$='/logout/'] button")  # the header's log-out form
    page.wait_for_load_state("networkidle")
    login(page, "compliance_browser")
    page.goto(f"{page.base_url}/suitability/cases/")
    page.click("#cases a[href*='/suitability/cases/']")
    accept = page.locator("form[data-action=accept]")
    accept.locator("textarea[name=note]").fill("客户已签署警示书，同意")
    accept.locator("button").click()
    page.wait_for_selector("#case-state")
    assert page.inner_text("#case-state") == "Accepted"
    steps = page.locator("#timeline tbody tr").evaluate_all("rows => rows.map(r => r.dataset.action)")
    assert steps == ["open", "give_notice", "sign_warning", "submit_for_review", "accept"]
    timeline = page.inner_text("#timeline")
    assert "特别风险警示书 SW-7001" in timeline and "compliance_browser" in timeline and "am_browser" in timeline
