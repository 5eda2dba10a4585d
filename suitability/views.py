"""Pages of the suitability app: questionnaire and result, pre-sale check, the case
queue and case page, conversions, catalog and questionnaire versions, reports."""

from __future__ import annotations

import csv
import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Max, Q, Sum
from django.db.models.functions import Coalesce
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from clients import roles
from clients.models import Task
from clients.models.core import TaskKind, TaskStatus
from clients.selectors import accounts_visible_to, clients_visible_to

from . import rules, selectors, services
from .forms import (
    CaseFilterForm,
    CheckForm,
    ConversionForm,
    DecisionForm,
    QuestionnaireForm,
    ReturnVisitForm,
    TransitionForm,
)
from .models import (
    Assessment,
    CaseState,
    ConversionState,
    MismatchCase,
    ProductCatalogEntry,
    QuestionnaireVersion,
    RuleSet,
)

CASES_PER_PAGE = 100
# A case page lists this many of its trades (a day-trader's case can hold thousands).
CASE_TRADES_SHOWN = 200
ACTION_LABELS = {
    "give_notice": gettext_lazy("Record notice given to the client"),
    "sign_warning": gettext_lazy("Record the signed special risk warning"),
    "submit_for_review": gettext_lazy("Submit for compliance review"),
    "withdraw": gettext_lazy("Client withdraws"),
    "accept": gettext_lazy("Accept"),
    "reject": gettext_lazy("Reject (restrict trading)"),
    "resolve_by_reassessment": gettext_lazy("Resolved by re-assessment"),
}


def _is_compliance(user) -> bool:
    return roles.has_role(user, roles.COMPLIANCE, roles.ADMIN)


def _require_compliance(user) -> None:
    if not _is_compliance(user):
        raise PermissionDenied


# --- home ----------------------------------------------------------------------------------


@login_required
def home(request):
    cases = selectors.cases_visible_to(request.user)
    waiting = cases.filter(state__in=rules.OPEN_STATES)
    by_state = dict(waiting.values_list("state").annotate(n=Count("id")))
    context = {
        "by_state": [(CaseState(s).label, by_state.get(s, 0), s) for s in rules.OPEN_STATES],
        "recent": waiting.select_related("client").order_by("-opened_at")[:10],
        "is_compliance": _is_compliance(request.user),
        "conversions_waiting": selectors.conversions_visible_to(request.user)
        .filter(state=ConversionState.SUBMITTED).count(),
        "check_form": CheckForm(),
        "may_check": roles.has_role(request.user, *services.PRESALE_ROLES),
    }
    return render(request, "suitability/home.html", context)


# --- questionnaire and result ------------------------------------------------------------------


@login_required
def questionnaire(request, client_id: int):
    client = get_object_or_404(clients_visible_to(request.user), pk=client_id)
    if not roles.has_role(request.user, roles.ACCOUNT_MANAGER, roles.COMPLIANCE):
        raise PermissionDenied
    audience = "person" if client.client_type == "person" else "institution"
    version = QuestionnaireVersion.current(audience)
    if version is None:
        raise Http404("no questionnaire version in force")
    form = QuestionnaireForm(request.POST or None, questionnaire=version)
    if request.method == "POST" and form.is_valid():
        try:
            assessment = services.assessment_create(
                client=client, answers=form.answers(), entered_by=request.user, questionnaire=version,
                client_signed_on=form.cleaned_data["client_signed_on"],
                esign_ref=form.cleaned_data["esign_ref"],
                lowest_other_reason=form.cleaned_data.get("lowest_other_reason", ""),
            )
        except services.SuitabilityError as exc:
            _add_service_errors(form, exc, question_prefix="q_")
        else:
            return redirect("suitability:assessment", assessment.pk)
    return render(request, "suitability/questionnaire.html", {"client": client, "form": form, "version": version})


@login_required
def assessment_detail(request, pk: int):
    assessment = get_object_or_404(
        selectors.assessments_visible_to(request.user).select_related("client", "questionnaire", "entered_by"),
        pk=pk,
    )
    suit = selectors.investor_state(assessment.client, timezone.localdate())
    catalog = []
    for entry in ProductCatalogEntry.objects.filter(is_active=True).order_by("risk_level", "code"):
        outcome = rules.match(
            suit.state, rules.Product(key=entry.code, level=entry.risk_level, kind=entry.kind, horizon=entry.horizon)
        )
        catalog.append((entry, outcome))
    return render(request, "suitability/assessment.html", {
        "assessment": assessment, "suit": suit, "catalog": catalog,
        "level_en": rules.LEVEL_NAMES_EN.get(assessment.level or 0, ""),
    })


# --- pre-sale check ----------------------------------------------------------------------------


@login_required
def check(request):
    if not roles.has_role(request.user, *services.PRESALE_ROLES):
        raise PermissionDenied
    form = CheckForm(request.POST or request.GET or None)
    result = None
    if request.method == "POST" and form.is_valid():
        account = accounts_visible_to(request.user).select_related("client").filter(
            account_id=form.cleaned_data["account"].strip()
        ).first()
        if account is None:
            form.add_error("account", _("Unknown account."))
        else:
            try:
                checked = services.presale_check(account=account, product=form.cleaned_data["product"],
                                                 user=request.user)
            except services.SuitabilityError as exc:
                _add_service_errors(form, exc)
            else:
                result = {"check": checked, "account": account}
    return render(request, "suitability/check.html", {"form": form, "result": result})


# --- cases -----------------------------------------------------------------------------------


def _add_service_errors(form, exc: services.SuitabilityError, *, question_prefix: str = "") -> None:
    """A service's refusal shown on the form: each message on its field (a question's
    field carries `question_prefix`), the others above the form."""
    for field, errors in exc.message_dict.items():
        name = next((n for n in (f"{question_prefix}{field}", field) if n in form.fields), None)
        for error in errors:
            form.add_error(name, error)


def _flash_service_errors(request, exc: services.SuitabilityError) -> None:
    """A service's refusal of a step posted from a page that redirects: one message each."""
    for errors in exc.message_dict.values():
        for error in errors:
            messages.error(request, error)


def _form_error_messages(form) -> list[str]:
    """Each error of a bound form as one line naming its field: "Signed on: Enter a valid date."."""
    lines = []
    for name, errors in form.errors.items():
        field = form.fields.get(name)
        for error in errors:
            if field is None:  # non-field errors
                lines.append(str(error))
            else:
                label = field.label or name.replace("_", " ").capitalize()
                lines.append(_("%(field)s: %(error)s") % {"field": label, "error": error})
    return lines


def _filtered_cases(request):
    """The visible cases narrowed by the queue's filters. A filter with a value the form
    refuses is left out (the other filters still apply); the third value lists them as
    (field label, value given) for the page to name."""
    form = CaseFilterForm(request.GET or None)
    cases = selectors.cases_visible_to(request.user).select_related(
        "client", "client__branch", "client__manager", "catalog_entry"
    )
    ignored = []
    if form.is_bound and not form.is_valid():
        # cleaned_data keeps only the fields that validated
        ignored = [(form.fields[name].label, form.data.get(name, "")) for name in form.errors if name in form.fields]
    data = form.cleaned_data if form.is_bound else {}
    state = data.get("state") or ""
    if state == "":
        cases = cases.filter(state__in=rules.OPEN_STATES)
    elif state != "all":
        cases = cases.filter(state=state)
    for name in ("source", "result"):
        if data.get(name):
            cases = cases.filter(**{name: data[name]})
    if data.get("product_level"):
        cases = cases.filter(product_level=data["product_level"])
    if data.get("branch"):
        cases = cases.filter(client__branch__code=data["branch"])
    if data.get("manager"):
        cases = cases.filter(client__manager__username=data["manager"])
    if data.get("q"):
        cases = cases.filter(
            Q(client__client_no__icontains=data["q"]) | Q(client__name__icontains=data["q"])
            | Q(product_key__icontains=data["q"])
        )
    return form, cases, ignored


@login_required
def case_list(request):
    form, cases, ignored = _filtered_cases(request)
    if request.GET.get("export") == "csv":
        return _cases_csv(cases)
    for label, value in ignored:
        messages.warning(request, _("Filter ignored: %(field)s “%(value)s” is not a valid value.")
                         % {"field": label, "value": value})
    # Oldest first (ageing); the id breaks ties, since one night's detection opens its
    # cases at a single instant and pages must not repeat or skip any of them.
    page = Paginator(cases.order_by("opened_at", "id"), CASES_PER_PAGE).get_page(request.GET.get("page"))
    today = timezone.now()
    rows = [(case, (today - case.opened_at).days) for case in page]
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form, "rows": rows, "page": page, "total": page.paginator.count,
        "by_branch": cases.values("client__branch__code", "client__branch__name").annotate(n=Count("id")).order_by("-n"),
        "by_manager": cases.values("client__manager__username").annotate(n=Count("id")).order_by("-n"),
        "by_product": cases.values("product_key", "product_level").annotate(n=Count("id")).order_by("-n"),
        "query": query.urlencode(),
    }
    return render(request, "suitability/case_list.html", context)


def _cases_csv(cases) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="mismatch_cases.csv"'
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow(["case", "client_no", "branch", "manager", "product", "product_level", "client_level",
                     "source", "result", "state", "opened_at", "closed_at", "trades"])
    for case in cases.annotate(n_trades=Coalesce(Sum("trade_days__trades"), 0)).order_by("id"):
        writer.writerow([
            case.pk, case.client.client_no, case.client.branch.code,
            case.client.manager.username if case.client.manager else "", case.product_key,
            f"R{case.product_level}", case.client_level, case.source, case.result, case.state,
            timezone.localtime(case.opened_at).isoformat(timespec="seconds"),
            timezone.localtime(case.closed_at).isoformat(timespec="seconds") if case.closed_at else "",
            case.n_trades,
        ])
    return response


@login_required
def case_detail(request, pk: int):
    case = get_object_or_404(
        selectors.cases_visible_to(request.user).select_related("client", "catalog_entry", "assessment", "account"),
        pk=pk,
    )
    actions = services.case_allowed_actions(case, request.user)
    today = services.case_current_outcome(case) if case.is_open else None
    case_type = ContentType.objects.get_for_model(MismatchCase)
    visit_tasks = Task.objects.filter(kind=TaskKind.RETURN_VISIT, source_type=case_type, source_id=case.pk)
    context = {
        "case": case,
        "transitions": selectors.case_timeline(case),
        "trades": selectors.case_trades(case).select_related("account").order_by("trading_day", "id")[:CASE_TRADES_SHOWN],
        "trade_count": selectors.case_trade_count(case),
        "actions": [(a, ACTION_LABELS[a], rules.STEPS[a]) for a in actions],
        "today": today,
        # opened as a mismatch, prohibited now: the warning can no longer be signed or accepted
        "prohibited_now": bool(today and today.result == rules.PROHIBITED and case.result != rules.PROHIBITED),
        "form": TransitionForm(),
        "visit_tasks": visit_tasks,
        "visits": case.return_visits.select_related("recorded_by"),
        "visit_form": ReturnVisitForm(initial={"visited_on": timezone.localdate()}),
        "may_record_visit": case.client.manager_id == request.user.pk or _is_compliance(request.user),
    }
    return render(request, "suitability/case_detail.html", context)


@login_required
@require_POST
def case_transition(request, pk: int):
    case = get_object_or_404(selectors.cases_visible_to(request.user), pk=pk)
    form = TransitionForm(request.POST)
    if form.is_valid():
        try:
            services.case_transition(case=case, user=request.user, **form.cleaned_data)
        except services.SuitabilityError as exc:
            _flash_service_errors(request, exc)
        else:
            messages.success(request, _("Recorded: %(action)s.") % {"action": ACTION_LABELS[form.cleaned_data["action"]]})
    else:
        for line in _form_error_messages(form):
            messages.error(request, line)
    return redirect("suitability:case", case.pk)


@login_required
@require_POST
def return_visit(request, task_id: int):
    case_type = ContentType.objects.get_for_model(MismatchCase)
    task = get_object_or_404(Task, pk=task_id, kind=TaskKind.RETURN_VISIT, source_type=case_type)
    case = get_object_or_404(selectors.cases_visible_to(request.user), pk=task.source_id)
    if not (case.client.manager_id == request.user.pk or _is_compliance(request.user)):
        raise PermissionDenied
    form = ReturnVisitForm(request.POST)
    if task.status != TaskStatus.OPEN:
        messages.error(request, _("This return visit is already closed; nothing was recorded."))
    elif form.is_valid():
        try:
            services.return_visit_record(task=task, user=request.user, **form.cleaned_data)
        except services.SuitabilityError as exc:
            _flash_service_errors(request, exc)
        else:
            messages.success(request, _("Return visit recorded."))
    else:
        for line in _form_error_messages(form):
            messages.error(request, line)
    return redirect("suitability:case", case.pk)


# --- conversions -----------------------------------------------------------------------------------


@login_required
def conversion_list(request):
    conversions = selectors.conversions_visible_to(request.user).select_related("client", "submitted_by", "decided_by")
    state = request.GET.get("state", ConversionState.SUBMITTED)
    if state != "all":
        conversions = conversions.filter(state=state)
    return render(request, "suitability/conversion_list.html", {
        "conversions": conversions[:300], "state": state, "states": ConversionState.choices,
        "is_compliance": roles.has_role(request.user, roles.COMPLIANCE),
    })


@login_required
def conversion_new(request, client_id: int):
    client = get_object_or_404(clients_visible_to(request.user), pk=client_id)
    form = ConversionForm(request.POST or None, initial={
        "applicant_type": "person" if client.client_type == "person" else "institution"})
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if v is not None}
        try:
            conversion = services.conversion_submit(client=client, user=request.user, **data)
        except services.SuitabilityError as exc:
            _add_service_errors(form, exc)
        else:
            messages.success(request, _("Conversion recorded: %(state)s.") % {"state": conversion.get_state_display()})
            return redirect("suitability:conversion", conversion.pk)
    category, pclass, _record = selectors.category_on(client, timezone.localdate())
    return render(request, "suitability/conversion_new.html", {
        "client": client, "form": form, "category": category, "pclass": pclass,
    })


@login_required
def conversion_detail(request, pk: int):
    conversion = get_object_or_404(selectors.conversions_visible_to(request.user).select_related("client"), pk=pk)
    form = DecisionForm(request.POST or None)
    if request.method == "POST":
        if not roles.has_role(request.user, roles.COMPLIANCE):
            raise PermissionDenied
        if form.is_valid():
            try:
                services.conversion_decide(
                    conversion=conversion, user=request.user,
                    approve=form.cleaned_data["decision"] == "approve", reason=form.cleaned_data["reason"],
                )
            except services.SuitabilityError as exc:
                for errors in exc.message_dict.values():
                    for error in errors:
                        form.add_error(None, error)
            else:
                return redirect("suitability:conversion", conversion.pk)
    return render(request, "suitability/conversion_detail.html", {
        "conversion": conversion, "form": form,
        "may_decide": roles.has_role(request.user, roles.COMPLIANCE) and conversion.state == ConversionState.SUBMITTED,
        "records": conversion.records.all(),
    })


# --- catalog and questionnaire versions ----------------------------------------------------------


@login_required
def products(request):
    return render(request, "suitability/products.html", {
        "entries": ProductCatalogEntry.objects.order_by("risk_level", "code"),
    })


@login_required
def questionnaires(request):
    versions = QuestionnaireVersion.objects.annotate(n=Count("assessments")).order_by("audience", "-effective_from")
    selected = None
    if request.GET.get("code"):
        selected = get_object_or_404(QuestionnaireVersion, code=request.GET["code"])
    return render(request, "suitability/questionnaires.html", {
        "versions": versions, "selected": selected, "rule_sets": RuleSet.objects.all(),
    })


# --- reports ----------------------------------------------------------------------------------------


def _coverage(user, today: dt.date):
    clients = clients_visible_to(user).filter(Q(closed_on__isnull=True) | Q(closed_on__gt=today))
    latest = (
        Assessment.objects.filter(client__in=clients, assessed_on__lte=today)
        .values("client").annotate(last=Max("id")).values_list("last", flat=True)
    )
    latest_rows = Assessment.objects.filter(id__in=list(latest))
    valid = latest_rows.filter(expires_on__gt=today)
    by_level = dict(valid.exclude(level=None).values_list("level").annotate(n=Count("id")))
    total = clients.count()
    return {
        "clients": total,
        "valid": valid.count(),
        "expired": latest_rows.filter(expires_on__lte=today).count(),
        "never": total - latest_rows.count(),
        "lowest": valid.filter(lowest=True).count(),
        "by_level": [(f"C{n} {rules.LEVEL_NAMES_ZH[n]}", by_level.get(n, 0)) for n in range(1, 6)],
    }


@login_required
def reports(request):
    _require_compliance(request.user)
    today = timezone.localdate()
    cases = selectors.cases_visible_to(request.user)
    by_status = dict(cases.values_list("state").annotate(n=Count("id")))
    expiring = (
        selectors.assessments_visible_to(request.user)
        .filter(expires_on__gt=today, expires_on__lte=today + dt.timedelta(days=30))
        .select_related("client", "client__manager")
        .order_by("expires_on")
    )
    # only each client's latest assessment counts
    latest = (
        Assessment.objects.filter(client__in=clients_visible_to(request.user))
        .values("client").annotate(last=Max("id")).values_list("last", flat=True)
    )
    expiring = expiring.filter(id__in=list(latest))
    export = request.GET.get("export")
    if export == "cases":
        return _csv("cases_by_status.csv", ["state", "cases"],
                    [(s, by_status.get(s, 0)) for s, _label in CaseState.choices])
    if export == "coverage":
        cov = _coverage(request.user, today)
        rows = [("clients", cov["clients"]), ("valid", cov["valid"]), ("expired", cov["expired"]),
                ("never_assessed", cov["never"]), ("lowest", cov["lowest"])]
        rows += [(label.split()[0], n) for label, n in cov["by_level"]]
        return _csv("assessment_coverage.csv", ["measure", "clients"], rows)
    if export == "expiring":
        return _csv("assessments_expiring.csv", ["client_no", "name", "manager", "level", "assessed_on", "expires_on"], [
            (a.client.client_no, a.client.name, a.client.manager.username if a.client.manager else "",
             f"C{a.level}" if a.level else "", a.assessed_on.isoformat(), a.expires_on.isoformat())
            for a in expiring
        ])
    return render(request, "suitability/reports.html", {
        "by_status": [(label, by_status.get(s, 0), s) for s, label in CaseState.choices],
        "coverage": _coverage(request.user, today),
        "expiring": expiring[:300],
        "today": today,
    })


def _csv(name: str, header: list[str], rows) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow(header)
    writer.writerows(rows)
    return response
