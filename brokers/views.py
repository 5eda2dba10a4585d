"""Pages of the brokers app: register, IB page, statements, finance queue, links, schemes.

Every object comes through the selectors (forbidden → 404); writes go through services.
"""

from __future__ import annotations

import csv
import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from brokercrm.crypto import mask_id_number, mask_name
from clients.models import Account

from . import selectors, services
from .exports import EXPORT_COLUMNS, LINE_COLUMNS, line_row, statement_rows
from .forms import (
    BrokerForm,
    LinkCloseForm,
    LinkCreateForm,
    LinkMoveForm,
    MonthForm,
    PayForm,
    SchemeForm,
    StatusForm,
    apply_errors,
)
from .models import (
    BrokerLink,
    CommissionScheme,
    CommissionStatement,
    IntroducingBroker,
    StatementState,
)


def _finance_only(request) -> None:
    if not selectors.is_finance(request.user):
        raise Http404


def _visible_broker(request, code: str) -> IntroducingBroker:
    return get_object_or_404(selectors.brokers_visible_to(request.user), code=code)


def _this_month() -> dt.date:
    return timezone.localdate().replace(day=1)


def _month_param(request) -> dt.date:
    try:
        return services.parse_month(request.GET.get("month", ""))
    except ValueError:
        return _this_month()


# --- register ------------------------------------------------------------------------------


@login_required
def broker_list(request):
    if selectors.is_portal_user(request.user):
        broker = selectors.broker_of_user(request.user)
        if broker is None:
            raise Http404
        return redirect("brokers:detail", code=broker.code)
    today = timezone.localdate()
    brokers = selectors.brokers_visible_to(request.user).annotate(
        current_clients=Count(
            "links__account__client", distinct=True,
            filter=Q(links__valid_from__lte=today)
            & (Q(links__valid_to__isnull=True) | Q(links__valid_to__gte=today)),
        )
    ).order_by("code")
    query = request.GET.get("q", "").strip()
    if query:
        brokers = brokers.filter(Q(code__icontains=query) | Q(name__icontains=query))
    status = request.GET.get("status", "")
    if status:
        brokers = brokers.filter(current_status=status)
    return render(request, "brokers/broker_list.html", {
        "brokers": brokers, "query": query, "status": status,
        "is_finance": selectors.is_finance(request.user), "warn_clients": selectors.WARN_CLIENTS,
        "statuses": IntroducingBroker._meta.get_field("status").choices,
    })


@login_required
def broker_detail(request, code):
    broker = _visible_broker(request, code)
    masked = selectors.masks_clients(request.user)
    is_finance = selectors.is_finance(request.user)
    clients = []
    for account in selectors.broker_clients(broker, user=request.user):
        client = account.client
        clients.append({
            "account": account.account_id, "client_no": client.client_no,
            "client_id": client.pk,
            "name": mask_name(client.name) if masked else client.name,
            "id_number": mask_id_number(client.id_number),
            "equity": account.latest_equity,
        })
    links = []
    history = selectors.link_history(broker=broker)
    if not is_finance and not masked:
        from clients.selectors import clients_visible_to

        history = history.filter(account__client__in=clients_visible_to(request.user))
    for link in history:
        name = link.account.client.name
        links.append({"link": link, "name": mask_name(name) if masked else name})
    statements = (selectors.statements_visible_to(request.user).filter(broker=broker)
                  .order_by("-month") if selectors.may_see_statements(request.user) else None)
    exposure = selectors.broker_exposure(broker, user=request.user)
    return render(request, "brokers/broker_detail.html", {
        "broker": broker, "clients": clients, "links": links, "statements": statements,
        "warnings": selectors.broker_warnings(broker), "exposure": exposure,
        "is_finance": is_finance, "masked": masked, "clients_limited": not is_finance and not masked,
        "status_history": broker.status_changes.order_by("-effective_from"),
        "schemes": broker.schemes.order_by("-valid_from") if is_finance else None,
        "status_form": StatusForm(initial={"effective_from": timezone.localdate()}) if is_finance else None,
        "link_form": LinkCreateForm() if is_finance else None,
    })


@login_required
def broker_edit(request, code=None):
    _finance_only(request)
    broker = get_object_or_404(IntroducingBroker, code=code) if code else None
    form = BrokerForm(request.POST or None, instance=broker)
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in form.Meta.fields}
        if broker is not None:
            data.pop("code")
            if not data["id_number"]:
                data.pop("id_number")
        status = form.cleaned_data["status"]
        if broker is not None and "status" not in form.changed_data:
            status = None  # editing other fields records no status change
        try:
            saved = services.broker_save(
                user=request.user, broker=broker, status=status,
                status_from=form.cleaned_data["status_from"], **data,
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Introducing broker %(code)s saved.") % {"code": saved.code})
            return redirect("brokers:detail", code=saved.code)
    return render(request, "brokers/broker_form.html", {"form": form, "broker": broker})


@login_required
@require_POST
def broker_status(request, code):
    _finance_only(request)
    broker = get_object_or_404(IntroducingBroker, code=code)
    form = StatusForm(request.POST)
    if form.is_valid():
        services.broker_set_status(broker=broker, user=request.user, **form.cleaned_data)
        messages.success(request, _("Status recorded."))
    else:
        messages.error(request, _("Status not recorded: %(errors)s") % {"errors": form.errors.as_text()})
    return redirect("brokers:detail", code=broker.code)


# --- links -----------------------------------------------------------------------------------


def _account(form, field="account") -> Account | None:
    account = Account.objects.filter(account_id=form.cleaned_data[field].strip()).first()
    if account is None:
        form.add_error(field, _("No account has this number."))
    return account


@login_required
@require_POST
def link_add(request, code):
    _finance_only(request)
    broker = get_object_or_404(IntroducingBroker, code=code)
    form = LinkCreateForm(request.POST)
    if form.is_valid() and (account := _account(form)) is not None:
        try:
            services.link_create(account=account, broker=broker, user=request.user,
                                 valid_from=form.cleaned_data["valid_from"],
                                 valid_to=form.cleaned_data["valid_to"])
        except ValidationError as exc:
            apply_errors(form, exc)
    if form.errors:
        messages.error(request, _("Link not added: %(errors)s") % {"errors": form.errors.as_text()})
    else:
        messages.success(request, _("Link added."))
    return redirect("brokers:detail", code=broker.code)


@login_required
@require_POST
def link_close(request, pk):
    _finance_only(request)
    link = get_object_or_404(BrokerLink, pk=pk)
    form = LinkCloseForm(request.POST)
    if form.is_valid():
        try:
            services.link_close(link=link, on=form.cleaned_data["on"], user=request.user)
            messages.success(request, _("Link closed."))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    return redirect("brokers:detail", code=link.broker.code)


@login_required
def link_move(request):
    """Move a client's account to another IB from a day on (finance)."""
    _finance_only(request)
    form = LinkMoveForm(request.POST or None, initial={"account": request.GET.get("account", ""),
                                                       "on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        account = _account(form)
        broker = IntroducingBroker.objects.filter(code=form.cleaned_data["broker"].strip()).first()
        if broker is None:
            form.add_error("broker", _("No introducing broker has this code."))
        if account is not None and broker is not None:
            try:
                services.link_move(account=account, broker=broker, on=form.cleaned_data["on"],
                                   user=request.user)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Account %(account)s moved to %(broker)s.")
                                 % {"account": account.account_id, "broker": broker.code})
                return redirect("brokers:detail", code=broker.code)
    history = None
    if form.is_bound and form.data.get("account") or request.GET.get("account"):
        number = (form.data.get("account") or request.GET.get("account") or "").strip()
        history = selectors.link_history().filter(account__account_id=number)
    return render(request, "brokers/link_move.html", {"form": form, "history": history})


# --- schemes ------------------------------------------------------------------------------------


@login_required
def schemes(request):
    _finance_only(request)
    form = SchemeForm(request.POST or None, initial={"broker": request.GET.get("broker", ""),
                                                     "bands": "0:0.50"})
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        code = data.pop("broker").strip()
        broker = IntroducingBroker.objects.filter(code=code).first() if code else None
        if code and broker is None:
            form.add_error("broker", _("No introducing broker has this code."))
        else:
            try:
                services.scheme_save(broker=broker, user=request.user, **data)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Scheme saved."))
                return redirect("brokers:schemes")
    return render(request, "brokers/schemes.html", {
        "form": form,
        "schemes": CommissionScheme.objects.select_related("broker").order_by(
            "broker__code", "-valid_from"),
    })


# --- statements ---------------------------------------------------------------------------------


def _visible_statement(request, pk) -> CommissionStatement:
    return get_object_or_404(selectors.statements_visible_to(request.user), pk=pk)


def _lines(request, statement):
    masked = selectors.masks_clients(request.user)
    lines = []
    for line in statement.lines.select_related("account__client", "original_statement"):
        name = line.account.client.name
        lines.append({"line": line, "name": mask_name(name) if masked else name})
    return lines


@login_required
def statement_detail(request, pk):
    statement = _visible_statement(request, pk)
    is_finance = selectors.is_finance(request.user)
    return render(request, "brokers/statement_detail.html", {
        "s": statement, "lines": _lines(request, statement), "is_finance": is_finance,
        "pay_form": PayForm(initial={"paid_on": timezone.localdate()}) if is_finance else None,
        "can_approve": is_finance and statement.state == StatementState.DRAFT
        and statement.prepared_by_id not in (None, request.user.id),
        "can_prepare": is_finance and statement.state == StatementState.DRAFT
        and statement.prepared_by_id is None,
    })


@login_required
def statement_csv(request, pk):
    statement = _visible_statement(request, pk)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    name = f"commission-{statement.broker.code}-{statement.month:%Y-%m}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response.write("\ufeff")  # Excel opens UTF-8 CSV with a BOM correctly
    writer = csv.writer(response)
    writer.writerow(EXPORT_COLUMNS)
    writer.writerows(statement_rows([statement]))
    writer.writerow([])
    writer.writerow(["client", *LINE_COLUMNS])
    for item in _lines(request, statement):
        writer.writerow([item["name"], *line_row(item["line"], account_label=item["line"].account.account_id)])
    return response


@login_required
@require_POST
def statement_action(request, pk, action):
    statement = _visible_statement(request, pk)
    _finance_only(request)
    try:
        if action == "prepare":
            services.statement_prepare(statement=statement, user=request.user)
            messages.success(request, _("Statement prepared; another finance user approves it."))
        elif action == "approve":
            services.statement_approve(statement=statement, user=request.user)
            messages.success(request, _("Statement approved."))
        elif action == "pay":
            form = PayForm(request.POST)
            if not form.is_valid():
                raise ValidationError(form.errors)
            services.statement_pay(statement=statement, user=request.user, **form.cleaned_data)
            messages.success(request, _("Statement marked as paid."))
        else:
            raise Http404
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except PermissionDenied:
        raise Http404 from None
    return redirect(request.POST.get("next") or statement.get_absolute_url())


# --- finance queue -------------------------------------------------------------------------------


@login_required
def queue(request):
    _finance_only(request)
    month = _month_param(request)
    form = MonthForm(request.POST or None, initial={"month": month.strftime("%Y-%m")})
    if request.method == "POST" and form.is_valid():
        month = form.cleaned_data["month"]
        summary = services.compute_commissions(month=month, user=request.user)
        messages.success(request, _(
            "%(month)s computed: %(count)s statements, gross %(gross)s, net pay %(net)s."
        ) % {"month": summary["month"], "count": summary["statements"],
             "gross": summary["gross"], "net": summary["net_pay"]})
        return redirect(f"{request.path}?month={month:%Y-%m}")
    qs = CommissionStatement.objects.select_related("broker", "prepared_by")
    return render(request, "brokers/queue.html", {
        "month": month,
        "month_text": month.strftime("%Y-%m"),
        "drafts": qs.filter(state=StatementState.DRAFT).order_by("month", "broker__code"),
        "to_pay": qs.filter(state=StatementState.APPROVED, net_pay__gt=0).order_by("month", "broker__code"),
        "month_statements": qs.filter(month=month).order_by("broker__code"),
        "totals": selectors.statement_totals(qs.filter(month=month)),
        "form": form,
    })


@login_required
def month_csv(request):
    _finance_only(request)
    month = _month_param(request)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="commissions-{month:%Y-%m}.csv"'
    writer = csv.writer(response)
    writer.writerow(EXPORT_COLUMNS)
    writer.writerows(statement_rows(
        CommissionStatement.objects.filter(month=month).select_related("broker").order_by("broker__code")))
    return response
