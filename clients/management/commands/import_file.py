"""manage.py import_file --kind K PATH [--correction]: the command door of the importer."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from clients.importers.base import REGISTRY
from clients.importers.pipeline import import_file
from clients.models.activity import ImportStatus


class Command(BaseCommand):
    help = "Import one back-office file; prints each error, then a one-line JSON summary."

    def add_arguments(self, parser):
        parser.add_argument("--kind", required=True, choices=sorted(REGISTRY))
        parser.add_argument("path")
        parser.add_argument("--correction", action="store_true",
                            help="replace snapshots already imported for the same days")

    def handle(self, *args, **options):
        path = Path(options["path"])
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        batch = import_file(kind=options["kind"], path_or_file=path, file_name=path.name,
                            correction=options["correction"], source="command")
        for error in batch.report.get("errors", []):
            where = f"line {error['line']}, column {error['column']}" if error["column"] \
                else f"line {error['line']}"
            self.stdout.write(f"{where}: {error['reason']}")
        for warning in batch.report.get("warnings", []):
            self.stdout.write(f"warning: line {warning['line']}, column {warning['column']}: "
                              f"{warning['reason']}")
        if batch.errors > len(batch.report.get("errors", [])):
            self.stdout.write(f"… {batch.errors - len(batch.report['errors'])} more errors")
        summary = {
            "status": batch.status, "kind": batch.kind, "rows": batch.rows,
            "created": batch.created, "updated": batch.updated, "unchanged": batch.unchanged,
            "errors": batch.errors, "batch": batch.pk,
        }
        self.stdout.write(json.dumps(summary, ensure_ascii=False))
        if batch.status not in (ImportStatus.IMPORTED, ImportStatus.ALREADY_IMPORTED):
            raise SystemExit(1)
