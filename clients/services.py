"""Writes of the clients app. Views and the API validate input, then call one of these.

Every function takes keyword arguments, checks what the user may do through the
selectors (a forbidden object is "not found"), and raises django's ValidationError
with field errors when the data is wrong — nothing is written in that case.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from brokercrm.crypto import id_number_hash

from . import roles
from .idnumbers import resident_id_problem
from .models import Account, Client, Interaction, Prospect, Task
from .models.core import (
    AccountStatus,
    ClientType,
    IdType,
    InteractionKind,
    ProspectStage,
    TaskKind,
    TaskOrigin,
    TaskStatus,
)

CLIENT_EDITABLE_FIELDS = ("phone", "email", "address")

# Where a prospect may go from each stage; "converted" only through prospect_convert.
PROSPECT_MOVES: dict[str, tuple[str, ...]] = {
    ProspectStage.LEAD: (ProspectStage.CONTACTED, ProspectStage.LOST),
    ProspectStage.CONTACTED: (ProspectStage.VISITED, ProspectStage.LOST),
    ProspectStage.VISITED: (ProspectStage.LOST,),
    ProspectStage.LOST: (ProspectStage.LEAD,),
    ProspectStage.CONVERTED: (),
}


def _require(errors: dict, field: str, value, message: str | None = None) -> None:
    if value in (None, ""):
        errors.setdefault(field, []).append(message or _("This field is required."))


# --- clients -------------------------------------------------------------------


@transaction.atomic
def client_update(*, client: Client, user, data: dict) -> Client:
    """Contact details (phone, email, address); history records who changed what."""
    errors: dict[str, list[str]] = {}
    unknown = set(data) - set(CLIENT_EDITABLE_FIELDS)
    for field in sorted(unknown):
        errors[field] = [_("This field cannot be changed here.")]
    email = (data.get("email") or "").strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors["email"] = [_("Enter a valid email address.")]
    for field in CLIENT_EDITABLE_FIELDS:
        if field in data and len(str(data[field] or "")) > Client._meta.get_field(field).max_length:
            errors.setdefault(field, []).append(_("Too long."))
    if errors:
        raise ValidationError(errors)
    for field in CLIENT_EDITABLE_FIELDS:
        if field in data:
            setattr(client, field, (data[field] or "").strip())
    client._history_user = user
    client.save()
    return client


@transaction.atomic
def client_reassign(*, client: Client, manager, user) -> Client:
    """A branch manager (or admin) hands a client of their branch to another account
    manager of that branch."""
    user_roles = roles.user_roles(user)
    is_admin = roles.ADMIN in user_roles
    own_branch = getattr(getattr(user, "staff_profile", None), "branch_id", None)
    if not is_admin and not (roles.BRANCH_MANAGER in user_roles and own_branch == client.branch_id):
        raise PermissionDenied(_("Only the branch manager of the client's branch reassigns it."))
    if manager is None:
        raise ValidationError({"manager": [_("This field is required.")]})
    manager_branch = getattr(getattr(manager, "staff_profile", None), "branch_id", None)
    if not manager.groups.filter(name=roles.ACCOUNT_MANAGER).exists():
        raise ValidationError({"manager": [_("The new manager must be an account manager.")]})
    if manager_branch != client.branch_id:
        raise ValidationError({"manager": [_("The new manager must work at the client's branch.")]})
    client.manager = manager
    client._history_user = user
    client.save()
    return client


# --- interactions and tasks ------------------------------------------------------


@transaction.atomic
def interaction_add(
    *,
    client: Client,
    staff,
    kind: str,
    summary: str,
    outcome: str = "",
    occurred_at: dt.datetime | None = None,
) -> Interaction:
    errors: dict[str, list[str]] = {}
    if kind not in InteractionKind.values:
        errors["kind"] = [_("Choose a valid kind.")]
    summary = (summary or "").strip()
    _require(errors, "summary", summary)
    if len(outcome or "") > 200:
        errors["outcome"] = [_("Too long.")]
    if occurred_at and occurred_at > timezone.now() + dt.timedelta(minutes=5):
        errors["occurred_at"] = [_("An interaction cannot be in the future.")]
    if errors:
        raise ValidationError(errors)
    return Interaction.objects.create(
        client=client,
        staff=staff,
        kind=kind,
        summary=summary,
        outcome=(outcome or "").strip(),
        occurred_at=occurred_at or timezone.now(),
    )


@transaction.atomic
def task_create(
    *,
    assignee,
    kind: str,
    title: str,
    due_on: dt.date,
    client: Client | None = None,
    created_by=None,
    origin: str = TaskOrigin.PERSON,
    source=None,
) -> Task:
    errors: dict[str, list[str]] = {}
    if kind not in TaskKind.values:
        errors["kind"] = [_("Choose a valid kind.")]
    title = (title or "").strip()
    _require(errors, "title", title)
    _require(errors, "due_on", due_on)
    _require(errors, "assignee", assignee)
    if errors:
        raise ValidationError(errors)
    return Task.objects.create(
        assignee=assignee,
        client=client,
        kind=kind,
        title=title,
        due_on=due_on,
        origin=origin,
        source=source,
        created_by=created_by,
    )


@transaction.atomic
def task_complete(*, task: Task, user, outcome: str = "") -> Task:
    """Mark an open task done. Completing twice changes nothing (idempotent). A return
    visit raised by a suitability case is refused: it closes when the visit is recorded."""
    task = Task.objects.select_for_update().get(pk=task.pk)
    if task.status == TaskStatus.DONE:
        return task
    if task.closes_through_source:
        # Its record (the ReturnVisit with the outcome) is the compliance evidence: without
        # it the task would be done and the visit unrecorded.
        raise ValidationError({"kind": [_(
            "A return visit must be recorded with its outcome, for the compliance record: "
            "record it on the page of suitability case #%(case)s, which closes this task."
        ) % {"case": task.source_id}]})
    if task.status != TaskStatus.OPEN:
        raise ValidationError({"status": [_("Only an open task can be completed.")]})
    task.status = TaskStatus.DONE
    task.outcome = (outcome or "").strip()
    task.completed_at = timezone.now()
    task.completed_by = user
    task.save(update_fields=["status", "outcome", "completed_at", "completed_by"])
    return task


# --- prospects -------------------------------------------------------------------


@transaction.atomic
def prospect_create(*, owner, branch, name: str, **fields) -> Prospect:
    errors: dict[str, list[str]] = {}
    _require(errors, "name", (name or "").strip())
    _require(errors, "branch", branch)
    if errors:
        raise ValidationError(errors)
    return Prospect.objects.create(owner=owner, branch=branch, name=name.strip(), **fields)


@transaction.atomic
def prospect_move(
    *,
    prospect: Prospect,
    stage: str,
    user,
    next_step: str | None = None,
    next_step_on: dt.date | None = None,
    lost_reason: str = "",
) -> Prospect:
    """Move a prospect one step along the pipeline (lead → contacted → visited), or to lost."""
    prospect = Prospect.objects.select_for_update().get(pk=prospect.pk)
    if stage == ProspectStage.CONVERTED:
        raise ValidationError({"stage": [_("Convert the prospect to a client to open an account.")]})
    if stage not in PROSPECT_MOVES.get(prospect.stage, ()):
        raise ValidationError(
            {"stage": [_("A prospect cannot move from %(from)s to %(to)s.")
                       % {"from": prospect.stage, "to": stage}]}
        )
    if stage == ProspectStage.LOST and not (lost_reason or "").strip():
        raise ValidationError({"lost_reason": [_("Say why the prospect was lost.")]})
    prospect.stage = stage
    prospect.lost_reason = (lost_reason or "").strip() if stage == ProspectStage.LOST else ""
    if next_step is not None:
        prospect.next_step = next_step.strip()
    if next_step_on is not None:
        prospect.next_step_on = next_step_on
    prospect.save()
    return prospect


@transaction.atomic
def prospect_convert(
    *,
    prospect: Prospect,
    user,
    client_no: str,
    account_id: str,
    id_number: str,
    opened_on: dt.date | None = None,
    client_type: str = ClientType.PERSON,
    id_type: str = IdType.RESIDENT_ID,
    name: str | None = None,
) -> Client:
    """Account opened: create the Client and its first Account and link the prospect."""
    prospect = Prospect.objects.select_for_update().get(pk=prospect.pk)
    errors: dict[str, list[str]] = {}
    if prospect.stage in (ProspectStage.CONVERTED, ProspectStage.LOST) or prospect.client_id:
        errors["stage"] = [_("Only an open prospect can be converted.")]
    client_no = (client_no or "").strip()
    account_id = (account_id or "").strip()
    id_number = (id_number or "").strip().upper()
    _require(errors, "client_no", client_no)
    _require(errors, "account_id", account_id)
    _require(errors, "id_number", id_number)
    if client_type not in ClientType.values:
        errors["client_type"] = [_("Choose a valid client type.")]
    if id_type not in IdType.values:
        errors["id_type"] = [_("Choose a valid ID type.")]
    if client_no and Client.objects.filter(client_no=client_no).exists():
        errors["client_no"] = [_("A client with this number exists already.")]
    if account_id and Account.objects.filter(account_id=account_id).exists():
        errors["account_id"] = [_("An account with this number exists already.")]
    if id_number and id_type == IdType.RESIDENT_ID:
        problem = resident_id_problem(id_number)
        if problem:
            errors["id_number"] = [problem]
    if id_number and Client.objects.filter(id_number_hash=id_number_hash(id_number)).exists():
        errors.setdefault("id_number", []).append(_("A client with this ID number exists already."))
    if errors:
        raise ValidationError(errors)
    opened_on = opened_on or timezone.localdate()
    client = Client(
        client_no=client_no,
        client_type=client_type,
        name=(name or prospect.name).strip(),
        id_type=id_type,
        id_number=id_number,
        phone=prospect.phone,
        opened_on=opened_on,
        branch=prospect.branch,
        manager=prospect.owner,
    )
    client._history_user = user
    client.save()
    account = Account(account_id=account_id, client=client, opened_on=opened_on,
                      status=AccountStatus.ACTIVE)
    account._history_user = user
    account.save()
    prospect.client = client
    prospect.stage = ProspectStage.CONVERTED
    prospect.save()
    return client


def assignable_managers(branch_id: int):
    return get_user_model().objects.filter(
        groups__name=roles.ACCOUNT_MANAGER, staff_profile__branch_id=branch_id, is_active=True
    ).order_by("username")
