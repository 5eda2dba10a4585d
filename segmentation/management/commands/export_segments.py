"""export_segments --as-of YYYY-MM-DD: the current run of that day as CSV on stdout."""

import datetime as dt
import json
import sys

from django.core.management.base import BaseCommand, CommandError

from segmentation import exports, selectors


class Command(BaseCommand):
    help = "Export the segments of a trading day as CSV (columns of the spec)."

    def add_arguments(self, parser):
        parser.add_argument("--as-of", type=dt.date.fromisoformat, required=True)

    def handle(self, *args, **options):
        run = selectors.current_run(as_of=options["as_of"])
        if run is None:
            self.stdout.write(json.dumps({"status": "failed", "as_of": options["as_of"].isoformat(),
                                         "error": "no complete run for that day"}))
            raise CommandError("no complete run for that day")
        rows = exports.write_csv(self.stdout, run=run)
        # The summary goes to stderr so stdout stays a clean CSV file.
        sys.stderr.write(json.dumps({"status": "exported", "as_of": run.as_of.isoformat(),
                                     "run": run.pk, "rows": rows}) + "\n")
