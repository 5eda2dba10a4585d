"""manage.py generate_sample_files --clients N --days D --out DIR [--seed S]"""

import json

from django.core.management.base import BaseCommand

from clients import roles
from clients.importers.samples import generate
from clients.models import StaffProfile


class Command(BaseCommand):
    help = ("Write realistic canonical files (branches, brokers, clients, broker_links, "
            "snapshots, trades) for the demo and benchmarks.")

    def add_arguments(self, parser):
        parser.add_argument("--clients", type=int, required=True)
        parser.add_argument("--days", type=int, required=True)
        parser.add_argument("--out", required=True)
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--managers", default=None,
                            help="comma-separated staff codes for manager_code (default: the "
                                 "account managers in the database, if any)")

    def handle(self, *args, **options):
        if options["managers"] is not None:
            managers = [code for code in options["managers"].split(",") if code]
        else:
            managers = list(
                StaffProfile.objects.filter(user__groups__name=roles.ACCOUNT_MANAGER)
                .order_by("staff_code").values_list("staff_code", flat=True)
            )
        result = generate(options["out"], clients=options["clients"], days=options["days"],
                          seed=options["seed"], managers=managers)
        self.stdout.write(json.dumps({"status": "written", "out": options["out"], **result},
                                     ensure_ascii=False))
