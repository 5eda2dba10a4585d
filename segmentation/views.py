"""Pages of the segmentation app: the dashboard and the run history."""

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _

from clients import roles

from . import selectors
from .models import ActivityClass, FundTier, SegmentRun, ValueClass
from .panels import CHOICES_BY_FIELD, label_of

PAGE_SIZE = 50


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _rows(dist: dict, field: str) -> list[dict]:
    total = sum(dist.values()) or 1
    order = [code for code, _ in CHOICES_BY_FIELD[field]]
    codes = sorted(dist, key=lambda c: order.index(c) if c in order else len(order))
    return [{"code": c, "label": label_of(field, c), "n": dist[c], "pct": 100 * dist[c] / total}
            for c in codes]


@login_required
def dashboard(request):
    user = request.user
    if not roles.user_roles(user):
        raise Http404
    run = selectors.current_run()
    month_ends = selectors.month_end_runs()
    date_to = _date(request.GET.get("to")) or (run.as_of if run else None)
    default_from = month_ends[-2].as_of if len(month_ends) >= 2 else date_to
    date_from = _date(request.GET.get("from")) or default_from
    field = request.GET.get("by") if request.GET.get("by") in CHOICES_BY_FIELD else "fund_tier"
    matrix = (
        selectors.migration_matrix(user, date_from=date_from, date_to=date_to, field=field)
        if date_from and date_to else None
    )
    if matrix:
        matrix["labelled"] = [
            {"label": label_of(field, v), "cells": cells} for v, cells in matrix["rows"]
        ]
        matrix["headers"] = [label_of(field, v) for v in matrix["values"]]
    trends = {f: selectors.trends(user, field=f) for f in ("fund_tier", "activity_class")}
    chart_trends = {
        f: {"labels": t["labels"],
            "datasets": [{"label": label_of(f, code), "data": data}
                         for code, data in sorted(t["series"].items())]}
        for f, t in trends.items()
    }
    tiers = _rows(selectors.distribution(user, run=run, field="fund_tier"), "fund_tier")
    classes = _rows(selectors.distribution(user, run=run, field="activity_class"),
                    "activity_class")
    values = _rows(selectors.distribution(user, run=run, field="value_class"), "value_class")
    return render(request, "segmentation/dashboard.html", {
        "run": run,
        "tiers": tiers,
        "classes": classes,
        "values": values,
        "chart_dist": {
            "tiers": {"labels": [r["label"] for r in tiers], "data": [r["n"] for r in tiers]},
            "classes": {"labels": [r["label"] for r in classes],
                        "data": [r["n"] for r in classes]},
        },
        "chart_trends": chart_trends,
        "new_large": selectors.new_large_clients(user),
        "matrix": matrix,
        "matrix_field": field,
        "matrix_fields": [("fund_tier", _("Fund tier")), ("activity_class", _("Activity class")),
                          ("value_class", _("Value class"))],
        "date_from": date_from,
        "date_to": date_to,
        "dormant": selectors.dormant_per_manager(user, run=run),
        "tier_choices": FundTier.choices,
        "class_choices": ActivityClass.choices,
        "value_choices": ValueClass.choices,
    })


@login_required
def runs(request):
    if not roles.has_role(request.user, roles.ADMIN, roles.COMPLIANCE, roles.FINANCE,
                          roles.BRANCH_MANAGER, roles.ACCOUNT_MANAGER):
        raise Http404
    page = Paginator(SegmentRun.objects.order_by("-id"), PAGE_SIZE).get_page(
        request.GET.get("page"))
    return render(request, "segmentation/runs.html", {"page": page})
