"""Demo step of load_demo: a few IBs (one is the portal user ib_demo's), links to about
a third of the accounts, schemes in every mode, and statements for the demo months.

Idempotent: IBs are upserted by code and links are only added to accounts without one.
"""

from __future__ import annotations

import datetime as dt
import random

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import Max, Min

from clients import roles
from clients.idnumbers import make_resident_id
from clients.models import Account, Trade

from . import services
from .models import BrokerLink, BrokerStatus, CommissionStatement, IntroducingBroker, StatementState

DEMO_PASSWORD = "demo-pass-2026"
BROKERS = (
    # code, name, type, id (first 17 digits or credit code), qualification, scheme
    ("IB01", "赵敏", "person", "33010619881111002", "F3021234", None),
    ("IB02", "金桥投资咨询有限公司", "institution", "91330100MA2GXXXX0Y", "",
     ("tiered_progressive", "0:0.40;100000:0.50;500000:0.60")),
    ("IB03", "孙浩", "person", "31010419800214003", "F3029876", ("tiered_whole", "0:0.45;50000:0.55")),
    ("IB04", "钱芳", "person", "11010519751230004", "F3025555", ("flat", "0:0.60")),
    ("IB05", "周杰", "person", "44030519900705005", "F3027777", None),
)


def _user(username: str, *role_names: str, first="", last=""):
    User = get_user_model()
    user, created = User.objects.get_or_create(username=username,
                                               defaults={"first_name": first, "last_name": last})
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save()
    for role in role_names:
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


@transaction.atomic
def load(ctx: dict) -> None:
    out = ctx["stdout"]
    rng = random.Random(ctx.get("seed", 7))
    finance = _user("finance", roles.FINANCE, first="军", last="吴")
    finance2 = _user("finance2", roles.FINANCE, first="丽", last="郑")
    portal = _user("ib_demo", roles.INTRODUCING_BROKER, first="居间人", last="演示")

    first_day = Trade.objects.aggregate(d=Min("trading_day"))["d"] or dt.date.today().replace(day=1)  # noqa: DTZ011
    last_day = Trade.objects.aggregate(d=Max("trading_day"))["d"] or first_day
    brokers = []
    for code, name, kind, ident, qualification, scheme in BROKERS:
        broker = IntroducingBroker.objects.filter(code=code).first()
        if broker is None:
            broker = services.broker_save(
                code=code, name=name, broker_type=kind,
                id_number=make_resident_id(ident) if kind == "person" else ident,
                qualification_no=qualification, registered_on=dt.date(2021, 10, 8),
                training_hours=rng.choice((10, 15, 20)), contract_start=dt.date(2022, 1, 1),
                contract_end=dt.date(2027, 12, 31), bank_name="中国工商银行",
                bank_account=f"62220202000{rng.randrange(10**8):08d}", bank_account_name=name,
                exclusivity_declared=True, exclusivity_declared_on=dt.date(2022, 1, 1),
                portal_user=portal if code == "IB01" else None,
            )
            if scheme:
                services.scheme_save(broker=broker, mode=scheme[0], bands=scheme[1],
                                     valid_from=dt.date(2022, 1, 1))
        brokers.append(broker)

    # About a third of the accounts get an IB (IB01 the most), from their opening day.
    linked = set(BrokerLink.objects.values_list("account_id", flat=True))
    accounts = list(Account.objects.exclude(id__in=linked).order_by("account_id"))
    weights = (5, 3, 2, 2, 1)
    new_links = []
    for account in accounts:
        if rng.random() < 0.35:
            broker = rng.choices(brokers, weights=weights)[0]
            new_links.append(BrokerLink(account=account, broker=broker, valid_from=account.opened_on))
    BrokerLink.objects.bulk_create(new_links)

    # History worth showing: one client moves IB mid-period, one IB is suspended a week.
    middle = first_day + (last_day - first_day) / 2
    movable = BrokerLink.objects.filter(broker=brokers[0], valid_to__isnull=True,
                                        valid_from__lt=middle).first()
    if movable and not BrokerLink.objects.filter(account=movable.account, valid_from__gte=middle).exists():
        services.link_move(account=movable.account, broker=brokers[4], on=middle)
    if not brokers[3].status_changes.filter(status=BrokerStatus.SUSPENDED).exists():
        services.broker_set_status(broker=brokers[3], status=BrokerStatus.SUSPENDED,
                                   effective_from=middle, note="资料待补充")
        services.broker_set_status(broker=brokers[3], status=BrokerStatus.ACTIVE,
                                   effective_from=middle + dt.timedelta(days=7), note="已恢复")

    # Statements for each demo month; the months before the last are approved, the first paid.
    month = first_day.replace(day=1)
    months = []
    while month <= last_day:
        months.append(month)
        month = services._add_months(month, 1)
    for index, month in enumerate(months):
        summary = services.compute_commissions(month=month, user=finance)
        out.write(f"brokers: {summary['month']} {summary['statements']} statements, gross {summary['gross']}")
        if index == len(months) - 1:
            continue
        for statement in CommissionStatement.objects.filter(month=month, state=StatementState.DRAFT):
            services.statement_approve(statement=statement, user=finance2)
            if index == 0 and statement.net_pay > 0:
                services.statement_pay(statement=statement, user=finance2,
                                       paid_on=services.month_bounds(month)[1] + dt.timedelta(days=10),
                                       bank_ref=f"ICBC{month:%Y%m}{statement.broker.code}")
    ctx["summary"]["introducing_brokers"] = IntroducingBroker.objects.count()
    ctx["summary"]["broker_links"] = BrokerLink.objects.count()
    ctx["summary"]["commission_statements"] = CommissionStatement.objects.count()
    logins = ctx["summary"].setdefault("logins", {})
    logins.setdefault("finance2", DEMO_PASSWORD)
    logins.setdefault("ib_demo", DEMO_PASSWORD)
