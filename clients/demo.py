"""load_demo step 1: groups, branches, staff for every role (with printed passwords),
clients with accounts, prospects, interactions and tasks.

Deterministic for a given ctx["seed"] and idempotent: a second run finds what the
first created (by username, branch code, client no.) and adds nothing.
"""

from __future__ import annotations

import datetime as dt
import random

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from brokercrm.crypto import id_number_hash

from . import roles
from .idnumbers import make_resident_id
from .models import Account, Branch, Client, Interaction, Prospect, StaffProfile, Task
from .models.core import (
    AccountStatus,
    ClientType,
    IdType,
    InteractionKind,
    InvestorCategory,
    ProspectStage,
    TaskKind,
)

DEMO_PASSWORD = "demo-pass-2026"
BRANCHES = (("SH01", "上海营业部", "上海"), ("BJ01", "北京营业部", "北京"))
# username, roles, branch code, first name, last name, is_staff, is_superuser
STAFF = (
    ("admin", (roles.ADMIN,), None, "系统", "管理员", True, True),
    ("am_zhang", (roles.ACCOUNT_MANAGER,), "SH01", "伟", "张", False, False),
    ("am_li", (roles.ACCOUNT_MANAGER,), "SH01", "娜", "李", False, False),
    ("am_wang", (roles.ACCOUNT_MANAGER,), "BJ01", "芳", "王", False, False),
    ("am_zhao", (roles.ACCOUNT_MANAGER,), "BJ01", "磊", "赵", False, False),
    ("bm_shanghai", (roles.BRANCH_MANAGER,), "SH01", "敏", "陈", False, False),
    ("bm_beijing", (roles.BRANCH_MANAGER,), "BJ01", "强", "刘", False, False),
    ("compliance", (roles.COMPLIANCE,), None, "静", "周", False, False),
    ("finance", (roles.FINANCE,), None, "军", "吴", False, False),
    ("ib_demo", (roles.INTRODUCING_BROKER,), None, "居间人", "演示", False, False),
)
ACCOUNT_MANAGERS = ("am_zhang", "am_li", "am_wang", "am_zhao")

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红玉兰春梅海燕晨阳宇航欣怡浩然子涵思远雨桐"
INSTITUTIONS = ("华信贸易有限公司", "东方钢铁集团", "长江能源有限公司", "宏达农产品有限公司",
                "申江化工有限公司", "北辰物产有限公司")
PRODUCTS = ("稳健一号私募基金", "量化对冲二号", "商品CTA三号")
AREA_CODES = ("110101", "110105", "310101", "310104", "310115", "320102", "330106", "440305")


def _person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def load(ctx: dict) -> None:
    out = ctx["stdout"]
    rng = random.Random(ctx.get("seed", 7))
    with transaction.atomic():
        branches = _branches()
        users = _users(branches)
        ctx["branches"] = branches
        ctx["users"] = users
        created = _clients(ctx, rng, branches, users)
    ctx["summary"]["clients"] = Client.objects.count()
    ctx["summary"]["accounts"] = Account.objects.count()
    ctx["summary"]["users"] = len(users)
    out.write(f"clients.demo: {created} new clients ({Client.objects.count()} in all)")
    out.write("")
    out.write(f"Demo logins (password for every user: {DEMO_PASSWORD})")
    out.write(f"  {'username':<14} {'role':<22} branch")
    for username, role_names, branch_code, *_rest in STAFF:
        out.write(f"  {username:<14} {', '.join(role_names):<22} {branch_code or '-'}")
    out.write("")
    ctx["summary"]["logins"] = {username: DEMO_PASSWORD for username, *_ in STAFF}


def _branches() -> dict[str, Branch]:
    branches = {}
    for code, name, city in BRANCHES:
        branch, _ = Branch.objects.get_or_create(code=code, defaults={"name": name, "city": city})
        branches[code] = branch
    return branches


def _users(branches) -> dict:
    User = get_user_model()
    groups = {name: Group.objects.get_or_create(name=name)[0] for name in roles.ALL_ROLES}
    users = {}
    for username, role_names, branch_code, first, last, is_staff, is_superuser in STAFF:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={"first_name": first, "last_name": last, "is_staff": is_staff,
                      "is_superuser": is_superuser, "email": f"{username}@example.com"},
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        user.groups.add(*(groups[name] for name in role_names))
        StaffProfile.objects.get_or_create(
            user=user,
            defaults={"staff_code": username.upper(),
                      "branch": branches[branch_code] if branch_code else None},
        )
        users[username] = user
    return users


def _clients(ctx, rng: random.Random, branches, users) -> int:
    """ctx["clients"] clients C0000001…, each with one or two accounts."""
    count = int(ctx.get("clients", 300))
    if ctx.get("skip_clients"):
        return 0
    today = timezone.localdate()
    wanted = [f"C{n:07d}" for n in range(1, count + 1)]
    existing = set(Client.objects.filter(client_no__in=wanted).values_list("client_no", flat=True))
    managers = [users[name] for name in ACCOUNT_MANAGERS]
    new_clients: list[Client] = []
    plans: list[tuple[str, int, dt.date]] = []
    for n, client_no in enumerate(wanted, start=1):
        # Draw the same numbers whether or not the client exists: deterministic per seed.
        manager = managers[n % len(managers)]
        branch = branches["SH01" if manager.username in ("am_zhang", "am_li") else "BJ01"]
        kind_draw = rng.random()
        opened_on = today - dt.timedelta(days=rng.randint(30, 2500))
        person = _person_name(rng)
        birth = dt.date(1960, 1, 1) + dt.timedelta(days=rng.randint(0, 15000))
        area = rng.choice(AREA_CODES)
        seq = rng.randint(100, 999)
        accounts = 2 if rng.random() < 0.15 else 1
        phone = f"1{rng.choice('3589')}{rng.randint(0, 999999999):09d}"
        professional = rng.random() < 0.1
        if client_no in existing:
            continue
        if kind_draw < 0.9:
            client_type, id_type, name = ClientType.PERSON, IdType.RESIDENT_ID, person
            id_number = make_resident_id(f"{area}{birth:%Y%m%d}{seq}")
        elif kind_draw < 0.97:
            client_type, id_type = ClientType.INSTITUTION, IdType.BUSINESS_LICENSE
            name = f"{rng.choice(('上海', '北京', '江苏', '浙江'))}{rng.choice(INSTITUTIONS)}{n}"
            id_number = f"91{area}MA{n:08d}X"
        else:
            client_type, id_type = ClientType.PRODUCT, IdType.PRODUCT_FILING
            name = f"{rng.choice(PRODUCTS)}（{n}）"
            id_number = f"SX{n:04d}"
        new_clients.append(Client(
            client_no=client_no, client_type=client_type, name=name, id_type=id_type,
            id_number=id_number, id_number_hash=id_number_hash(id_number), phone=phone,
            email="", opened_on=opened_on, branch=branch, manager=manager,
            investor_category=InvestorCategory.PROFESSIONAL if professional
            else InvestorCategory.ORDINARY,
        ))
        plans.append((client_no, accounts, opened_on))
    if not new_clients:
        return 0
    bulk_create_with_history(new_clients, Client, batch_size=1000)
    ids = dict(Client.objects.filter(client_no__in=[p[0] for p in plans])
               .values_list("client_no", "id"))
    new_accounts = []
    for client_no, accounts, opened_on in plans:
        for k in range(accounts):
            new_accounts.append(Account(
                account_id=f"{8 + k}{client_no[1:]}", client_id=ids[client_no],
                opened_on=opened_on, status=AccountStatus.ACTIVE,
            ))
    bulk_create_with_history(new_accounts, Account, batch_size=1000)
    _activity(rng, ids, users, branches, today)
    return len(new_clients)


def _activity(rng, ids: dict[str, int], users, branches, today) -> None:
    """Interactions, tasks and prospects for the freshly created clients."""
    managers = {c.pk: c.manager for c in Client.objects.filter(pk__in=ids.values())
                .select_related("manager")}
    now = timezone.now()
    interactions, tasks = [], []
    summaries = ("Discussed margin levels and risk degree", "Explained the new fee schedule",
                 "Client asked about options on iron ore", "Return visit: suitability confirmed",
                 "Reminded the client of the re-assessment date")
    for client_id in sorted(ids.values()):
        manager = managers[client_id]
        for _ in range(rng.randint(0, 3)):
            interactions.append(Interaction(
                client_id=client_id, staff=manager, kind=rng.choice(InteractionKind.values),
                occurred_at=now - dt.timedelta(days=rng.randint(0, 90), minutes=rng.randint(0, 600)),
                summary=rng.choice(summaries), outcome=rng.choice(("", "OK", "Call back later")),
            ))
        if rng.random() < 0.25:
            tasks.append(Task(
                assignee=manager, client_id=client_id,
                kind=rng.choice((TaskKind.FOLLOW_UP, TaskKind.RETURN_VISIT, TaskKind.DOCUMENT)),
                title=rng.choice(("Call about margin", "Return visit", "Collect updated ID copy")),
                due_on=today + dt.timedelta(days=rng.randint(-5, 20)), created_by=manager,
            ))
    Interaction.objects.bulk_create(interactions, batch_size=1000)
    Task.objects.bulk_create(tasks, batch_size=1000)
    if not Prospect.objects.exists():
        stages = (ProspectStage.LEAD, ProspectStage.LEAD, ProspectStage.CONTACTED,
                  ProspectStage.VISITED, ProspectStage.LOST)
        for i in range(20):
            owner = users[ACCOUNT_MANAGERS[i % len(ACCOUNT_MANAGERS)]]
            branch = branches["SH01" if owner.username in ("am_zhang", "am_li") else "BJ01"]
            stage = stages[i % len(stages)]
            Prospect.objects.create(
                name=_person_name(rng), phone=f"139{rng.randint(0, 99999999):08d}",
                company=rng.choice(("", "华信贸易", "东方钢铁")),
                source=rng.choice(("Referral 转介绍", "Seminar 讲座", "Website 官网")),
                stage=stage, owner=owner, branch=branch,
                next_step="" if stage == ProspectStage.LOST else "Visit with product sheet",
                next_step_on=today + dt.timedelta(days=rng.randint(1, 14)),
                lost_reason="Chose another broker" if stage == ProspectStage.LOST else "",
            )
