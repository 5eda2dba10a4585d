"""run_nightly [--as-of YYYY-MM-DD]: the whole nightly chain once."""

import datetime as dt
import json

from django.core.management.base import BaseCommand, CommandError

from segmentation import services


class Command(BaseCommand):
    help = "Run the nightly chain: drop-folder import, segments, suitability, tasks, accruals."

    def add_arguments(self, parser):
        parser.add_argument("--as-of", type=dt.date.fromisoformat, default=None)

    def handle(self, *args, **options):
        summary = services.run_nightly(as_of=options["as_of"], wait=True)
        self.stdout.write(json.dumps(summary, ensure_ascii=False, default=str))
        if summary["status"] != "ok":
            raise CommandError("nightly chain failed")
