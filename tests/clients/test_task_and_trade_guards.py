"""Guards on records that other flows own: a case's return-visit task is closed by recording
the visit on the case page, and imported trades and snapshots are read-only in the admin."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from clients.models import AccountSnapshot, Task, Trade
from clients.models.core import TaskKind, TaskStatus
from suitability import services as suitability
from suitability.models import ReturnVisit
from tests import factories
from tests.suitability.factories import assess


def _api(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


@pytest.fixture
def visit_task(book, manager_a, compliance_user):
    """The return visit raised when compliance accepts a C3 client's R4 (crude oil) case."""
    client = book["a1"]
    assess(client, 3, on=dt.date(2026, 1, 5))
    case = suitability.presale_check(account=client.accounts.get(), product="sc", user=manager_a).case
    steps = [("give_notice", {}, manager_a),
             ("sign_warning", {"evidence": "SW-9", "signed_on": dt.date(2026, 11, 16)}, manager_a),
             ("submit_for_review", {}, manager_a),
             ("accept", {"note": "ok"}, compliance_user)]
    for action, extra, user in steps:
        suitability.case_transition(case=case, user=user, action=action, **extra)
    return Task.objects.get(kind=TaskKind.RETURN_VISIT)


# --- return-visit tasks ------------------------------------------------------------


def test_the_api_refuses_to_complete_a_cases_return_visit(visit_task, manager_a):
    response = _api(manager_a).post(f"/api/v1/tasks/{visit_task.pk}/complete/", {"outcome": "done"})

    visit_task.refresh_from_db()
    assert response.status_code == 400
    message = response.json()["errors"]["kind"][0]
    assert f"case #{visit_task.source_id}" in message and "record it on the page" in message
    assert visit_task.status == TaskStatus.OPEN
    assert not ReturnVisit.objects.exists()


def test_the_task_form_refuses_to_complete_a_cases_return_visit(visit_task, as_user, manager_a):
    response = as_user(manager_a).post(f"/tasks/{visit_task.pk}/complete/", {"outcome": "done"},
                                       follow=True)

    visit_task.refresh_from_db()
    assert "A return visit must be recorded with its outcome" in response.content.decode()
    assert visit_task.status == TaskStatus.OPEN


def test_the_client_page_links_a_return_visit_to_its_case_instead_of_completing_it(
        visit_task, as_user, manager_a):
    html = as_user(manager_a).get(f"/clients/{visit_task.client_id}/").content.decode()

    assert f'href="/suitability/cases/{visit_task.source_id}/">Record on the case page' in html
    assert f'action="/tasks/{visit_task.pk}/complete/"' not in html


def test_the_dashboard_links_a_return_visit_to_its_case(visit_task, as_user, manager_a):
    Task.objects.filter(pk=visit_task.pk).update(due_on=timezone.localdate())

    html = as_user(manager_a).get("/").content.decode()

    assert f'href="/suitability/cases/{visit_task.source_id}/">Record on the case page' in html
    assert f'action="/tasks/{visit_task.pk}/complete/"' not in html


def test_recording_the_visit_on_the_case_still_closes_the_task(visit_task, as_user, manager_a):
    as_user(manager_a).post(f"/suitability/return-visits/{visit_task.pk}/",
                            {"outcome": "confirmed", "visited_on": "2026-11-18"})

    visit_task.refresh_from_db()
    assert visit_task.status == TaskStatus.DONE
    assert ReturnVisit.objects.get().task == visit_task


def test_a_return_visit_task_a_manager_created_is_completed_as_usual(book, manager_a):
    task = factories.TaskFactory(client=book["a1"], assignee=manager_a, kind=TaskKind.RETURN_VISIT)

    response = _api(manager_a).post(f"/api/v1/tasks/{task.pk}/complete/", {"outcome": "reached"})

    assert response.status_code == 200
    assert response.json()["status"] == "done"


# --- imported trades and snapshots in the admin ---------------------------------------


@pytest.fixture
def trade(book):
    return factories.TradeFactory(account=book["a1"].accounts.get(), trade_id="T-EVIDENCE")


@pytest.fixture
def snapshot(book):
    return factories.SnapshotFactory(account=book["a1"].accounts.get())


def test_the_admin_cannot_delete_a_trade(trade, admin_user_role, client):
    client.force_login(admin_user_role)

    page = client.get(f"/admin/clients/trade/{trade.pk}/delete/")
    post = client.post(f"/admin/clients/trade/{trade.pk}/delete/", {"post": "yes"})

    assert (page.status_code, post.status_code) == (403, 403)
    assert Trade.objects.filter(pk=trade.pk).exists()


def test_the_trade_list_offers_no_delete_action(trade, admin_user_role, client):
    client.force_login(admin_user_role)

    listing = client.get("/admin/clients/trade/").content.decode()
    client.post("/admin/clients/trade/", {"action": "delete_selected",
                                          "_selected_action": [trade.pk], "post": "yes"})

    assert "delete_selected" not in listing
    assert Trade.objects.filter(pk=trade.pk).exists()


def test_the_admin_cannot_add_or_change_a_trade(trade, admin_user_role, client):
    client.force_login(admin_user_role)

    add = client.get("/admin/clients/trade/add/")
    change = client.post(f"/admin/clients/trade/{trade.pk}/change/", {"price": "1"})

    trade.refresh_from_db()
    assert (add.status_code, change.status_code) == (403, 403)
    assert trade.price == Decimal("3500")


def test_the_admin_still_shows_and_finds_trades(trade, admin_user_role, client):
    client.force_login(admin_user_role)

    found = client.get("/admin/clients/trade/", {"q": "T-EVIDENCE"})
    detail = client.get(f"/admin/clients/trade/{trade.pk}/change/")

    assert [t.pk for t in found.context["cl"].result_list] == [trade.pk]
    assert detail.status_code == 200 and "T-EVIDENCE" in detail.content.decode()


def test_the_admin_cannot_delete_add_or_change_a_snapshot(snapshot, admin_user_role, client):
    client.force_login(admin_user_role)

    delete = client.post(f"/admin/clients/accountsnapshot/{snapshot.pk}/delete/", {"post": "yes"})
    add = client.get("/admin/clients/accountsnapshot/add/")
    change = client.post(f"/admin/clients/accountsnapshot/{snapshot.pk}/change/", {"equity": "1"})

    assert (delete.status_code, add.status_code, change.status_code) == (403, 403, 403)
    assert AccountSnapshot.objects.get(pk=snapshot.pk).equity == snapshot.equity
