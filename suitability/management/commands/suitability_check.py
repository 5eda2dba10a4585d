"""suitability_check --account A --product CODE [--on YYYY-MM-DD]: the matching result.

Prints the client's and the product's levels, then one JSON line:
{"result": "match" | "mismatch" | "prohibited", "client_level": …, "product_level": …}.
Read-only: a check from the command line opens no case.
"""

import datetime as dt
import json

from django.core.management.base import BaseCommand, CommandError

from clients.models import Account
from suitability import services


class Command(BaseCommand):
    help = "Check whether an account's client may trade a product (spec §4)."

    def add_arguments(self, parser):
        parser.add_argument("--account", required=True, help="account id (资金账号)")
        parser.add_argument("--product", required=True,
                            help="catalog code, product code (rb, sc) or instrument (IF2512, i2607-P-750)")
        parser.add_argument("--on", type=dt.date.fromisoformat, default=None, help="YYYY-MM-DD (default today)")

    def handle(self, *args, **options):
        account = Account.objects.select_related("client").filter(account_id=options["account"]).first()
        if account is None:
            raise CommandError(f"unknown account {options['account']!r}")
        result = services.check(client=account.client, product=options["product"], on=options["on"])
        outcome, resolved = result.outcome, result.resolved
        self.stdout.write(f"client {account.client.client_no}: {outcome.client_level}")
        self.stdout.write(f"product {resolved.label}: {outcome.product_level}")
        for warning in outcome.warnings:
            self.stdout.write(f"warning: {warning}")
        summary = {"result": outcome.result, "client_level": outcome.client_level,
                   "product_level": outcome.product_level}
        if resolved.product.flagged:
            summary["flagged"] = True
        self.stdout.write(json.dumps(summary))
