"""In headless Chromium: an account manager finds a client, records an interaction and
switches the interface to Simplified Chinese."""

import pytest

from clients import roles
from tests import factories
from tests.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_account_manager_finds_client_adds_interaction_and_switches_language(browser_page):
    branch = factories.BranchFactory(code="B01", name="上海营业部")
    manager = factories.staff_user("am_browser", roles.ACCOUNT_MANAGER, branch=branch)
    target = factories.ClientFactory(client_no="C5001", name="欧阳明", manager=manager, branch=branch)
    factories.AccountFactory(account_id="85005001", client=target)
    factories.ClientFactory(client_no="C5002", name="司马光", manager=manager, branch=branch)
    page = browser_page

    login(page, "am_browser")
    assert page.locator("h1").inner_text() == "My dashboard"

    with page.expect_navigation():
        page.click("nav.mainnav >> text=Clients")
    page.fill("#q", "欧阳")
    with page.expect_navigation():
        page.click("#client-filters button[type=submit]")
    rows = page.locator("#client-table tbody tr")
    assert rows.count() == 1
    with page.expect_navigation():
        page.click("#client-table >> text=欧阳明")
    assert "C5001" in page.locator("h1").inner_text()
    assert page.locator("#masked-id").inner_text().startswith("110***")

    page.select_option("#interaction-form select[name=kind]", "visit")
    page.fill("#interaction-form textarea[name=summary]", "Visited to explain margin rules")
    page.fill("#interaction-form input[name=outcome]", "Agreed to reduce leverage")
    with page.expect_navigation():
        page.click("#interaction-form button[type=submit]")
    assert "Visited to explain margin rules" in page.locator("#interaction-list").inner_text()
    assert target.interactions.get().staff == manager

    # The select submits its form on change: wait for that navigation, not just idleness.
    with page.expect_navigation():
        page.select_option("select[name=language]", "zh-hans")
    page.wait_for_selector("html[lang=zh-hans]")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert "添加沟通记录" in page.content()
    assert "证件号码" in page.locator("#profile").inner_text()
    assert page.locator("nav.mainnav").inner_text().startswith("工作台")
