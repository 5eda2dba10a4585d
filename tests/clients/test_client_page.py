"""The client page: profile with the masked ID, accounts, interactions, tasks, history."""

import datetime as dt

from clients.models import Interaction, Task
from clients.models.core import TaskStatus
from tests import factories


def test_client_page_shows_profile_masked_id_accounts_and_history(book, as_user, manager_a):
    http = as_user(manager_a)
    client = book["a1"]
    factories.InteractionFactory(client=client, staff=manager_a, summary="Talked about rebar")
    factories.TaskFactory(client=client, assignee=manager_a, title="Send fee sheet")

    page = http.get(f"/clients/{client.pk}/")
    html = page.content.decode()

    assert page.status_code == 200
    assert "110***********6632" in html
    assert "110101199003076632" not in html
    assert "80001001" in html
    assert "Talked about rebar" in html
    assert "Send fee sheet" in html
    assert 'id="history"' in html


def test_add_interaction_from_the_page(book, as_user, manager_a):
    http = as_user(manager_a)
    client = book["a1"]

    response = http.post(f"/clients/{client.pk}/interactions/",
                         {"kind": "return_visit", "summary": "Return visit done", "outcome": "OK"})

    assert response.status_code == 302
    interaction = Interaction.objects.get()
    assert (interaction.client, interaction.staff, interaction.kind, interaction.outcome) == (
        client, manager_a, "return_visit", "OK")
    assert "Return visit done" in http.get(f"/clients/{client.pk}/").content.decode()


def test_bad_interaction_form_shows_field_errors_and_saves_nothing(book, as_user, manager_a):
    http = as_user(manager_a)

    response = http.post(f"/clients/{book['a1'].pk}/interactions/",
                         {"kind": "telepathy", "summary": "   ",
                          "occurred_at": "2099-01-01T10:00"})

    form = response.context["interaction_form"]
    assert response.status_code == 400
    assert set(form.errors) == {"kind", "summary", "occurred_at"}
    assert "This field is required." in response.content.decode()
    assert Interaction.objects.count() == 0


def test_complete_a_task_from_the_page(book, as_user, manager_a):
    http = as_user(manager_a)
    task = factories.TaskFactory(client=book["a1"], assignee=manager_a)

    response = http.post(f"/tasks/{task.pk}/complete/", {"outcome": "Called, all fine"})

    task.refresh_from_db()
    assert response.status_code == 302
    assert (task.status, task.outcome, task.completed_by) == (TaskStatus.DONE, "Called, all fine",
                                                              manager_a)


def test_another_managers_task_answers_404(book, as_user, manager_a, manager_b):
    task = factories.TaskFactory(client=book["b1"], assignee=manager_b)

    response = as_user(manager_a).post(f"/tasks/{task.pk}/complete/", {})

    assert response.status_code == 404
    assert Task.objects.get().status == TaskStatus.OPEN


def test_contact_form_bad_email_is_refused_and_nothing_changes(book, as_user, manager_a):
    http = as_user(manager_a)
    client = book["a1"]

    bad = http.post(f"/clients/{client.pk}/contact/", {"phone": "1", "email": "nope"})
    good = http.post(f"/clients/{client.pk}/contact/", {"phone": "13911112222",
                                                        "email": "a@b.cn", "address": "上海"})

    assert bad.status_code == 400
    assert "email" in bad.context["contact_form"].errors
    assert good.status_code == 302
    client.refresh_from_db()
    assert (client.phone, client.email, client.address) == ("13911112222", "a@b.cn", "上海")
    page = http.get(f"/clients/{client.pk}/").content.decode()
    assert "13800001001 → 13911112222" in page  # the change history names old and new


def test_branch_manager_reassigns_from_the_page(book, as_user, branch_manager_a, manager_a, branch_a):
    from clients import roles

    other = factories.staff_user("am_a2", roles.ACCOUNT_MANAGER, branch=branch_a)
    http = as_user(branch_manager_a)

    assert 'id="reassign-form"' in http.get(f"/clients/{book['a1'].pk}/").content.decode()
    response = http.post(f"/clients/{book['a1'].pk}/reassign/", {"manager": other.pk})

    book["a1"].refresh_from_db()
    assert response.status_code == 302
    assert book["a1"].manager == other
    assert 'id="reassign-form"' not in as_user(manager_a).get(
        f"/clients/{book['a2'].pk}/").content.decode()


def test_dashboard_shows_my_counts_tasks_and_interactions(book, as_user, manager_a):
    from django.utils import timezone

    today = timezone.localdate()
    factories.TaskFactory(client=book["a1"], assignee=manager_a, title="Overdue call",
                          due_on=today - dt.timedelta(days=2))
    factories.TaskFactory(client=book["a2"], assignee=manager_a, title="Later",
                          due_on=today + dt.timedelta(days=30))
    factories.InteractionFactory(client=book["a2"], staff=manager_a, summary="Met at seminar")
    factories.InteractionFactory(client=book["b1"], summary="Not mine")

    page = as_user(manager_a).get("/")
    html = page.content.decode()

    assert page.context["my_clients_count"] == 2
    assert page.context["tasks_open_count"] == 2
    assert page.context["tasks_overdue_count"] == 1
    assert [t.title for t in page.context["tasks_due"]] == ["Overdue call"]
    assert "Met at seminar" in html
    assert "Not mine" not in html
