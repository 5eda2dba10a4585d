"""factory_boy factories for the clients app; other apps keep theirs in tests/<app>/factories.py."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from clients import models
from clients.idnumbers import make_resident_id
from clients.models.activity import Direction, HedgeFlag, ImportStatus, Offset

PASSWORD = "correct-horse-42"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.django.Password(PASSWORD)


class BranchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Branch
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"B{n:03d}")
    name = factory.Sequence(lambda n: f"营业部{n}")
    city = "上海"


def staff_user(username: str, *roles: str, branch=None, **user_fields):
    """A user with the given role groups and a staff profile."""
    user = UserFactory(username=username, **user_fields)
    for role in roles:
        group, _ = Group.objects.get_or_create(name=role)
        user.groups.add(group)
    models.StaffProfile.objects.get_or_create(
        user=user, defaults={"staff_code": username.upper(), "branch": branch}
    )
    return user


class ClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Client

    client_no = factory.Sequence(lambda n: f"C{n:07d}")
    client_type = models.core.ClientType.PERSON
    name = factory.Faker("name", locale="zh_CN")
    id_type = models.core.IdType.RESIDENT_ID
    id_number = factory.Sequence(lambda n: make_resident_id(f"11010119900101{n % 1000:03d}"))
    phone = factory.Sequence(lambda n: f"138{n:08d}")
    opened_on = dt.date(2024, 1, 15)
    branch = factory.SubFactory(BranchFactory)
    manager = None


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Account

    account_id = factory.Sequence(lambda n: f"8{n:07d}")
    client = factory.SubFactory(ClientFactory)
    opened_on = factory.SelfAttribute("client.opened_on")


class InteractionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Interaction

    client = factory.SubFactory(ClientFactory)
    staff = factory.SubFactory(UserFactory)
    kind = models.core.InteractionKind.CALL
    summary = "Discussed margin levels"


class TaskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Task

    assignee = factory.SubFactory(UserFactory)
    client = factory.SubFactory(ClientFactory)
    kind = models.core.TaskKind.FOLLOW_UP
    title = factory.Sequence(lambda n: f"Task {n}")
    due_on = dt.date(2026, 11, 30)


class ProspectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Prospect

    name = factory.Faker("name", locale="zh_CN")
    owner = factory.SubFactory(UserFactory)
    branch = factory.SubFactory(BranchFactory)


class ImportBatchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.ImportBatch

    kind = "trades"
    file_name = factory.Sequence(lambda n: f"file{n}.csv")
    sha256 = factory.Sequence(lambda n: f"{n:064x}")
    status = ImportStatus.IMPORTED


class FuturesProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.FuturesProduct
        django_get_or_create = ("exchange", "code")

    exchange = "SHFE"
    code = "rb"
    name_zh = "螺纹钢"
    name_en = "Rebar"
    multiplier = Decimal("10")


class TradeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Trade

    batch = factory.SubFactory(ImportBatchFactory)
    line = factory.Sequence(lambda n: n + 2)
    account = factory.SubFactory(AccountFactory)
    trading_day = dt.date(2026, 11, 16)
    exchange = "SHFE"
    instrument = "rb2605"
    product_code = "rb"
    direction = Direction.BUY
    offset = Offset.OPEN
    hedge_flag = HedgeFlag.SPECULATION
    price = Decimal("3500")
    volume = 1
    turnover = Decimal("35000.00")
    fee = Decimal("10.00")
    exchange_fee = Decimal("3.50")
    trade_id = factory.Sequence(lambda n: f"T{n:08d}")


class SnapshotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.AccountSnapshot

    batch = factory.SubFactory(ImportBatchFactory, kind="snapshots")
    line = factory.Sequence(lambda n: n + 2)
    account = factory.SubFactory(AccountFactory)
    trading_day = dt.date(2026, 11, 16)
    pre_balance = Decimal("100000.00")
    equity = Decimal("100000.00")
    margin = Decimal("0.00")
    risk_degree = Decimal("0")


class DailyActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.DailyAccountActivity

    account = factory.SubFactory(AccountFactory)
    trading_day = dt.date(2026, 11, 16)
