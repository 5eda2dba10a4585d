"""load_demo step 2: ctx["days"] trading days of activity for the demo accounts,
generated as canonical files and loaded through the real importer.

clients.demo (step 1) creates the users, branches, clients and accounts; this step
writes snapshots.csv and trades.csv for every account found (var/demo_files/, kept
so they can be uploaded again from the imports page) and imports them. Idempotent:
accounts that already have snapshots are left alone.
"""

from __future__ import annotations

from django.conf import settings

from clients.importers.pipeline import import_file
from clients.importers.samples import generate
from clients.models import Account, AccountSnapshot


def load(ctx: dict) -> None:
    out = ctx["stdout"]
    if AccountSnapshot.objects.exists():
        out.write("clients.demo_activity: activity already loaded, nothing to do")
        return
    accounts = list(
        Account.objects.order_by("account_id").values_list("account_id", "client__client_type")
    )
    if not accounts:
        out.write("clients.demo_activity: no accounts, nothing to generate")
        return
    folder = settings.BASE_DIR / "var" / "demo_files"
    result = generate(folder, days=int(ctx.get("days", 60)), seed=int(ctx.get("seed", 7)),
                      accounts=accounts)
    summary = {}
    for kind in ("snapshots", "trades"):
        path = folder / f"{kind}.csv"
        batch = import_file(kind=kind, path_or_file=path, file_name=path.name, source="command")
        if batch.status != "imported":
            errors = batch.report.get("errors", [])[:5]
            raise RuntimeError(f"demo {kind} import {batch.status}: {errors}")
        summary[kind] = batch.created
        out.write(f"clients.demo_activity: {kind}.csv → batch #{batch.pk}, {batch.created} rows "
                  f"({batch.duration_seconds or 0:.1f} s)")
    ctx["summary"]["trading_days"] = f"{result['first_day']}..{result['last_day']}"
    ctx["summary"]["trades"] = summary["trades"]
    ctx["summary"]["snapshots"] = summary["snapshots"]
