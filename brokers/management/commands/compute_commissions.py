"""compute_commissions --month YYYY-MM: build or rebuild the month's draft statements."""

import json

from django.core.management.base import BaseCommand, CommandError

from brokers.services import compute_commissions, parse_month


class Command(BaseCommand):
    help = "Build or rebuild the month's draft commission statements (approved ones stay)."

    def add_arguments(self, parser):
        parser.add_argument("--month", required=True, help="YYYY-MM")

    def handle(self, *args, **options):
        try:
            month = parse_month(options["month"])
        except ValueError as exc:
            self.stdout.write(json.dumps({"status": "failed", "error": str(exc)}))
            raise CommandError(str(exc)) from exc
        try:
            summary = compute_commissions(month=month)
        except Exception as exc:
            self.stdout.write(json.dumps({"status": "failed", "month": options["month"],
                                          "error": f"{type(exc).__name__}: {exc}"}))
            raise CommandError(str(exc)) from exc
        self.stdout.write(json.dumps(summary, ensure_ascii=False))
