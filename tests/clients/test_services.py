"""The write services: what they change, and that bad input changes nothing."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from clients import roles, services
from clients.models import Account, Client, Interaction, Prospect, Task
from clients.models.core import ProspectStage, TaskStatus
from tests import factories


def test_client_update_changes_contact_details_and_records_history(book, manager_a):
    client = book["a1"]

    services.client_update(client=client, user=manager_a,
                           data={"phone": " 13912345678 ", "email": "zw@example.com"})

    client.refresh_from_db()
    assert (client.phone, client.email) == ("13912345678", "zw@example.com")
    latest = client.history.latest()
    assert latest.history_user == manager_a
    assert latest.phone == "13912345678"


def test_client_update_refuses_bad_email_and_other_fields(book, manager_a):
    client = book["a1"]
    with pytest.raises(ValidationError) as exc:
        services.client_update(client=client, user=manager_a,
                               data={"email": "not-an-email", "name": "Other", "phone": "1"})
    assert set(exc.value.message_dict) == {"email", "name"}
    client.refresh_from_db()
    assert (client.name, client.phone, client.email) == ("张伟", "13800001001", "")


def test_interaction_add_records_who_and_what(book, manager_a):
    interaction = services.interaction_add(client=book["a1"], staff=manager_a, kind="visit",
                                           summary="  Visited the office  ", outcome="Signed")
    assert (interaction.staff, interaction.kind, interaction.summary, interaction.outcome) == (
        manager_a, "visit", "Visited the office", "Signed")


def test_interaction_add_refuses_bad_kind_empty_summary_and_future(book, manager_a):
    with pytest.raises(ValidationError) as exc:
        services.interaction_add(client=book["a1"], staff=manager_a, kind="telepathy",
                                 summary="  ", occurred_at=timezone.now() + dt.timedelta(days=2))
    assert set(exc.value.message_dict) == {"kind", "summary", "occurred_at"}
    assert Interaction.objects.count() == 0


def test_task_create_and_complete(book, manager_a):
    task = services.task_create(assignee=manager_a, client=book["a1"], kind="follow_up",
                                title="Call back", due_on=dt.date(2026, 12, 1), created_by=manager_a)
    done = services.task_complete(task=task, user=manager_a, outcome="Reached")
    again = services.task_complete(task=task, user=manager_a, outcome="ignored")

    assert (done.status, done.outcome, done.completed_by) == (TaskStatus.DONE, "Reached", manager_a)
    assert again.outcome == "Reached"
    assert Task.objects.get().completed_at is not None


def test_a_cancelled_task_cannot_be_completed(book, manager_a):
    task = factories.TaskFactory(assignee=manager_a, client=book["a1"], status=TaskStatus.CANCELLED)
    with pytest.raises(ValidationError):
        services.task_complete(task=task, user=manager_a)
    task.refresh_from_db()
    assert task.status == TaskStatus.CANCELLED


def test_prospect_moves_one_step_at_a_time_and_lost_needs_a_reason(manager_a, branch_a):
    prospect = factories.ProspectFactory(owner=manager_a, branch=branch_a)

    services.prospect_move(prospect=prospect, stage="contacted", user=manager_a, next_step="Visit")
    with pytest.raises(ValidationError) as skipped:
        services.prospect_move(prospect=prospect, stage="lead", user=manager_a)
    with pytest.raises(ValidationError) as no_reason:
        services.prospect_move(prospect=prospect, stage="lost", user=manager_a)
    services.prospect_move(prospect=prospect, stage="visited", user=manager_a)

    prospect.refresh_from_db()
    assert (prospect.stage, prospect.next_step) == ("visited", "Visit")
    assert "stage" in skipped.value.message_dict
    assert "lost_reason" in no_reason.value.message_dict


def test_prospect_convert_creates_client_with_account_and_links_it(manager_a, branch_a):
    prospect = factories.ProspectFactory(owner=manager_a, branch=branch_a, name="赵六",
                                         phone="13700000000", stage=ProspectStage.VISITED)

    client = services.prospect_convert(prospect=prospect, user=manager_a, client_no="C9001",
                                       account_id="89009001", id_number="31010419851212004x",
                                       opened_on=dt.date(2026, 11, 20))

    prospect.refresh_from_db()
    assert prospect.stage == ProspectStage.CONVERTED
    assert prospect.client == client
    assert (client.name, client.manager, client.branch, client.phone) == (
        "赵六", manager_a, branch_a, "13700000000")
    assert client.id_number == "31010419851212004X"
    assert list(client.accounts.values_list("account_id", "opened_on")) == [
        ("89009001", dt.date(2026, 11, 20))]
    assert client.history.count() == 1


def test_prospect_convert_with_bad_data_changes_nothing(book, manager_a, branch_a):
    prospect = factories.ProspectFactory(owner=manager_a, branch=branch_a)

    with pytest.raises(ValidationError) as exc:
        services.prospect_convert(prospect=prospect, user=manager_a, client_no="C1001",
                                  account_id="80001001", id_number="110101199003076631")

    assert set(exc.value.message_dict) == {"client_no", "account_id", "id_number"}
    prospect.refresh_from_db()
    assert prospect.stage == ProspectStage.LEAD
    assert Client.objects.count() == 3
    assert Account.objects.count() == 3


def test_prospect_convert_refuses_a_duplicate_id_number(book, manager_a, branch_a):
    prospect = factories.ProspectFactory(owner=manager_a, branch=branch_a)
    with pytest.raises(ValidationError) as exc:
        services.prospect_convert(prospect=prospect, user=manager_a, client_no="C9002",
                                  account_id="89009002", id_number="110101199003076632")
    assert exc.value.message_dict["id_number"] == ["A client with this ID number exists already."]
    assert not Prospect.objects.filter(client__isnull=False).exists()


def test_branch_manager_reassigns_within_the_branch(book, branch_manager_a, branch_a):
    other = factories.staff_user("am_a2", roles.ACCOUNT_MANAGER, branch=branch_a)

    services.client_reassign(client=book["a1"], manager=other, user=branch_manager_a)

    book["a1"].refresh_from_db()
    assert book["a1"].manager == other
    assert book["a1"].history.latest().history_user == branch_manager_a


def test_reassign_refuses_other_branch_managers_and_account_managers(
    book, branch_manager_a, manager_a, manager_b
):
    with pytest.raises(ValidationError) as exc:
        services.client_reassign(client=book["a1"], manager=manager_b, user=branch_manager_a)
    with pytest.raises(PermissionDenied):
        services.client_reassign(client=book["a2"], manager=manager_a, user=manager_a)
    with pytest.raises(PermissionDenied):
        services.client_reassign(client=book["b1"], manager=manager_a, user=branch_manager_a)

    assert "manager" in exc.value.message_dict
    assert Client.objects.get(client_no="C1001").manager == manager_a
    assert Client.objects.get(client_no="C2001").manager == manager_b
