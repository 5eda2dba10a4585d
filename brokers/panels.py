"""Hooks into the clients pages: the IB section of the client page, the IB filter of
the client list."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import selectors
from .models import IntroducingBroker


def client_panels(request, client) -> list[tuple[str, dict]]:
    history = list(selectors.link_history(account_ids=client.accounts.values("id")))
    today = timezone.localdate()
    current = [link for link in history if link.covers(today)]
    visible = set(selectors.brokers_visible_to(request.user).values_list("id", flat=True))
    first = client.accounts.order_by("account_id").first()
    return [("brokers/client_panel.html", {
        "history": history, "current": current,
        "can_open": all(link.broker_id in visible for link in current),
        "is_finance": selectors.is_finance(request.user),
        "first_account": first.account_id if first else "",
    })]


def _by_broker(queryset, value):
    if value == "none":
        linked = selectors.links_valid_on(timezone.localdate()).values("account__client_id")
        return queryset.exclude(id__in=linked)
    ids = selectors.links_valid_on(timezone.localdate()).filter(
        broker__code=value).values("account__client_id")
    return queryset.filter(id__in=ids)


def client_list_filters(request) -> list[dict]:
    brokers = selectors.brokers_visible_to(request.user).order_by("code")
    if selectors.is_portal_user(request.user):
        return []
    choices = [("none", _("No introducing broker"))]
    choices += [(b.code, f"{b.code} {b.name}") for b in brokers.only("code", "name")]
    if not IntroducingBroker.objects.exists():
        return []
    return [{"name": "ib", "label": _("Introducing broker"), "choices": choices, "apply": _by_broker}]


def dashboard_panels(request) -> list[tuple[str, dict]]:
    """Finance: statements waiting in the queue. IB portal user: its latest statements."""
    from .models import StatementState

    if selectors.is_finance(request.user):
        statements = selectors.statements_visible_to(request.user)
        return [("brokers/dashboard_panel.html", {
            "finance": True,
            "drafts": statements.filter(state=StatementState.DRAFT).count(),
            "to_pay": statements.filter(state=StatementState.APPROVED, net_pay__gt=0).count(),
        })]
    if selectors.is_portal_user(request.user):
        broker = selectors.broker_of_user(request.user)
        if broker is None:
            return []
        return [("brokers/dashboard_panel.html", {
            "broker": broker,
            "statements": selectors.statements_visible_to(request.user).order_by("-month")[:6],
        })]
    return []
