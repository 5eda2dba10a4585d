"""export_commissions --month YYYY-MM: the month's statements as CSV on stdout."""

import json

from django.core.management.base import BaseCommand, CommandError

from brokers.exports import EXPORT_COLUMNS, statement_rows, write_csv
from brokers.models import CommissionStatement
from brokers.services import parse_month


class Command(BaseCommand):
    help = "CSV of the month's commission statements: " + ",".join(EXPORT_COLUMNS)

    def add_arguments(self, parser):
        parser.add_argument("--month", required=True, help="YYYY-MM")

    def handle(self, *args, **options):
        try:
            month = parse_month(options["month"])
        except ValueError as exc:
            self.stdout.write(json.dumps({"status": "failed", "error": str(exc)}))
            raise CommandError(str(exc)) from exc
        statements = CommissionStatement.objects.filter(month=month).select_related("broker")
        rows = statement_rows(statements.order_by("broker__code"))
        write_csv(self.stdout, rows)
        self.stdout.write(json.dumps({
            "status": "exported", "month": month.strftime("%Y-%m"), "statements": len(rows),
        }))
