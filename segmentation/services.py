"""Writes: the segment run (lock, shards, final step, crash recovery) and the
nightly chain.

A run as of T: `run_start` takes the lock (at most one started run per day, backed
by a partial unique constraint), freezes the rules and the calendar, and splits
the clients into shards by id range. Each shard is a Celery task
(`shard_compute`) that loads its clients' frames, runs `compute.compute_clients`
and writes its rows in one transaction closed by a compare-and-swap on the shard.
The chord's final step (`run_finalize`) computes the cross-client parts and flips
the run to done and current with another compare-and-swap. A run whose heartbeat
is stale, or whose running shards belong to workers that no longer answer, is
declared crashed: its rows are deleted and a new run starts — by the next start
for its day, or by the nightly job, which redoes crashed runs of other days.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import math
import os
import socket
import time
from collections import Counter
from importlib import import_module

import numpy as np
import pandas as pd
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from brokercrm.money import quantize_yuan
from clients.models import Client
from clients.models.core import Task, TaskKind, TaskOrigin, TaskStatus

from . import compute, selectors
from .models import (
    ClientSegment,
    RfmLabel,
    RunState,
    SegmentRuleSet,
    SegmentRun,
    SegmentShard,
    ShardState,
)

log = logging.getLogger(__name__)

# Upper bound on clients per shard (memory); below it, one shard per live worker
# process, since every shard re-reads the day-ordered snapshot pages.
DEFAULT_SHARD_SIZE = 25_000
DEFAULT_STALE_SECONDS = 900


class SegmentationError(Exception):
    """The one application error of this app (mapped to the API error shape)."""


class RunInProgress(SegmentationError):
    def __init__(self, run: SegmentRun):
        super().__init__(f"a run for {run.as_of} is already in progress (run #{run.pk})")
        self.run = run


class NotATradingDay(SegmentationError):
    """Segments are computed as of a trading day with imported snapshots (spec: "as of a
    trading day T"): a run for another day would become the latest, "current" one."""

    def __init__(self, as_of: dt.date, latest: dt.date | None):
        super().__init__(
            _("%(day)s is not a trading day with imported snapshots (the latest is %(latest)s).")
            % {"day": as_of.isoformat(), "latest": latest.isoformat() if latest else "—"}
        )
        self.as_of = as_of


class RunAbandoned(SegmentationError):
    """The run this work belonged to is no longer the started one."""


# --- rules ---------------------------------------------------------------------------------


def rules_for(as_of: dt.date) -> tuple[compute.Rules, dict]:
    """The rule set in force on as_of and the label table, plus their versions."""
    ruleset = SegmentRuleSet.objects.filter(valid_from__lte=as_of).order_by("-valid_from").first()
    labels = list(RfmLabel.objects.order_by("position"))
    label_rules = [
        compute.RfmLabelRule(lb.code, lb.r_min, lb.r_max, lb.f_min, lb.f_max, lb.m_min, lb.m_max)
        for lb in labels
    ] or None
    rules = compute.Rules.from_params(ruleset.params if ruleset else {}, label_rules)
    versions = {
        "ruleset": None if ruleset is None else {
            "id": ruleset.pk, "name": ruleset.name, "valid_from": ruleset.valid_from.isoformat(),
            "updated_at": ruleset.updated_at.isoformat(),
        },
        "rfm_labels": {
            "count": len(labels),
            "updated_at": max((lb.updated_at.isoformat() for lb in labels), default=None),
        },
        "params": {**_rules_as_json(rules)},
    }
    return rules, versions


def _rules_as_json(rules: compute.Rules) -> dict:
    data = {k: v for k, v in rules.__dict__.items() if k not in ("rfm_labels", "tier_bands")}
    data["tier_bands"] = [{"code": c, "min": m} for c, m in rules.tier_bands]
    data["rfm_labels"] = [r.__dict__ for r in rules.rfm_labels]
    return data


def _rules_from_run(run: SegmentRun) -> compute.Rules:
    params = dict(run.rule_versions.get("params") or {})
    labels = [compute.RfmLabelRule(**r) for r in params.pop("rfm_labels", [])] or None
    return compute.Rules.from_params(params, labels)


# --- the run --------------------------------------------------------------------------------


def run_start(
    *, as_of: dt.date, trigger: str = "command", user=None, shard_size: int | None = None,
    stale_after: float | None = None,
) -> SegmentRun:
    """Take the lock for as_of and create the run with its shards."""
    stale_after = _stale_seconds(stale_after)
    existing = SegmentRun.objects.filter(as_of=as_of, state=RunState.STARTED).first()
    if existing is not None:
        if not run_is_dead(existing, stale_after=stale_after):
            raise RunInProgress(existing)
        run_abandon(existing, reason="crashed: stale heartbeat or dead workers; redone")
    rules, versions = rules_for(as_of)
    calendar = selectors.trading_calendar(as_of=as_of, limit=rules.history_window() + 400)
    if not calendar or calendar[-1] != as_of:
        raise NotATradingDay(as_of, selectors.latest_trading_day())
    try:
        with transaction.atomic():
            run = SegmentRun.objects.create(
                as_of=as_of, state=RunState.STARTED, trigger=trigger,
                triggered_by=user if getattr(user, "is_authenticated", False) else None,
                heartbeat_at=timezone.now(), rule_versions=versions,
                calendar=[d.isoformat() for d in calendar],
            )
            _create_shards(run, as_of=as_of, shard_size=shard_size)
    except IntegrityError as exc:
        other = SegmentRun.objects.filter(as_of=as_of, state=RunState.STARTED).first()
        if other is not None:
            raise RunInProgress(other) from exc
        raise
    return run


def _create_shards(run: SegmentRun, *, as_of: dt.date, shard_size: int | None) -> None:
    ids = list(
        Client.objects.filter(opened_on__lte=as_of).order_by("id").values_list("id", flat=True)
    )
    if not shard_size:
        slots = _worker_slots()
        shard_size = min(_shard_size(), max(1, math.ceil(len(ids) / slots)))
    shards = []
    for index, start in enumerate(range(0, len(ids), shard_size)):
        chunk = ids[start:start + shard_size]
        shards.append(SegmentShard(run=run, index=index, client_id_min=chunk[0],
                                   client_id_max=chunk[-1]))
    SegmentShard.objects.bulk_create(shards)
    SegmentRun.objects.filter(pk=run.pk).update(shard_count=len(shards))
    run.shard_count = len(shards)


def _shard_size() -> int:
    return int(getattr(settings, "SEGMENT_SHARD_SIZE", DEFAULT_SHARD_SIZE))


def _worker_slots() -> int:
    """Live worker processes (pool slots) answering on the broker; 1 in eager mode."""
    from brokercrm.celery import app

    if app.conf.task_always_eager or not settings.CELERY_BROKER_URL:
        return 1
    try:
        stats = app.control.inspect(timeout=1.0).stats() or {}
    except Exception:
        log.exception("inspect failed")
        return 1
    slots = sum(int(s.get("pool", {}).get("max-concurrency", 1)) for s in stats.values())
    return max(1, slots)


def _stale_seconds(value: float | None) -> float:
    if value is not None:
        return float(value)
    return float(getattr(settings, "SEGMENT_RUN_STALE_SECONDS", DEFAULT_STALE_SECONDS))


def run_is_dead(run: SegmentRun, *, stale_after: float) -> bool:
    """Started too long without a heartbeat, or a running shard's worker is gone."""
    beat = run.heartbeat_at or run.started_at
    if (timezone.now() - beat).total_seconds() > stale_after:
        return True
    running = list(
        SegmentShard.objects.filter(run=run, state=ShardState.RUNNING)
        .exclude(worker="").values_list("worker", "pid")
    )
    if not running:
        return False
    local = socket.gethostname()
    for worker, pid in running:
        if worker.startswith("local@"):
            # Eager mode: the shard ran in a process of this host.
            if worker == f"local@{local}" and pid and not _pid_alive(pid):
                return True
            continue
        if not _worker_answers(worker):
            return True
    return False


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _worker_answers(hostname: str) -> bool:
    from brokercrm.celery import app

    if app.conf.task_always_eager or not settings.CELERY_BROKER_URL:
        return True
    try:
        replies = app.control.ping(destination=[hostname], timeout=1.0) or []
    except Exception:  # the broker itself is down: do not declare the run dead
        log.exception("ping failed")
        return True
    return any(hostname in reply for reply in replies)


def run_abandon(run: SegmentRun, *, reason: str) -> bool:
    """Mark a started run failed and delete its partial output (compare-and-swap).
    True when this call abandoned it (False: it was no longer started)."""
    with transaction.atomic():
        changed = SegmentRun.objects.filter(pk=run.pk, state=RunState.STARTED).update(
            state=RunState.FAILED, error=reason[:2000], finished_at=timezone.now(),
            is_current=False,
        )
        if changed == 1:
            ClientSegment.objects.filter(run=run).delete()
    log.warning("segment run #%s (%s) abandoned: %s", run.pk, run.as_of, reason)
    return changed == 1


def runs_redo_crashed(
    *, except_as_of: dt.date | None = None, trigger: str = "nightly", wait: bool = True,
    stale_after: float | None = None,
) -> dict:
    """Every started run (other than except_as_of's, which its own start handles) that
    is dead by `run_is_dead`: abandoned (partial rows deleted) and recomputed for its
    as_of. A run still alive is left alone. Returns {as_of: state of the redo or
    "failed: …"}."""
    stale_after = _stale_seconds(stale_after)
    started = SegmentRun.objects.filter(state=RunState.STARTED).order_by("as_of")
    if except_as_of is not None:
        started = started.exclude(as_of=except_as_of)
    result: dict[str, str] = {}
    for run in started:
        if not run_is_dead(run, stale_after=stale_after):
            continue
        if not run_abandon(run, reason="crashed: stale heartbeat or dead workers; "
                                       "redone by the nightly job"):
            continue  # finished or abandoned meanwhile by someone else
        day = run.as_of.isoformat()
        try:
            redo = recompute(as_of=run.as_of, trigger=trigger, wait=wait,
                             stale_after=stale_after)
        except Exception as exc:  # one bad day must not stop the others
            log.exception("nightly: redo of the crashed run #%s (%s) failed", run.pk, day)
            result[day] = f"failed: {exc!r}"[:300]
            continue
        result[day] = redo.state
    return result


def _heartbeat(run_id: int) -> None:
    SegmentRun.objects.filter(pk=run_id, state=RunState.STARTED).update(heartbeat_at=timezone.now())


def shard_compute(*, run_id: int, index: int, worker: str = "", delay: float = 0.0) -> dict:
    """Compute and store one shard. Idempotent: a done shard or a run that is no
    longer started is skipped; a redelivered shard is simply redone."""
    worker = worker or f"local@{socket.gethostname()}"
    claimed = SegmentShard.objects.filter(
        run_id=run_id, index=index, state__in=[ShardState.PENDING, ShardState.RUNNING],
        run__state=RunState.STARTED,
    ).update(state=ShardState.RUNNING, worker=worker, pid=os.getpid(),
             attempts=F("attempts") + 1, started_at=timezone.now())
    if claimed != 1:
        return {"run": run_id, "shard": index, "skipped": True}
    _heartbeat(run_id)
    shard = SegmentShard.objects.select_related("run").get(run_id=run_id, index=index)
    run = shard.run
    # Test hook: a slow shard, so a test can kill its worker in the middle.
    deadline = time.monotonic() + delay
    while time.monotonic() < deadline:
        time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))
        _heartbeat(run_id)
    try:
        frame = _compute_frame(run, shard)
        with transaction.atomic():
            _write_rows(run, frame)
            done = SegmentShard.objects.filter(
                pk=shard.pk, state=ShardState.RUNNING, run__state=RunState.STARTED
            ).update(state=ShardState.DONE, clients=len(frame), finished_at=timezone.now())
            if done != 1:
                raise RunAbandoned(f"shard {index} of run #{run_id} was taken over")
            SegmentRun.objects.filter(pk=run_id).update(
                shards_done=F("shards_done") + 1, heartbeat_at=timezone.now()
            )
    except RunAbandoned:
        return {"run": run_id, "shard": index, "skipped": True}
    except IntegrityError:
        # Another delivery of this very shard got there first.
        if SegmentShard.objects.filter(pk=shard.pk, state=ShardState.DONE).exists():
            return {"run": run_id, "shard": index, "skipped": True}
        raise
    except Exception as exc:
        run_abandon(run, reason=f"shard {index} failed: {exc!r}")
        raise
    return {"run": run_id, "shard": index, "clients": len(frame)}


def _calendar(run: SegmentRun) -> list[dt.date]:
    return [dt.date.fromisoformat(d) for d in run.calendar]


def _compute_frame(run: SegmentRun, shard: SegmentShard) -> pd.DataFrame:
    rules = _rules_from_run(run)
    calendar = _calendar(run)
    lo, hi = shard.client_id_min, shard.client_id_max
    clients = selectors.shard_clients(client_id_min=lo, client_id_max=hi, as_of=run.as_of)
    if not calendar:
        empty_s = pd.DataFrame(columns=["client_id", "trading_day", *compute.SNAPSHOT_VALUES])
        empty_a = pd.DataFrame(columns=["client_id", "trading_day", *compute.ACTIVITY_VALUES])
        return compute.compute_clients(snapshots=empty_s, activity=empty_a, clients=clients,
                                       calendar=[], as_of=run.as_of, rules=rules)
    n = len(calendar)
    ranges = [(calendar[max(0, n - rules.behaviour_window)], calendar[-1])]
    then = n - 1 - rules.annualisation
    if then >= 0:
        ranges.append((calendar[max(0, then - rules.tier_window + 1)], calendar[then]))
    accounts = selectors.shard_accounts(client_id_min=lo, client_id_max=hi)
    snaps = selectors.shard_snapshots(client_id_min=lo, client_id_max=hi, ranges=ranges,
                                      accounts=accounts)
    since = calendar[max(0, n - rules.history_window())]
    month_start = _months_back(run.as_of, rules.loyal_months - 1)
    since = min(since, max(month_start, calendar[0]))
    acts = selectors.shard_activity(client_id_min=lo, client_id_max=hi, since=since,
                                    until=run.as_of, accounts=accounts)
    return compute.compute_clients(snapshots=snaps, activity=acts, clients=clients,
                                   calendar=calendar, as_of=run.as_of, rules=rules)


def _months_back(day: dt.date, months: int) -> dt.date:
    key = day.year * 12 + day.month - 1 - months
    return dt.date(key // 12, key % 12 + 1, 1)


# Columns written by a shard, in table order for COPY; money goes through quantize_yuan.
MONEY = ("avg_equity", "avg_equity_behaviour", "net_fee_window", "annual_net_fee", "var95",
         "pnl_volatility", "pnl_sum")
SHARD_COLUMNS = (
    "avg_equity", "fund_tier", "activity_class", "value_class", "avg_equity_behaviour",
    "net_fee_window", "annual_net_fee", "active_days", "trades", "lots",
    "overnight_active_days", "last_trade_day", "traded_rfm_window", "recency_days", "tenure",
    "purpose", "loyal", "closed", "tier_then", "max_risk_degree", "avg_overnight_risk_degree",
    "capital_utilisation", "margin_call_days", "forced_liquidations", "var95", "pnl_volatility",
    "pnl_sum", "return_rate",
)
INT_COLUMNS = frozenset({
    "active_days", "trades", "lots", "overnight_active_days", "recency_days", "margin_call_days",
    "forced_liquidations", "rfm_r", "rfm_f", "rfm_m",
})
FINAL_COLUMNS = (
    "rfm_r", "rfm_f", "rfm_m", "rfm_label", "churn", "clv", "share_volume", "share_equity",
    "share_net_fee", "quant_score", "quant_class", "drivers",
)


def _py(value, column: str):
    """One pandas cell → the Python value stored (money as a quantized Decimal)."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    if column in MONEY or column == "clv":
        return quantize_yuan(float(value))
    if column in INT_COLUMNS:
        return int(value)
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def _write_rows(run: SegmentRun, frame: pd.DataFrame) -> None:
    if connection.vendor == "postgresql":
        _copy_rows(run, frame)
        return
    ids = frame.index.to_numpy()
    columns = {c: frame[c].tolist() for c in SHARD_COLUMNS}
    rows = []
    for i, cid in enumerate(ids):
        values = {c: _py(columns[c][i], c) for c in SHARD_COLUMNS}
        rows.append(ClientSegment(run=run, client_id=int(cid), as_of=run.as_of, **values))
    ClientSegment.objects.bulk_create(rows, batch_size=500)


def _copy_ready(frame: pd.DataFrame, columns) -> pd.DataFrame:
    """Columns as COPY (FORMAT csv, NULL '\\N') wants them; money through quantize_yuan."""
    out = {}
    for c in columns:
        col = frame[c]
        if c in MONEY or c == "clv":
            out[c] = [None if v is None or v != v else str(quantize_yuan(float(v)))
                      for v in col.tolist()]
        elif c in INT_COLUMNS:
            out[c] = pd.array(col.astype("Float64").round(), dtype="Int64")
        elif c in ("drivers",):
            out[c] = [json.dumps(v, ensure_ascii=False) for v in col.tolist()]
        elif col.dtype == bool or c in ("loyal", "closed", "traded_rfm_window"):
            out[c] = np.where(col.astype(bool).to_numpy(), "t", "f")
        elif c == "last_trade_day":
            out[c] = [v.isoformat() if v is not None and v == v else None for v in col.tolist()]
        else:
            out[c] = col.to_numpy()
    return pd.DataFrame(out, index=frame.index)


def _copy_frame(table: str, frame: pd.DataFrame) -> None:
    buf = io.StringIO()
    frame.to_csv(buf, header=False, index=False, na_rep="\\N")
    buf.seek(0)
    with connection.cursor() as cur:
        cur.copy_expert(
            f"COPY {table} ({', '.join(frame.columns)}) FROM STDIN WITH (FORMAT csv, NULL '\\N')",
            buf,
        )


def _copy_rows(run: SegmentRun, frame: pd.DataFrame) -> None:
    data = _copy_ready(frame, SHARD_COLUMNS)
    data.insert(0, "as_of", run.as_of.isoformat())
    data.insert(0, "client_id", frame.index.to_numpy())
    data.insert(0, "run_id", run.pk)
    # Defaults the model gives the final-step columns.
    for col, value in (("rfm_label", ""), ("quant_class", ""), ("drivers", "[]"),
                       ("share_volume", 0), ("share_equity", 0), ("share_net_fee", 0)):
        data[col] = value
    _copy_frame(ClientSegment._meta.db_table, data)


def run_finalize(*, run_id: int) -> dict:
    """The final step: cross-client parts, counts, and the switch to current."""
    run = SegmentRun.objects.get(pk=run_id)
    if run.state != RunState.STARTED:
        return {"run": run_id, "skipped": True}
    pending = SegmentShard.objects.filter(run=run).exclude(state=ShardState.DONE).count()
    if pending:
        return {"run": run_id, "skipped": True, "pending_shards": pending}
    _heartbeat(run_id)
    rules = _rules_from_run(run)
    needed = ["client_id", "fund_tier", "activity_class", "annual_net_fee", "net_fee_window",
              "traded_rfm_window", "recency_days", "active_days", "lots", "closed", "tier_then",
              "avg_equity_behaviour", "max_risk_degree", "avg_overnight_risk_degree",
              "margin_call_days", "forced_liquidations", "var95", "pnl_volatility", "return_rate",
              "pnl_sum", "capital_utilisation", "value_class"]
    frame = selectors.run_rows_frame(run_id=run.pk, columns=needed).set_index("client_id")
    for col in ("traded_rfm_window", "closed"):
        # COPY's CSV spells booleans t/f; SQLite gives Python bools.
        frame[col] = frame[col].isin([True, "t", "true", "True", 1])
    for col in ("tier_then", "fund_tier", "activity_class", "value_class"):
        # An all-empty text column comes back from CSV as float NaN.
        frame[col] = frame[col].astype(object).where(frame[col].notna(), "").astype(str)
    for col in ("annual_net_fee", "net_fee_window", "avg_equity_behaviour", "var95",
                "pnl_volatility", "pnl_sum"):
        frame[col] = frame[col].astype("float64")
    frame["frequency"] = frame["active_days"]
    frame["monetary"] = frame["net_fee_window"]
    frame["history_days"] = len(run.calendar)
    started = time.monotonic()
    result = compute.finalize(frame, rules) if len(frame) else frame
    with transaction.atomic():
        if len(frame):
            _update_final(run, result)
        counts = {
            field: dict(Counter(result[field].tolist())) if len(frame) else {}
            for field in ("fund_tier", "activity_class", "value_class")
        }
        SegmentRun.objects.filter(as_of=run.as_of, is_current=True).exclude(pk=run.pk).update(
            is_current=False
        )
        now = timezone.now()
        flipped = SegmentRun.objects.filter(pk=run.pk, state=RunState.STARTED).update(
            state=RunState.DONE, is_current=True, finished_at=now, heartbeat_at=now,
            duration_seconds=(now - run.started_at).total_seconds(),
            clients=len(frame), counts=counts,
        )
        if flipped != 1:
            transaction.set_rollback(True)
            return {"run": run_id, "skipped": True}
    log.info("segment run #%s done: %s clients, final step %.2fs", run_id, len(frame),
             time.monotonic() - started)
    return {"run": run_id, "clients": len(frame), "state": RunState.DONE}


def _update_final(run: SegmentRun, result: pd.DataFrame) -> None:
    if connection.vendor == "postgresql":
        data = _copy_ready(result, FINAL_COLUMNS)
        data.insert(0, "client_id", result.index.to_numpy())
        table = ClientSegment._meta.db_table
        with connection.cursor() as cur:
            cur.execute("DROP TABLE IF EXISTS seg_final")
            cur.execute(
                "CREATE TEMP TABLE seg_final (client_id bigint, rfm_r smallint, rfm_f smallint, "
                "rfm_m smallint, rfm_label varchar(30), churn double precision, clv numeric, "
                "share_volume double precision, share_equity double precision, "
                "share_net_fee double precision, quant_score double precision, "
                "quant_class varchar(1), drivers jsonb) ON COMMIT DROP"
            )
        _copy_frame("seg_final", data)
        sets = ", ".join(f"{c} = f.{c}" for c in FINAL_COLUMNS)
        with connection.cursor() as cur:
            cur.execute(
                f"UPDATE {table} s SET {sets} FROM seg_final f "
                f"WHERE s.run_id = %s AND s.client_id = f.client_id", [run.pk]
            )
        return
    ids = result.index.to_numpy()
    cols = {c: result[c].tolist() for c in FINAL_COLUMNS}
    by_client = {s.client_id: s for s in ClientSegment.objects.filter(run=run)}
    for i, cid in enumerate(ids):
        seg = by_client[int(cid)]
        for c in FINAL_COLUMNS:
            value = _py(cols[c][i], c)
            setattr(seg, c, value if value is not None or c in ("churn", "clv", "quant_score",
                                                                "rfm_r", "rfm_f", "rfm_m")
                    else getattr(seg, c))
    ClientSegment.objects.bulk_update(list(by_client.values()), FINAL_COLUMNS, batch_size=500)


def run_fail(*, run_id: int, reason: str) -> None:
    run = SegmentRun.objects.filter(pk=run_id).first()
    if run is not None:
        run_abandon(run, reason=reason)


def recompute(
    *, as_of: dt.date, trigger: str = "command", user=None, wait: bool = True,
    timeout: float = 3600, shard_size: int | None = None, stale_after: float | None = None,
    shard_delay: float = 0.0, then=None,
) -> SegmentRun:
    """Start a run and fan it out over Celery; eagerly in embedded mode.

    `then`: an optional Celery signature run after the final step (the nightly
    chain's later steps when the chain itself runs inside a worker).
    """
    from . import tasks

    run = run_start(as_of=as_of, trigger=trigger, user=user, shard_size=shard_size,
                    stale_after=stale_after)
    tasks.dispatch_run(run, shard_delay=shard_delay, then=then)
    if wait:
        run = run_wait(run_id=run.pk, timeout=timeout)
    else:
        run.refresh_from_db()
    return run


def run_wait(*, run_id: int, timeout: float = 3600, poll: float = 0.25) -> SegmentRun:
    deadline = time.monotonic() + timeout
    while True:
        run = SegmentRun.objects.get(pk=run_id)
        if run.state != RunState.STARTED:
            return run
        if time.monotonic() > deadline:
            raise SegmentationError(f"run #{run_id} not finished after {timeout:.0f}s")
        time.sleep(poll)


# --- the nightly chain -------------------------------------------------------------------------


def _optional(module: str, name: str):
    try:
        mod = import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name and module.startswith(exc.name):
            return None
        raise
    return getattr(mod, name, None)


def _step(summary: dict, name: str, module: str, func: str, **kwargs) -> None:
    fn = _optional(module, func)
    if fn is None:
        log.info("nightly: skip %s (%s.%s not available)", name, module, func)
        summary["steps"][name] = "skipped"
        return
    try:
        result = fn(**kwargs)
    except Exception as exc:
        log.exception("nightly: %s failed", name)
        summary["steps"][name] = f"failed: {exc!r}"[:300]
        summary["status"] = "failed"
        return
    summary["steps"][name] = _jsonable(result)


def _jsonable(value):
    try:
        json.dumps(value, default=str)
    except TypeError:
        return str(value)
    return json.loads(json.dumps(value, default=str))


def run_nightly(*, as_of: dt.date | None = None, wait: bool = True) -> dict:
    """import drop folder → recompute → suitability detection → tasks → accruals.

    With wait=False (inside a Celery worker) the steps after the recompute are
    queued behind the run's final step instead of waited for.
    """
    summary: dict = {"status": "ok", "steps": {}}
    _step(summary, "import_drop_folder", "clients.importers.drop", "import_drop_folder")
    day = as_of or selectors.latest_trading_day()
    if day is None:
        log.info("nightly: skip recompute (no snapshots imported)")
        summary["steps"]["recompute"] = "skipped"
        summary["as_of"] = None
        return summary
    summary["as_of"] = day.isoformat()
    then = None
    if not wait:
        from . import tasks

        then = tasks.nightly_after.si(day.isoformat())
    try:
        run = recompute(as_of=day, trigger="nightly", wait=wait, then=then)
    except SegmentationError as exc:
        summary["steps"]["recompute"] = f"failed: {exc}"
        summary["status"] = "failed"
        _redo_crashed(summary, today=day, wait=wait)
        return summary
    summary["run"] = run.pk
    summary["steps"]["recompute"] = run.state
    # After today's run (waited for, or its chord queued first): crashed runs of
    # other days, which nothing else would ever clean, are cleaned and redone.
    _redo_crashed(summary, today=day, wait=wait)
    if run.state == RunState.FAILED:
        summary["status"] = "failed"
        return summary
    if wait:
        summary = nightly_after_recompute(as_of=day, summary=summary)
    return summary


def _redo_crashed(summary: dict, *, today: dt.date, wait: bool) -> None:
    redone = runs_redo_crashed(except_as_of=today, wait=wait)
    summary["steps"]["crashed_runs"] = redone
    if any(str(state).startswith("failed") for state in redone.values()):
        summary["status"] = "failed"


def nightly_after_recompute(*, as_of: dt.date, summary: dict | None = None) -> dict:
    summary = summary or {"status": "ok", "steps": {}, "as_of": as_of.isoformat()}
    _step(summary, "suitability_detect", "suitability.services",
          "detect_mismatches_in_new_trades")
    try:
        summary["steps"]["dormant_tasks"] = dormant_tasks_create(as_of=as_of)
    except Exception as exc:
        log.exception("nightly: dormant tasks failed")
        summary["steps"]["dormant_tasks"] = f"failed: {exc!r}"
        summary["status"] = "failed"
    _step(summary, "suitability_due_tasks", "suitability.services", "raise_due_tasks",
          as_of=as_of)
    _step(summary, "commission_accrue", "brokers.services", "commission_accrue", as_of=as_of)
    return summary


def dormant_tasks_create(*, as_of: dt.date) -> dict:
    """Newly dormant clients (dormant now, not on the previous current run) → a
    follow-up task for their manager, once: no second open task for a client."""
    run = selectors.current_run(as_of=as_of)
    if run is None:
        return {"created": 0}
    previous = (
        SegmentRun.objects.filter(is_current=True, state=RunState.DONE, as_of__lt=as_of)
        .order_by("-as_of").first()
    )
    dormant = ClientSegment.objects.filter(run=run, activity_class="dormant")
    if previous is not None:
        was_dormant = ClientSegment.objects.filter(
            run=previous, activity_class="dormant"
        ).values("client_id")
        dormant = dormant.exclude(client_id__in=was_dormant)
    already = Task.objects.filter(
        kind=TaskKind.DORMANT_FOLLOW_UP, status=TaskStatus.OPEN
    ).values("client_id")
    candidates = (
        dormant.exclude(client_id__in=already).exclude(client__manager=None)
        .select_related("client")
    )
    seg_type = ContentType.objects.get_for_model(ClientSegment)
    tasks = [
        Task(
            assignee_id=seg.client.manager_id, client_id=seg.client_id,
            kind=TaskKind.DORMANT_FOLLOW_UP, origin=TaskOrigin.SYSTEM,
            title=f"休眠客户跟进 / Dormant client follow-up: {seg.client.client_no}",
            due_on=as_of + dt.timedelta(days=7), source_type=seg_type, source_id=seg.pk,
        )
        for seg in candidates
    ]
    Task.objects.bulk_create(tasks)
    return {"created": len(tasks)}
