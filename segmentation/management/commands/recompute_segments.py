"""recompute_segments --as-of YYYY-MM-DD: the segment run for that trading day."""

import datetime as dt
import json

from django.core.management.base import BaseCommand, CommandError

from segmentation import selectors, services
from segmentation.models import RunState


class Command(BaseCommand):
    help = "Recompute the segments as of a trading day (default: the latest with snapshots)."

    def add_arguments(self, parser):
        parser.add_argument("--as-of", type=dt.date.fromisoformat, default=None)
        parser.add_argument("--shard-size", type=int, default=None)
        parser.add_argument("--timeout", type=float, default=3600)

    def handle(self, *args, **options):
        as_of = options["as_of"] or selectors.latest_trading_day()
        if as_of is None:
            self.stdout.write(json.dumps({"status": "failed", "error": "no snapshots imported"}))
            raise CommandError("no snapshots imported")
        try:
            run = services.recompute(as_of=as_of, trigger="command",
                                     shard_size=options["shard_size"], timeout=options["timeout"])
        except services.SegmentationError as exc:
            self.stdout.write(json.dumps({"status": "failed", "as_of": as_of.isoformat(),
                                         "error": str(exc)}))
            raise CommandError(str(exc)) from exc
        summary = {
            "status": run.state, "as_of": as_of.isoformat(), "run": run.pk,
            "clients": run.clients, "shards": run.shard_count,
            "duration_seconds": round(run.duration_seconds or 0, 3), **run.counts,
        }
        if run.state != RunState.DONE:
            summary["error"] = run.error
            self.stdout.write(json.dumps(summary, ensure_ascii=False))
            raise CommandError(f"run #{run.pk} {run.state}")
        self.stdout.write(json.dumps(summary, ensure_ascii=False))
