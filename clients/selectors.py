"""Reads. Every page, export, search and API endpoint that lists clients goes
through `clients_visible_to`, so the role rules live here and nowhere else."""

from __future__ import annotations

import datetime as dt
from importlib import import_module

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from brokercrm.crypto import id_number_hash

from . import roles
from .models import Account, Client, Interaction, Prospect, Task
from .models.core import TaskStatus

# Apps that may plug panels and filters into the client pages (see docs/foundation.md).
PANEL_APPS = ("suitability", "segmentation", "brokers")

# Sort keys offered by the client list and the API: public name → ORM ordering.
CLIENT_SORTS: dict[str, tuple[str, ...]] = {
    "client_no": ("client_no",),
    "-client_no": ("-client_no",),
    "name": ("name", "client_no"),
    "-name": ("-name", "-client_no"),
    "opened_on": ("opened_on", "client_no"),
    "-opened_on": ("-opened_on", "-client_no"),
    # Branch and manager sort by id, not by name: it groups the rows the same way and
    # walks the (branch, manager) / (manager, client_no) indexes instead of sorting 100k
    # joined rows on every page.
    "branch": ("branch_id", "manager_id", "client_no"),
    "-branch": ("-branch_id", "-manager_id", "-client_no"),
    "manager": ("manager_id", "client_no"),
    "-manager": ("-manager_id", "-client_no"),
}


def clients_visible_to(user) -> QuerySet[Client]:
    """Clients the user may see; everything else answers 404.

    admin, compliance, finance: all clients. Branch manager: the clients of their
    branch. Account manager: their own clients. Introducing broker: the clients
    linked to them (brokers.selectors decides which).
    """
    user_roles = roles.user_roles(user)
    qs = Client.objects.all()
    if user_roles & {roles.ADMIN, roles.COMPLIANCE, roles.FINANCE}:
        return qs
    if roles.BRANCH_MANAGER in user_roles:
        branch_id = _branch_id(user)
        managed = qs.filter(branch_id=branch_id) if branch_id else qs.none()
        if roles.ACCOUNT_MANAGER in user_roles:
            managed = managed | qs.filter(manager=user)
        return managed
    if roles.ACCOUNT_MANAGER in user_roles:
        return qs.filter(manager=user)
    if roles.INTRODUCING_BROKER in user_roles:
        from brokers.selectors import client_ids_of_broker_user

        return qs.filter(id__in=client_ids_of_broker_user(user))
    return qs.none()


def accounts_visible_to(user) -> QuerySet[Account]:
    return Account.objects.filter(client__in=clients_visible_to(user))


def interactions_visible_to(user) -> QuerySet[Interaction]:
    return Interaction.objects.filter(client__in=clients_visible_to(user))


def tasks_visible_to(user) -> QuerySet[Task]:
    """Own tasks, plus the tasks on clients the user may see."""
    return Task.objects.filter(Q(assignee=user) | Q(client__in=clients_visible_to(user)))


def prospects_visible_to(user) -> QuerySet[Prospect]:
    user_roles = roles.user_roles(user)
    qs = Prospect.objects.all()
    if user_roles & {roles.ADMIN}:
        return qs
    if roles.BRANCH_MANAGER in user_roles:
        return qs.filter(branch_id=_branch_id(user))
    if roles.ACCOUNT_MANAGER in user_roles:
        return qs.filter(owner=user)
    return qs.none()


def _branch_id(user) -> int | None:
    profile = getattr(user, "staff_profile", None)
    return profile.branch_id if profile else None


# --- search, filters and sorting -------------------------------------------------


def client_search(qs: QuerySet[Client], q: str) -> QuerySet[Client]:
    """Name (contains), client no. (prefix), account no. (exact) or ID number (exact).

    The ID number is encrypted, so it is matched through its keyed hash: only a
    complete number finds a client, never a fragment.
    """
    q = (q or "").strip()
    if not q:
        return qs
    if q.upper() == q.lower():
        # Nothing in q has a case (Chinese names, digits): plain LIKE finds the same rows
        # as UPPER(..) LIKE UPPER(..) and saves an UPPER() per row of the name scan, and
        # the client no. prefix can use its varchar_pattern_ops index.
        name_match, no_match = Q(name__contains=q), Q(client_no__startswith=q)
    else:
        name_match, no_match = Q(name__icontains=q), Q(client_no__istartswith=q)
    match = (
        name_match
        | no_match
        | Q(id__in=Account.objects.filter(account_id=q).values("client_id"))
    )
    hashed = id_number_hash(q)
    if hashed and len(q) >= 6:
        match |= Q(id_number_hash=hashed)
    return qs.filter(match)


def client_filter(
    qs: QuerySet[Client],
    *,
    branch: str | int | None = None,
    manager: str | int | None = None,
    client_type: str | None = None,
    status: str | None = None,
) -> QuerySet[Client]:
    """The list's standard filters; status is "open" (no closing date) or "closed"."""
    if branch:
        qs = qs.filter(branch_id=branch)
    if manager:
        qs = qs.filter(manager_id=manager)
    if client_type:
        qs = qs.filter(client_type=client_type)
    if status == "open":
        qs = qs.filter(Q(closed_on__isnull=True) | Q(closed_on__gt=timezone.localdate()))
    elif status == "closed":
        qs = qs.filter(closed_on__lte=timezone.localdate())
    return qs


def client_sort(qs: QuerySet[Client], sort: str | None) -> QuerySet[Client]:
    return qs.order_by(*CLIENT_SORTS.get(sort or "", CLIENT_SORTS["client_no"]))


def client_list(
    user, *, q: str = "", sort: str | None = None, **filters
) -> QuerySet[Client]:
    """The client list of a user: visible, searched, filtered, sorted, with the
    related rows a list row shows fetched in the same query (constant per page)."""
    qs = clients_visible_to(user)
    qs = client_search(qs, q)
    qs = client_filter(qs, **filters)
    qs = qs.select_related("branch", "manager")
    return client_sort(qs, sort)


def with_account_ids(clients) -> list[Client]:
    """Attach `account_ids` to each client of one page in a single query."""
    clients = list(clients)
    by_client: dict[int, list[str]] = {c.pk: [] for c in clients}
    rows = Account.objects.filter(client_id__in=by_client).order_by("account_id")
    for client_id, account_id in rows.values_list("client_id", "account_id"):
        by_client[client_id].append(account_id)
    for client in clients:
        client.account_ids = by_client[client.pk]
    return clients


def client_detail(user, pk: int) -> Client:
    """One visible client or Client.DoesNotExist (→ 404)."""
    return clients_visible_to(user).select_related("branch", "manager").get(pk=pk)


def managers_visible_to(user):
    """Account managers a user may filter by or assign to (own branch for a branch manager)."""
    from django.contrib.auth import get_user_model

    users = get_user_model().objects.filter(groups__name=roles.ACCOUNT_MANAGER, is_active=True)
    user_roles = roles.user_roles(user)
    if not user_roles & {roles.ADMIN, roles.COMPLIANCE, roles.FINANCE}:
        if roles.BRANCH_MANAGER in user_roles:
            users = users.filter(staff_profile__branch_id=_branch_id(user))
        else:
            users = users.filter(pk=user.pk)
    return users.order_by("username").distinct()


def branches_visible_to(user):
    from .models import Branch

    user_roles = roles.user_roles(user)
    if user_roles & {roles.ADMIN, roles.COMPLIANCE, roles.FINANCE}:
        return Branch.objects.all()
    # EXISTS per branch (a handful of index probes) rather than collecting the branch ids
    # of every visible client (a scan of the whole branch for a branch manager).
    visible = clients_visible_to(user).filter(branch_id=OuterRef("pk"))
    return Branch.objects.filter(Exists(visible))


# --- dashboard -----------------------------------------------------------------


def dashboard_data(user) -> dict:
    today = timezone.localdate()
    my_tasks = (
        Task.objects.filter(assignee=user, status=TaskStatus.OPEN)
        .select_related("client")
        .order_by("due_on", "id")
    )
    visible = clients_visible_to(user)
    return {
        "clients_count": visible.count(),
        "my_clients_count": visible.filter(manager=user).count(),
        # the source: a case's return visit links to its page (Task.closes_through_source)
        "tasks_due": list(my_tasks.filter(due_on__lte=today + dt.timedelta(days=7))
                          .prefetch_related("source")[:20]),
        "tasks_overdue_count": my_tasks.filter(due_on__lt=today).count(),
        "tasks_open_count": my_tasks.count(),
        "recent_interactions": list(
            Interaction.objects.filter(client__in=visible)
            .select_related("client", "staff")
            .order_by("-occurred_at", "-id")[:10]
        ),
        "prospects_by_stage": dict(
            prospects_visible_to(user).values_list("stage").annotate(n=Count("id")).order_by()
        ),
    }


# --- extension hooks ------------------------------------------------------------


def _panel_modules():
    for app in PANEL_APPS:
        name = f"{app}.panels"
        try:
            yield import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise


def app_client_panels(request, client) -> list[tuple[str, dict]]:
    panels: list[tuple[str, dict]] = []
    for module in _panel_modules():
        if hasattr(module, "client_panels"):
            panels.extend(module.client_panels(request, client) or [])
    return panels


def app_dashboard_panels(request) -> list[tuple[str, dict]]:
    panels: list[tuple[str, dict]] = []
    for module in _panel_modules():
        if hasattr(module, "dashboard_panels"):
            panels.extend(module.dashboard_panels(request) or [])
    return panels


def app_client_list_filters(request) -> list[dict]:
    filters: list[dict] = []
    for module in _panel_modules():
        if hasattr(module, "client_list_filters"):
            filters.extend(module.client_list_filters(request) or [])
    return filters


def apply_app_filters(qs: QuerySet[Client], app_filters: list[dict], params) -> QuerySet[Client]:
    """Apply each plugged-in filter whose parameter is present (list page and export)."""
    for spec in app_filters:
        value = params.get(spec["name"])
        if value not in (None, ""):
            qs = spec["apply"](qs, value)
    return qs
