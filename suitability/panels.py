"""Suitability sections on pages the clients app owns (client page, dashboard, client list)."""

from __future__ import annotations

from django.db.models import Exists, Max, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clients import roles

from . import rules, selectors
from .models import Assessment, InvestorCategoryRecord


def client_panels(request, client) -> list[tuple[str, dict]]:
    today = timezone.localdate()
    suit = selectors.investor_state(client, today)
    context = {
        "client": client,
        "suit": suit,
        "assessments": Assessment.objects.filter(client=client).select_related("entered_by").order_by("-assessed_on", "-id")[:20],
        "categories": InvestorCategoryRecord.objects.filter(client=client).order_by("-effective_from", "-id")[:10],
        "cases": client.mismatch_cases.order_by("-opened_at")[:20],
        "conversions": client.conversions.order_by("-submitted_at")[:10],
        "may_assess": roles.has_role(request.user, roles.ACCOUNT_MANAGER, roles.COMPLIANCE),
        "today": today,
    }
    return [("suitability/panel_client.html", context)]


def dashboard_panels(request) -> list[tuple[str, dict]]:
    cases = selectors.cases_visible_to(request.user).filter(state__in=rules.OPEN_STATES)
    if roles.has_role(request.user, roles.COMPLIANCE):
        waiting = cases.filter(state="under_review")
        title = _("Cases waiting for your decision")
    elif roles.has_role(request.user, roles.ACCOUNT_MANAGER, roles.BRANCH_MANAGER):
        waiting = cases.exclude(state="under_review")
        title = _("Mismatch cases waiting for a step")
    else:
        return []
    return [("suitability/panel_dashboard.html", {
        "title": title,
        "cases": waiting.select_related("client").order_by("opened_at")[:10],
        "count": waiting.count(),
    })]


LEVEL_FILTER_CHOICES = [
    ("professional", _("Professional")),
    *[(f"C{n}", f"C{n} {rules.LEVEL_NAMES_ZH[n]}") for n in range(1, 6)],
    ("lowest", _("Lowest category")),
    ("unassessed", _("Unassessed / expired")),
]


def _filter_level(queryset, value: str):
    """Clients by their suitability level today (latest assessment, if still valid)."""
    today = timezone.localdate()
    latest = (
        Assessment.objects.filter(client=OuterRef("pk"), assessed_on__lte=today)
        .order_by("-assessed_on", "-id")
    )
    queryset = queryset.annotate(_suit_last=latest.values("id")[:1])
    valid = Assessment.objects.filter(assessed_on__lte=today, expires_on__gt=today).exclude(level=None)
    professional_ids = _professional_ids(today)
    if value == "professional":
        return queryset.filter(Q(id__in=professional_ids))
    ordinary = queryset.exclude(id__in=professional_ids)
    if value == "unassessed":
        return ordinary.exclude(Exists(valid.filter(id=OuterRef("_suit_last"))))
    if value == "lowest":
        return ordinary.filter(Exists(valid.filter(id=OuterRef("_suit_last"), lowest=True)))
    if value in {f"C{n}" for n in range(1, 6)}:
        return ordinary.filter(Exists(valid.filter(id=OuterRef("_suit_last"), level=int(value[1]), lowest=False)))
    return queryset


def _professional_ids(today):
    from clients.models import Client

    latest = InvestorCategoryRecord.objects.filter(effective_from__lte=today).values("client").annotate(
        last=Max("id")
    ).values("last")
    recorded = InvestorCategoryRecord.objects.filter(id__in=latest)
    with_record = recorded.values("client_id")
    return Client.objects.filter(
        Q(id__in=recorded.filter(category="professional").values("client_id"))
        | (Q(investor_category="professional") & ~Q(id__in=with_record))
    ).values("id")


def client_list_filters(request) -> list[dict]:
    return [{
        "name": "suitability_level",
        "label": _("Suitability level"),
        "choices": LEVEL_FILTER_CHOICES,
        "apply": _filter_level,
    }]
