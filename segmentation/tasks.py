"""Celery tasks: another interface to the services (take ids, call the service)."""

from __future__ import annotations

import datetime as dt
import logging

from celery import chain, chord, group, shared_task

from . import services
from .models import SegmentRun

log = logging.getLogger(__name__)


@shared_task(name="segmentation.compute_shard", acks_late=True, reject_on_worker_lost=True)
def compute_shard(run_id: int, index: int, delay: float = 0.0) -> dict:
    hostname = getattr(compute_shard.request, "hostname", None) or ""
    if compute_shard.request.is_eager:
        hostname = ""
    return services.shard_compute(run_id=run_id, index=index, worker=hostname, delay=delay)


@shared_task(name="segmentation.finalize_run", acks_late=True)
def finalize_run(_results=None, run_id: int | None = None) -> dict:
    return services.run_finalize(run_id=run_id)


@shared_task(name="segmentation.recompute")
def recompute(as_of: str) -> int:
    run = services.recompute(as_of=dt.date.fromisoformat(as_of), trigger="api", wait=False)
    return run.pk


@shared_task(name="segmentation.run_nightly")
def run_nightly(as_of: str | None = None) -> dict:
    day = dt.date.fromisoformat(as_of) if as_of else None
    return services.run_nightly(as_of=day, wait=False)


@shared_task(name="segmentation.nightly_after")
def nightly_after(as_of: str) -> dict:
    return services.nightly_after_recompute(as_of=dt.date.fromisoformat(as_of))


def dispatch_run(run: SegmentRun, *, shard_delay: float = 0.0, then=None) -> None:
    """Fan the run's shards out as a chord whose body is the final step."""
    header = group(
        compute_shard.si(run.pk, index, shard_delay) for index in range(run.shard_count)
    )
    body = finalize_run.si(run_id=run.pk)
    if then is not None:
        body = chain(body, then)
    if run.shard_count == 0:
        body.apply_async()
        return
    chord(header)(body)
