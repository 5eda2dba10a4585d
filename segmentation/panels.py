"""Hooks the client pages call: sections on the client page and the dashboard, and
filters of the client list (see docs/segmentation.md)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _

from clients import roles
from clients.models import AccountSnapshot
from clients.selectors import clients_visible_to

from . import selectors
from .models import (
    ActivityClass,
    ClientSegment,
    FundTier,
    Purpose,
    QuantClass,
    RfmLabel,
    Tenure,
    ValueClass,
)

CHOICES_BY_FIELD = {
    "fund_tier": FundTier.choices,
    "activity_class": ActivityClass.choices,
    "value_class": ValueClass.choices,
    "tenure": Tenure.choices,
    "purpose": Purpose.choices,
    "quant_class": QuantClass.choices,
}

INDICATOR_LABELS = {
    "annual_net_fee": _("Annual net fee"),
    "share_volume": _("Share of firm volume"),
    "share_net_fee": _("Share of firm net fee"),
    "max_risk_degree": _("Max risk degree"),
    "avg_overnight_risk_degree": _("Average overnight risk degree"),
    "margin_call_days": _("Margin-call days"),
    "forced_liquidations": _("Forced liquidations"),
    "var95": _("VaR 95%"),
    "pnl_volatility": _("P&L volatility"),
    "return_rate": _("Return"),
    "pnl_sum": _("P&L"),
    "avg_equity_behaviour": _("Average equity"),
    "capital_utilisation": _("Capital utilisation"),
    "share_equity": _("Share of firm equity"),
}


def label_of(field: str, code: str) -> str:
    if field == "rfm_label":
        label = RfmLabel.objects.filter(code=code).first()
        return f"{label.name_en} {label.name_zh}" if label else code
    return str(dict(CHOICES_BY_FIELD.get(field, ())).get(code, code or "—"))


def client_panels(request, client) -> list[tuple[str, dict]]:
    history = list(selectors.client_segment_history(client)[:24])
    current = history[0] if history else None
    days = 60
    equity = list(
        AccountSnapshot.objects.filter(account__client=client)
        .values_list("trading_day").order_by("-trading_day").distinct()[:days]
    )
    since = equity[-1][0] if equity else None
    series: dict[dt.date, float] = {}
    if since:
        for day, value in AccountSnapshot.objects.filter(
            account__client=client, trading_day__gte=since
        ).values_list("trading_day", "equity"):
            series[day] = series.get(day, 0.0) + float(value)
    drivers = [
        {**d, "label": str(INDICATOR_LABELS.get(d["indicator"], d["indicator"]))}
        for d in (current.drivers if current else [])
    ]
    return [("segmentation/panel_client.html", {
        "segment": current,
        "history": history,
        "drivers": drivers,
        "rfm_label": label_of("rfm_label", current.rfm_label) if current and current.rfm_label else "",
        "chart_id": f"seg-equity-{client.pk}",
        "chart_equity": {
            "labels": [d.isoformat() for d in sorted(series)],
            "data": [round(series[d], 2) for d in sorted(series)],
        },
        "chart_history": {
            "labels": [s.as_of.isoformat() for s in reversed(history)],
            "data": [float(s.avg_equity) for s in reversed(history)],
        },
    })]


def dashboard_panels(request) -> list[tuple[str, dict]]:
    user = request.user
    if not roles.user_roles(user):
        return []
    run = selectors.current_run()
    if run is None:
        return [("segmentation/panel_dashboard.html", {"run": None})]
    mine = clients_visible_to(user)
    if roles.has_role(user, roles.ACCOUNT_MANAGER):
        mine = mine.filter(manager=user)
    segs = ClientSegment.objects.filter(run=run, client__in=mine)
    tiers = {code: 0 for code, _ in FundTier.choices}
    for code in segs.values_list("fund_tier", flat=True):
        tiers[code] = tiers.get(code, 0) + 1
    dormant = list(
        segs.filter(activity_class=ActivityClass.DORMANT).select_related("client")
        .order_by("last_trade_day", "client__client_no")[:20]
    )
    return [("segmentation/panel_dashboard.html", {
        "run": run,
        "tiers": [{"code": c, "label": label_of("fund_tier", c), "n": n}
                  for c, n in tiers.items() if n or c != "small"],
        "dormant": dormant,
        "new_large": selectors.new_large_clients(user),
    })]


def _apply(field: str):
    def apply(queryset, value):
        run = selectors.current_run()
        if run is None:
            return queryset.none()
        lookup = {field: value}
        if field == "loyal":
            lookup = {"loyal": value in ("1", "true", "yes")}
        return queryset.filter(Exists(
            ClientSegment.objects.filter(run=run, client=OuterRef("pk"), **lookup)
        ))
    return apply


def client_list_filters(request) -> list[dict]:
    rfm = [(lb.code, f"{lb.name_en} {lb.name_zh}") for lb in RfmLabel.objects.order_by("position")]
    specs = [
        ("tier", "fund_tier", _("Fund tier"), FundTier.choices),
        ("activity_class", "activity_class", _("Activity class"), ActivityClass.choices),
        ("value_class", "value_class", _("Value class"), ValueClass.choices),
        ("rfm_label", "rfm_label", _("RFM label"), rfm),
        ("quant_class", "quant_class", _("Quantitative class"), QuantClass.choices),
        ("tenure", "tenure", _("Tenure"), Tenure.choices),
        ("purpose", "purpose", _("Purpose"), Purpose.choices),
        ("loyal", "loyal", _("Loyal hidden value"), [("1", _("Yes"))]),
    ]
    return [{"name": name, "label": label, "choices": list(choices), "apply": _apply(field)}
            for name, field, label, choices in specs]
