"""load_demo: users for every role, branches, clients, activity, then the nightly chain.

Each app contributes a step: `<app>.demo.load(ctx)`, run in the order below when the
module exists. ctx is a dict shared by the steps (stdout, rng seed, users, …).
"""

import json
from importlib import import_module

from django.core.management.base import BaseCommand

STEPS = (
    "clients.demo",  # users, branches, clients, accounts, prospects, interactions, tasks
    "clients.demo_activity",  # 60 trading days of generated files, imported
    "brokers.demo",
    "suitability.demo",
    "segmentation.demo",  # last: runs the nightly chain
)


class Command(BaseCommand):
    help = "Load demo data for every role and print the logins."

    def add_arguments(self, parser):
        parser.add_argument("--clients", type=int, default=300)
        parser.add_argument("--days", type=int, default=60)
        parser.add_argument("--seed", type=int, default=7)

    def handle(self, *args, **options):
        ctx = {
            "stdout": self.stdout,
            "clients": options["clients"],
            "days": options["days"],
            "seed": options["seed"],
            "summary": {},
        }
        for name in STEPS:
            try:
                module = import_module(name)
            except ModuleNotFoundError as exc:
                if exc.name == name:
                    continue
                raise
            module.load(ctx)
        self.stdout.write(json.dumps({"status": "loaded", **ctx["summary"]}, ensure_ascii=False))
