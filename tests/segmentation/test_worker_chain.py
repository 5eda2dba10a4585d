"""The recompute on real Celery workers (two processes on Redis), and a worker
killed with SIGKILL in the middle of a run: the rerun gives the undisturbed result."""

import datetime as dt
import io
import os
import signal
import time
from decimal import Decimal

import pytest

from clients.models.core import Task, TaskKind
from segmentation import exports, services, tasks
from segmentation.models import ClientSegment, RunState, SegmentRun, SegmentShard, ShardState
from tests import factories
from tests.segmentation.helpers import account_with_days, business_days

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

T = dt.date(2026, 11, 20)


def _book(manager=None):
    days = business_days(T, 40)
    for i in range(6):
        account_with_days(
            days, equity=Decimal(1_000_000 * (i + 1)), trades_on=days[-(5 + i * 5):-(i * 5) or None],
            trades=3 + i, lots=2 + i, net_fee=Decimal(50 * (i + 1)), manager=manager,
            margin=Decimal(100_000 * (i + 1)),
        )
    return days


def _export(run) -> str:
    buf = io.StringIO()
    exports.write_csv(buf, run=run)
    return buf.getvalue()


def _wait_for(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not reached in time")


def test_two_workers_share_the_shards_and_a_killed_worker_is_recovered(celery_worker_factory):
    _book()
    w1 = celery_worker_factory("w1")
    celery_worker_factory("w2")

    undisturbed = services.recompute(as_of=T, shard_size=1, shard_delay=0.6, timeout=120)
    assert undisturbed.state == RunState.DONE
    workers = set(SegmentShard.objects.filter(run=undisturbed).values_list("worker", flat=True))
    assert {w.split("@")[0] for w in workers} == {"w1", "w2"}
    expected = _export(undisturbed)
    assert expected.count("\n") == 7  # header + 6 clients

    # A second run, slow enough to kill w1 while it holds a shard.
    crashed = services.recompute(as_of=T, shard_size=1, shard_delay=4, wait=False)
    shard = _wait_for(lambda: SegmentShard.objects.filter(
        run=crashed, state=ShardState.RUNNING, worker__startswith="w1@").first())
    os.kill(shard.pid, signal.SIGKILL)
    w1.send_signal(signal.SIGKILL)
    w1.wait(timeout=10)

    # The crashed run still holds the lock until someone notices w1 is gone.
    crashed.refresh_from_db()
    assert crashed.state == RunState.STARTED
    rerun = services.recompute(as_of=T, shard_size=1, timeout=120)

    crashed.refresh_from_db()
    assert crashed.state == RunState.FAILED
    assert "crashed" in crashed.error
    assert ClientSegment.objects.filter(run=crashed).count() == 0
    assert rerun.state == RunState.DONE and rerun.is_current
    assert _export(rerun) == expected
    undisturbed.refresh_from_db()
    assert undisturbed.is_current is False
    assert SegmentRun.objects.filter(as_of=T, is_current=True).get() == rerun


def test_the_nightly_task_runs_the_whole_chain_on_a_worker(celery_worker_factory):
    manager = factories.staff_user("am_night", "account_manager")
    _book(manager=manager)
    celery_worker_factory("w1")
    celery_worker_factory("w2")

    tasks.run_nightly.delay(T.isoformat())

    run = _wait_for(lambda: SegmentRun.objects.filter(as_of=T, state=RunState.DONE).first())
    assert run.trigger == "nightly" and run.clients == 6
    # Client 6 traded last on days[-26]: dormant → one follow-up task, raised after the run.
    task = _wait_for(lambda: Task.objects.filter(kind=TaskKind.DORMANT_FOLLOW_UP).first())
    assert task.assignee == manager
    assert task.origin == "system"
