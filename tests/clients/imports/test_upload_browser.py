"""In headless Chromium: an admin uploads a trades file with a bad row, reads the report,
then uploads a good one and finds both in the history."""

from __future__ import annotations

import pytest

from clients import roles
from tests import factories
from tests.conftest import login

from .conftest import BAD, SAMPLES, run

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_uploads_reads_the_report_and_the_history(browser_page, staff_codes, celery_eager):

    run("branches", SAMPLES / "branches.csv")
    run("clients", SAMPLES / "clients.csv")
    factories.staff_user("admin_browser", roles.ADMIN, is_staff=True)
    page = browser_page
    login(page, "admin_browser")

    page.click("nav.mainnav >> text=Imports")
    page.click("text=Import a file")
    page.select_option("select[name=kind]", "trades")
    page.set_input_files("input[name=file]", str(BAD / "trades_negative_volume.csv"))
    page.click("#upload-button")
    page.wait_for_load_state("networkidle")
    errors = page.locator("#import-errors tbody tr")
    assert errors.count() == 1
    assert errors.first.inner_text().split("\t") == [
        "4", "volume", "-2", "must be a whole number greater than zero"]

    page.click("text=Import another file")
    page.select_option("select[name=kind]", "trades")
    page.set_input_files("input[name=file]", str(SAMPLES / "trades_ctp.csv"))
    page.click("#upload-button")
    page.wait_for_load_state("networkidle")
    assert "Imported" in page.locator("#batch-status").inner_text()
    assert page.locator("#import-errors").count() == 0

    page.click("text=Import history")
    history = page.locator("table.table tbody").inner_text()
    assert "trades_ctp.csv" in history and "trades_negative_volume.csv" in history
