"""load_demo step: segments for each month end of the demo window, then the nightly chain."""

from __future__ import annotations

import time

from . import selectors, services


def load(ctx: dict) -> None:
    from brokercrm.celery import app

    out = ctx.get("stdout")
    latest = selectors.latest_trading_day()
    if latest is None:
        if out:
            out.write("segmentation: no snapshots, nothing to compute")
        return
    # The demo runs in one process: compute in-process whatever the broker setting.
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True
    started = time.monotonic()
    try:
        calendar = selectors.trading_calendar(as_of=latest)
        month_ends = [
            day for i, day in enumerate(calendar)
            if i + 1 < len(calendar) and calendar[i + 1].month != day.month
        ]
        for day in month_ends:
            services.recompute(as_of=day, trigger="demo")
        summary = services.run_nightly(as_of=latest, wait=True)
    finally:
        app.conf.task_always_eager = eager
    run = selectors.current_run()
    ctx["summary"]["segment_runs"] = len(month_ends) + 1
    ctx["summary"]["segments_as_of"] = latest.isoformat()
    ctx["summary"]["segmented_clients"] = run.clients if run else 0
    if out:
        out.write(
            f"segmentation: {len(month_ends)} month-end runs + nightly as of {latest} "
            f"({summary['status']}) in {time.monotonic() - started:.1f}s"
        )
