"""Pages of the clients app: dashboard, client list + CSV export, client page, prospects.

Every page reads through the selectors (clients_visible_to and friends): what a user
may not see answers 404. Writes go through clients.services.
"""

from __future__ import annotations

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseNotAllowed, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from brokercrm.crypto import mask_name

from . import roles, selectors, services
from .forms import (
    ClientContactForm,
    InteractionForm,
    ProspectConvertForm,
    ProspectForm,
    ProspectMoveForm,
    ReassignForm,
    TaskCompleteForm,
)
from .models import Client
from .models.core import ClientType, ProspectStage

PAGE_SIZE = 25
# Counting 100k rows on every page view costs more than the page itself: the list
# counts at most this many and shows "more than …" beyond it.
COUNT_CAP = 10_000
EXPORT_COLUMNS = ("client_no", "name", "client_type", "id_type", "id_number", "branch",
                  "manager", "investor_category", "phone", "opened_on", "closed_on")
# Roles that work with clients (write interactions, complete tasks on their clients).
WORKING_ROLES = (roles.ACCOUNT_MANAGER, roles.BRANCH_MANAGER, roles.COMPLIANCE, roles.ADMIN)


class CappedPaginator(Paginator):
    """Counts at most COUNT_CAP + 1 rows (a LIMITed sub-select); pages stop there."""

    @cached_property
    def count(self) -> int:
        return self.object_list.order_by()[: COUNT_CAP + 1].count()

    @property
    def capped(self) -> bool:
        return self.count > COUNT_CAP


class SearchPaginator(CappedPaginator):
    """For a search: one scan instead of two. A name search cannot use an index (it
    matches anywhere in the name), so counting and then fetching a page would scan the
    table twice; this fetches the sorted ids of at most COUNT_CAP + 1 matches once
    (count = their number), then the page's rows by primary key."""

    def __init__(self, queryset, per_page):
        self.rows = queryset
        ids = list(queryset.values_list("pk", flat=True)[: COUNT_CAP + 1])
        super().__init__(ids, per_page)

    @cached_property
    def count(self) -> int:
        return len(self.object_list)

    def _get_page(self, object_list, number, paginator):
        ids = list(object_list)
        by_pk = {c.pk: c for c in self.rows.filter(pk__in=ids).order_by()} if ids else {}
        return super()._get_page([by_pk[pk] for pk in ids if pk in by_pk], number, paginator)


def _masks_names(user) -> bool:
    """An introducing broker sees their clients masked (张**), and nothing else does."""
    user_roles = roles.user_roles(user)
    return roles.INTRODUCING_BROKER in user_roles and not (user_roles - {roles.INTRODUCING_BROKER})


def _visible_client_or_404(user, pk) -> Client:
    try:
        return selectors.client_detail(user, pk)
    except Client.DoesNotExist:
        raise Http404(_("No such client.")) from None


def _apply_errors(form, exc: ValidationError) -> None:
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


# --- dashboard -----------------------------------------------------------------


@login_required
def dashboard(request):
    context = selectors.dashboard_data(request.user)
    context["today"] = timezone.localdate()
    context["panels"] = selectors.app_dashboard_panels(request)
    stages = dict(ProspectStage.choices)
    context["prospect_stages"] = [
        (stages[code], context["prospects_by_stage"].get(code, 0)) for code in stages
    ]
    return render(request, "clients/dashboard.html", context)


# --- client list and export ------------------------------------------------------


def _list_params(request) -> dict:
    get = request.GET
    return {
        "q": get.get("q", "").strip(),
        "sort": get.get("sort") or "client_no",
        "branch": get.get("branch") if get.get("branch", "").isdigit() else None,
        "manager": get.get("manager") if get.get("manager", "").isdigit() else None,
        "client_type": get.get("client_type") if get.get("client_type") in ClientType.values else None,
        "status": get.get("status") if get.get("status") in ("open", "closed") else None,
    }


def _filtered_clients(request):
    params = _list_params(request)
    qs = selectors.client_list(request.user, **params)
    app_filters = selectors.app_client_list_filters(request)
    qs = selectors.apply_app_filters(qs, app_filters, request.GET)
    return qs, params, app_filters


@login_required
def client_list(request):
    qs, params, app_filters = _filtered_clients(request)
    qs = qs.defer("id_number")  # encrypted, not shown in the list: no decryption per row
    paginator_class = SearchPaginator if params["q"] else CappedPaginator
    page = paginator_class(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    clients = selectors.with_account_ids(page.object_list)
    masked = _masks_names(request.user)
    # One reverse() for the page instead of two per row.
    url_head, url_tail = reverse("clients:detail", args=[987654321]).split("987654321")
    for client in clients:
        client.url = f"{url_head}{client.pk}{url_tail}"
        if masked:
            client.name = mask_name(client.name)
    query = request.GET.copy()
    query.pop("page", None)
    sort_query = query.copy()
    sort_query.pop("sort", None)
    return render(request, "clients/client_list.html", {
        "page": page,
        "count_cap": COUNT_CAP,
        "clients": clients,
        "params": params,
        "app_filters": [
            {**spec, "value": request.GET.get(spec["name"], "")} for spec in app_filters
        ],
        "branches": selectors.branches_visible_to(request.user),
        "managers": selectors.managers_visible_to(request.user),
        "client_types": ClientType.choices,
        "query": query.urlencode(),
        "sort_query": sort_query.urlencode(),
        "sorts": [
            ("client_no", _("Client no.")), ("name", _("Name")), ("opened_on", _("Opened on")),
            ("branch", _("Branch")), ("manager", _("Account manager")),
        ],
    })


class _Echo:
    def write(self, value):
        return value


@login_required
def client_export(request):
    """CSV of the list exactly as filtered, streamed so 100k rows never sit in memory."""
    qs, _params, _filters = _filtered_clients(request)
    masked = _masks_names(request.user)
    writer = csv.writer(_Echo())

    def rows():
        yield "\ufeff"  # BOM: Excel opens the Chinese names correctly
        yield writer.writerow(EXPORT_COLUMNS)
        for c in qs.iterator(chunk_size=2000):
            yield writer.writerow([
                c.client_no, mask_name(c.name) if masked else c.name, c.client_type, c.id_type,
                c.id_number_masked, c.branch.code, c.manager.username if c.manager else "",
                c.investor_category, c.phone, c.opened_on.isoformat(),
                c.closed_on.isoformat() if c.closed_on else "",
            ])

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="clients-{stamp}.csv"'
    return response


# --- client page -------------------------------------------------------------------


def _client_page_context(request, client: Client, **forms) -> dict:
    user = request.user
    can_work = roles.has_role(user, *WORKING_ROLES)
    # One query for 21 records: each is compared with the one before it (no prev_record
    # look-ups, which would cost a query per row).
    history = list(client.history.select_related("history_user").order_by("-history_date",
                                                                           "-history_id")[:21])
    changes = []
    for index, record in enumerate(history[:20]):
        previous = history[index + 1] if index + 1 < len(history) else None
        if previous is None and record.history_type == "+":
            changes.append({"record": record, "fields": [_("created")]})
        elif previous is None:
            changes.append({"record": record, "fields": [_("saved")]})
        else:
            delta = record.diff_against(previous)
            changes.append({"record": record, "fields": [
                f"{Client._meta.get_field(c.field).verbose_name}: {c.old or '—'} → {c.new or '—'}"
                for c in delta.changes
                if c.field not in ("updated_at",)
            ] or [_("saved")]})
    tasks = list(
        client.tasks.select_related("assignee").prefetch_related("source")
        .order_by("status", "due_on", "id")[:50]
    )
    can_reassign = roles.has_role(user, roles.ADMIN) or (
        roles.has_role(user, roles.BRANCH_MANAGER)
        and getattr(getattr(user, "staff_profile", None), "branch_id", None) == client.branch_id
    )
    if _masks_names(user):
        client.name = mask_name(client.name)
    return {
        "client": client,
        "accounts": list(client.accounts.order_by("account_id")),
        "interactions": list(client.interactions.select_related("staff")[:50]),
        "tasks": tasks,
        "today": timezone.localdate(),
        "changes": changes,
        "can_work": can_work,
        "can_reassign": can_reassign,
        "interaction_form": forms.get("interaction_form") or InteractionForm(),
        "contact_form": forms.get("contact_form") or ClientContactForm(initial={
            "phone": client.phone, "email": client.email, "address": client.address,
        }),
        "reassign_form": forms.get("reassign_form") or (ReassignForm(
            managers=services.assignable_managers(client.branch_id),
            initial={"manager": client.manager_id},
        ) if can_reassign else None),
        "complete_form": TaskCompleteForm(),
        "panels": selectors.app_client_panels(request, client),
    }


@login_required
def client_detail(request, pk: int):
    client = _visible_client_or_404(request.user, pk)
    return render(request, "clients/client_detail.html", _client_page_context(request, client))


@login_required
@require_POST
def interaction_add(request, pk: int):
    client = _visible_client_or_404(request.user, pk)
    if not roles.has_role(request.user, *WORKING_ROLES):
        raise PermissionDenied
    form = InteractionForm(request.POST)
    if form.is_valid():
        try:
            services.interaction_add(client=client, staff=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Interaction recorded."))
            return redirect(client.get_absolute_url() + "#interactions")
    context = _client_page_context(request, client, interaction_form=form)
    return render(request, "clients/client_detail.html", context, status=400)


@login_required
@require_POST
def client_contact(request, pk: int):
    client = _visible_client_or_404(request.user, pk)
    if not roles.has_role(request.user, *WORKING_ROLES):
        raise PermissionDenied
    form = ClientContactForm(request.POST)
    if form.is_valid():
        try:
            services.client_update(client=client, user=request.user, data=form.cleaned_data)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Contact details saved."))
            return redirect(client)
    client.refresh_from_db()
    context = _client_page_context(request, client, contact_form=form)
    return render(request, "clients/client_detail.html", context, status=400)


@login_required
@require_POST
def client_reassign(request, pk: int):
    client = _visible_client_or_404(request.user, pk)
    form = ReassignForm(request.POST, managers=services.assignable_managers(client.branch_id))
    if form.is_valid():
        try:
            services.client_reassign(client=client, manager=form.cleaned_data["manager"],
                                     user=request.user)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Client reassigned."))
            if selectors.clients_visible_to(request.user).filter(pk=client.pk).exists():
                return redirect(client)
            return redirect("clients:list")
    context = _client_page_context(request, client, reassign_form=form)
    return render(request, "clients/client_detail.html", context, status=400)


@login_required
@require_POST
def task_complete(request, pk: int):
    task = get_object_or_404(selectors.tasks_visible_to(request.user).distinct(), pk=pk)
    if task.assignee_id != request.user.pk and not roles.has_role(request.user, *WORKING_ROLES):
        raise Http404
    form = TaskCompleteForm(request.POST)
    if form.is_valid():
        try:
            services.task_complete(task=task, user=request.user,
                                   outcome=form.cleaned_data["outcome"])
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Task completed."))
    next_url = request.POST.get("next", "")
    if next_url.startswith("/") and not next_url.startswith("//"):
        return redirect(next_url)
    return redirect(task.client if task.client_id else "clients:dashboard")


# --- prospects ---------------------------------------------------------------------


def _prospect_or_404(user, pk):
    return get_object_or_404(selectors.prospects_visible_to(user), pk=pk)


def _can_prospect(user) -> bool:
    return roles.has_role(user, roles.ACCOUNT_MANAGER, roles.BRANCH_MANAGER, roles.ADMIN)


@login_required
def prospects(request, form=None, status=200):
    if not _can_prospect(request.user):
        raise Http404
    qs = selectors.prospects_visible_to(request.user).select_related("owner", "branch", "client")
    columns = []
    for code, label in ProspectStage.choices:
        items = [p for p in qs if p.stage == code]
        moves = services.PROSPECT_MOVES.get(code, ())
        columns.append({
            "code": code, "label": label, "prospects": items,
            "moves": [(m, ProspectStage(m).label) for m in moves],
        })
    return render(request, "clients/prospects.html", {
        "columns": columns,
        "form": form or ProspectForm(),
    }, status=status)


@login_required
@require_POST
def prospect_create(request):
    if not _can_prospect(request.user):
        raise Http404
    form = ProspectForm(request.POST)
    branch = getattr(getattr(request.user, "staff_profile", None), "branch", None)
    if form.is_valid():
        if branch is None:
            form.add_error(None, _("Your staff profile has no branch."))
        else:
            services.prospect_create(owner=request.user, branch=branch, **form.cleaned_data)
            messages.success(request, _("Prospect added."))
            return redirect("clients:prospects")
    return prospects(request, form=form, status=400)


@login_required
def prospect_move(request, pk: int):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    prospect = _prospect_or_404(request.user, pk)
    form = ProspectMoveForm(request.POST)
    if form.is_valid():
        try:
            services.prospect_move(prospect=prospect, user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Prospect moved."))
            return redirect("clients:prospects")
    else:
        messages.error(request, " ".join(str(e) for errs in form.errors.values() for e in errs))
    return redirect("clients:prospects")


@login_required
def prospect_convert(request, pk: int):
    prospect = _prospect_or_404(request.user, pk)
    if prospect.stage in (ProspectStage.CONVERTED, ProspectStage.LOST):
        raise Http404
    status = 200
    if request.method == "POST":
        form = ProspectConvertForm(request.POST)
        if form.is_valid():
            try:
                client = services.prospect_convert(prospect=prospect, user=request.user,
                                                   **form.cleaned_data)
            except ValidationError as exc:
                _apply_errors(form, exc)
            else:
                messages.success(request, _("Account opened: the prospect is now a client."))
                return redirect(client)
        status = 400
    else:
        form = ProspectConvertForm()
    return render(request, "clients/prospect_convert.html",
                  {"prospect": prospect, "form": form}, status=status)


# Keep the names the URLconf uses short and stable.
__all__ = [
    "client_contact", "client_detail", "client_export", "client_list", "client_reassign",
    "dashboard", "interaction_add", "prospect_convert", "prospect_create", "prospect_move",
    "prospects", "task_complete",
]
