"""Pages of the importer: history, upload (with progress), batch report."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext_lazy as _

from clients.models import ImportBatch
from clients.models.activity import ImportKindName, ImportStatus

from .base import REGISTRY
from .services import can_import, import_upload

RUNNING = (ImportStatus.PENDING, ImportStatus.RUNNING)


def _kind_choices():
    labels = dict(ImportKindName.choices)
    return [(name, labels.get(name, name)) for name in sorted(REGISTRY)]


class UploadForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind of file"))
    file = forms.FileField(label=_("File (CSV, UTF-8 or GB18030)"))
    correction = forms.BooleanField(
        label=_("Correction import"), required=False,
        help_text=_("Replace the snapshots already imported for the same days; "
                    "the replaced values are kept on record."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = _kind_choices()


def _require_importer(request):
    if not can_import(request.user):
        raise PermissionDenied


@login_required
def batch_list(request):
    _require_importer(request)
    qs = ImportBatch.objects.select_related("uploaded_by")
    kind = request.GET.get("kind")
    if kind:
        qs = qs.filter(kind=kind)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "imports/list.html", {
        "page": page, "kinds": _kind_choices(), "kind": kind or "",
    })


@login_required
def upload(request):
    _require_importer(request)
    if request.method == "POST":
        form = UploadForm(request.POST, request.FILES)
        if form.is_valid():
            with transaction.atomic():
                batch = import_upload(
                    kind=form.cleaned_data["kind"], uploaded_file=form.cleaned_data["file"],
                    correction=form.cleaned_data["correction"], source="upload",
                    user=request.user,
                )
            return redirect("imports:detail", pk=batch.pk)
    else:
        form = UploadForm(initial={"kind": request.GET.get("kind", "trades")})
    return render(request, "imports/upload.html", {"form": form})


@login_required
def detail(request, pk: int):
    _require_importer(request)
    batch = get_object_or_404(ImportBatch.objects.select_related("uploaded_by"), pk=pk)
    if request.GET.get("format") == "json":
        return JsonResponse({
            "id": batch.pk, "status": batch.status, "running": batch.status in RUNNING,
            "rows": batch.rows, "errors": batch.errors,
        })
    report = batch.report or {}
    return render(request, "imports/detail.html", {
        "batch": batch,
        "running": batch.status in RUNNING,
        "errors": report.get("errors", []),
        "warnings": report.get("warnings", []),
        "more_errors": max(0, batch.errors - len(report.get("errors", []))),
        "ignored_columns": report.get("ignored_columns", []),
        "timings": report.get("timings", {}),
        "extra": report.get("extra", {}),
        "failure": report.get("failure", ""),
        "already_imported_as": report.get("already_imported_as"),
        "corrections": batch.snapshot_corrections.select_related("account")[:200],
    })
