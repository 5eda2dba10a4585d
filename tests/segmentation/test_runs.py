"""The run record: lock against overlap, crash recovery, current only when complete,
rule versions recorded."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from segmentation import services
from segmentation.models import (
    ClientSegment,
    RfmLabel,
    RunState,
    SegmentRuleSet,
    SegmentRun,
    SegmentShard,
    ShardState,
)
from tests.segmentation.helpers import account_with_days, business_days

pytestmark = pytest.mark.django_db

T = dt.date(2026, 11, 20)
DAYS = business_days(T, 30)


@pytest.fixture
def three_clients():
    return [
        account_with_days(DAYS, equity=Decimal(e), trades_on=DAYS[-2:])
        for e in ("6000000.00", "600000.00", "60000.00")
    ]


def test_a_run_computes_every_client_and_becomes_current(three_clients):
    run = services.recompute(as_of=T, shard_size=2)
    assert run.state == RunState.DONE and run.is_current
    assert run.shard_count == 2 and run.shards_done == 2 and run.clients == 3
    assert run.counts["fund_tier"] == {"large": 1, "medium": 1, "retail": 1}
    tiers = sorted(ClientSegment.objects.filter(run=run).values_list("fund_tier", flat=True))
    assert tiers == ["large", "medium", "retail"]
    assert run.duration_seconds > 0


def test_a_second_run_for_the_same_day_is_refused_while_the_first_is_alive(three_clients):
    first = services.run_start(as_of=T, shard_size=10)
    with pytest.raises(services.RunInProgress) as exc:
        services.recompute(as_of=T)
    assert exc.value.run == first
    assert SegmentRun.objects.filter(as_of=T).count() == 1


def test_runs_for_different_days_do_not_block_each_other(three_clients):
    services.run_start(as_of=T, shard_size=10)
    other = services.recompute(as_of=DAYS[-2])
    assert other.state == RunState.DONE


def test_a_crashed_run_is_cleaned_and_redone(three_clients):
    crashed = services.run_start(as_of=T, shard_size=1)
    services.shard_compute(run_id=crashed.pk, index=0)  # one shard written, then "crash"
    assert ClientSegment.objects.filter(run=crashed).count() == 1
    SegmentRun.objects.filter(pk=crashed.pk).update(
        heartbeat_at=timezone.now() - dt.timedelta(hours=2)
    )
    rerun = services.recompute(as_of=T, shard_size=1)
    crashed.refresh_from_db()
    assert crashed.state == RunState.FAILED and "crashed" in crashed.error
    assert ClientSegment.objects.filter(run=crashed).count() == 0
    assert rerun.state == RunState.DONE and ClientSegment.objects.filter(run=rerun).count() == 3


def test_a_run_whose_shard_process_died_is_detected_without_waiting(three_clients):
    crashed = services.run_start(as_of=T, shard_size=1)
    SegmentShard.objects.filter(run=crashed, index=0).update(
        state=ShardState.RUNNING, worker="local@" + __import__("socket").gethostname(),
        pid=2**22 + 12345,  # no such process
    )
    assert services.run_is_dead(crashed, stale_after=3600) is True
    assert services.recompute(as_of=T).state == RunState.DONE


def test_the_current_segments_switch_only_when_the_new_run_is_complete(three_clients):
    done = services.recompute(as_of=T)
    pending = services.run_start(as_of=T, shard_size=1)
    services.shard_compute(run_id=pending.pk, index=0)
    done.refresh_from_db()
    assert done.is_current is True
    services.shard_compute(run_id=pending.pk, index=1)
    services.shard_compute(run_id=pending.pk, index=2)
    services.run_finalize(run_id=pending.pk)
    done.refresh_from_db()
    pending.refresh_from_db()
    assert (done.is_current, pending.is_current, pending.state) == (False, True, RunState.DONE)


def test_late_work_of_an_abandoned_run_changes_nothing(three_clients):
    run = services.run_start(as_of=T, shard_size=1)
    services.run_abandon(run, reason="test")
    assert services.shard_compute(run_id=run.pk, index=0)["skipped"] is True
    assert services.run_finalize(run_id=run.pk)["skipped"] is True
    run.refresh_from_db()
    assert run.state == RunState.FAILED and run.is_current is False
    assert ClientSegment.objects.filter(run=run).count() == 0


def test_a_redelivered_shard_is_not_computed_twice(three_clients):
    run = services.run_start(as_of=T, shard_size=1)
    services.shard_compute(run_id=run.pk, index=0)
    assert services.shard_compute(run_id=run.pk, index=0)["skipped"] is True
    assert ClientSegment.objects.filter(run=run).count() == 1


def test_the_run_records_the_rule_versions_in_force(three_clients):
    later = SegmentRuleSet.objects.create(
        name="Seed 004 bands", valid_from=T,
        params={"tier_bands": [{"code": "large", "min": 5000000},
                               {"code": "medium", "min": 1000000},
                               {"code": "small", "min": 200000},
                               {"code": "retail", "min": 0}]},
    )
    RfmLabel.objects.filter(code="champions").update(name_en="Stars")
    before = services.recompute(as_of=DAYS[-2])
    after = services.recompute(as_of=T)
    assert before.rule_versions["ruleset"]["name"].startswith("Spec defaults")
    assert after.rule_versions["ruleset"]["id"] == later.pk
    assert after.rule_versions["rfm_labels"]["count"] == 7
    assert before.counts["fund_tier"] == {"large": 1, "medium": 1, "retail": 1}
    assert after.counts["fund_tier"] == {"large": 1, "small": 1, "retail": 1}


def test_a_failing_shard_fails_the_run_and_frees_the_lock(three_clients, monkeypatch):
    from segmentation import compute

    def boom(**kwargs):
        raise RuntimeError("bad data")

    monkeypatch.setattr(compute, "compute_clients", boom)
    with pytest.raises(RuntimeError):
        services.recompute(as_of=T)
    run = SegmentRun.objects.get(as_of=T)
    assert run.state == RunState.FAILED and "bad data" in run.error
    monkeypatch.undo()
    assert services.recompute(as_of=T).state == RunState.DONE


@pytest.mark.parametrize("as_of", [T + dt.timedelta(days=1), dt.date(2030, 1, 1)], ids=["saturday", "future"])
def test_a_day_without_snapshots_cannot_become_the_current_run(three_clients, as_of):
    services.recompute(as_of=T)
    with pytest.raises(services.NotATradingDay, match="not a trading day"):
        services.recompute(as_of=as_of)
    assert not SegmentRun.objects.filter(as_of=as_of).exists()
    assert services.selectors.current_run().as_of == T


def _crashed_run(as_of):
    """A started run with one shard written, then a crash (heartbeat two hours old)."""
    crashed = services.run_start(as_of=as_of, shard_size=1)
    services.shard_compute(run_id=crashed.pk, index=0)
    SegmentRun.objects.filter(pk=crashed.pk).update(
        heartbeat_at=timezone.now() - dt.timedelta(hours=2)
    )
    return crashed


def test_the_nightly_job_cleans_and_redoes_a_crashed_run_of_another_day(three_clients):
    crashed = _crashed_run(DAYS[-2])
    assert ClientSegment.objects.filter(run=crashed).count() == 1

    summary = services.run_nightly(as_of=T)

    crashed.refresh_from_db()
    assert crashed.state == RunState.FAILED and "crashed" in crashed.error
    assert ClientSegment.objects.filter(run=crashed).count() == 0
    redo = SegmentRun.objects.get(as_of=DAYS[-2], state=RunState.DONE)
    assert redo.is_current and redo.trigger == "nightly"
    assert services.selectors.current_run(as_of=DAYS[-2]) == redo
    assert ClientSegment.objects.filter(run=redo, as_of=DAYS[-2]).count() == 3
    today = SegmentRun.objects.get(as_of=T)
    assert today.state == RunState.DONE and today.is_current
    assert services.selectors.current_run() == today
    assert today.pk < redo.pk  # today's run first, the redo after it
    assert summary["steps"]["crashed_runs"] == {DAYS[-2].isoformat(): RunState.DONE}
    assert not SegmentRun.objects.filter(state=RunState.STARTED).exists()


def test_the_nightly_job_leaves_a_live_run_of_another_day_alone(three_clients):
    alive = services.run_start(as_of=DAYS[-2], shard_size=1)
    services.shard_compute(run_id=alive.pk, index=0)  # fresh heartbeat, still working
    stale = _crashed_run(DAYS[-3])

    summary = services.run_nightly(as_of=T)

    alive.refresh_from_db()
    assert alive.state == RunState.STARTED and alive.error == "" and not alive.is_current
    assert ClientSegment.objects.filter(run=alive).count() == 1
    assert SegmentRun.objects.filter(as_of=DAYS[-2]).count() == 1
    stale.refresh_from_db()
    assert stale.state == RunState.FAILED
    assert summary["steps"]["crashed_runs"] == {DAYS[-3].isoformat(): RunState.DONE}
    assert SegmentRun.objects.get(as_of=T).state == RunState.DONE
