"""Celery entry points: thin wrappers around the services (the nightly chain calls the
services directly; these let beat or an operator queue them)."""

import datetime as dt

from celery import shared_task
from django.utils import timezone

from . import services


@shared_task(name="suitability.detect_mismatches")
def detect_mismatches() -> dict:
    return services.detect_mismatches_in_new_trades()


@shared_task(name="suitability.raise_due_tasks")
def raise_due_tasks(as_of: str | None = None) -> dict:
    day = dt.date.fromisoformat(as_of) if as_of else timezone.localdate()
    return services.raise_due_tasks(as_of=day)
