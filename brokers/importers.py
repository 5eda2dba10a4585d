"""Import kinds of the brokers app (formats spec §4 and §6): brokers, broker_links,
schemes; plus the clients file's broker_code/broker_since columns, stored as links
by an after-import hook.

Link rows are planned against the stored links before anything is written: rows
of one account must not overlap each other nor a stored link, except that a
stored *open* link that started earlier is closed the day before the row starts
(a move: history is kept, the next link opens).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clients.idnumbers import CHECK_DIGIT_WRONG, resident_id_problem
from clients.importers import values as v
from clients.importers.base import (
    Column,
    ImportKind,
    LoadCounts,
    RowError,
    after_import,
    register,
)
from clients.models import Account

from . import commissions
from .models import (
    BrokerLink,
    BrokerStatus,
    BrokerStatusChange,
    BrokerType,
    CommissionScheme,
    IntroducingBroker,
)
from .services import ONE_DAY, broker_problems, scheme_problems

logger = logging.getLogger(__name__)

BROKER_TYPES = {
    "person": BrokerType.PERSON, "个人": BrokerType.PERSON, "自然人": BrokerType.PERSON,
    "institution": BrokerType.INSTITUTION, "机构": BrokerType.INSTITUTION,
    "法人": BrokerType.INSTITUTION,
}
broker_type = v._vocabulary(BROKER_TYPES, _("unknown broker type (use person/institution or 个人/机构)"))

STATUSES = {
    "active": BrokerStatus.ACTIVE, "正常": BrokerStatus.ACTIVE, "有效": BrokerStatus.ACTIVE,
    "suspended": BrokerStatus.SUSPENDED, "暂停": BrokerStatus.SUSPENDED,
    "terminated": BrokerStatus.TERMINATED, "终止": BrokerStatus.TERMINATED,
    "解除": BrokerStatus.TERMINATED,
    "expired": BrokerStatus.EXPIRED, "到期": BrokerStatus.EXPIRED, "过期": BrokerStatus.EXPIRED,
}
status = v._vocabulary(STATUSES, _("unknown status (use active/suspended/terminated/expired)"))

MODES = {
    "flat": "flat", "固定": "flat", "固定比例": "flat",
    "tiered_progressive": "tiered_progressive", "超额累进": "tiered_progressive",
    "tiered_whole": "tiered_whole", "全额累进": "tiered_whole",
}
mode = v._vocabulary(MODES, _("unknown mode (use flat, tiered_progressive or tiered_whole)"))


def bands(value: str):
    try:
        return commissions.bands_from_text(value)
    except (ValueError, ArithmeticError) as exc:
        raise ValueError(_("bands are lower:ratio pairs separated by ; starting at 0 (%(why)s)")
                         % {"why": exc}) from None


def _duplicates(rows, key: tuple[str, ...], column: str) -> list[RowError]:
    seen: dict[tuple, int] = {}
    errors = []
    for row in rows:
        k = tuple(row[name] for name in key)
        if k in seen:
            errors.append(RowError(row.line, column, str(row[column] or ""),
                                   _("duplicate of line %(line)s (same %(key)s)")
                                   % {"line": seen[k], "key": ", ".join(key)}))
        else:
            seen[k] = row.line
    return errors


# --- brokers -----------------------------------------------------------------------------

# Register checks report on the file's columns.
_FIELD_COLUMN = {
    "code": "broker_code", "name": "name", "broker_type": "broker_type",
    "id_number": "id_number", "qualification_no": "qualification_no",
    "contract_end": "contract_end", "bank_account_name": "bank_account",
    "full_civil_capacity": "", "training_hours": "training_hours",
}


@register
class BrokersKind(ImportKind):
    name = "brokers"
    natural_key = ("broker_code",)
    columns = (
        Column("broker_code", ("居间人编号", "居间人代码", "居间人", "code"), required=True,
               parse=v.text_id),
        Column("name", ("居间人名称", "姓名", "名称"), required=True),
        Column("broker_type", ("居间人类型", "类型", "type"), required=True, parse=broker_type),
        Column("id_number", ("证件号码", "身份证号", "统一社会信用代码"), required=True,
               parse=v.text_id),
        Column("qualification_no", ("从业资格证书号", "资格证书号", "从业资格号"), default=""),
        Column("registered_on", ("协会登记日期", "登记日期"), parse=v.date),
        Column("contract_start", ("合同开始日期", "合同起始日", "contract_from"), parse=v.date),
        Column("contract_end", ("合同结束日期", "合同到期日", "contract_to"), parse=v.date),
        Column("status", ("状态", "居间人状态"), parse=status, default=BrokerStatus.ACTIVE),
        Column("bank_account", ("银行账号", "银行账户", "收款账号"), default="", parse=v.text_id),
        Column("bank_name", ("开户银行", "开户行"), default=""),
        Column("training_hours", ("培训学时", "年度培训学时"), parse=v.decimal_non_negative,
               default=Decimal("0")),
    )

    def _instance(self, row, existing=None) -> IntroducingBroker:
        broker = existing or IntroducingBroker(code=row["broker_code"])
        for name, value in self._fields(row).items():
            setattr(broker, name, value)
        return broker

    def _fields(self, row) -> dict:
        fields = {
            "name": row["name"], "broker_type": row["broker_type"], "id_number": row["id_number"],
            "qualification_no": row["qualification_no"] or "",
            "registered_on": row["registered_on"], "contract_start": row["contract_start"],
            "contract_end": row["contract_end"], "bank_account": row["bank_account"] or "",
            "bank_account_name": row["name"] if row["bank_account"] else "",
        }
        for optional in ("bank_name", "training_hours"):
            if optional in row.present:
                fields[optional] = row[optional]
        return fields

    def validate(self, rows, *, correction=False):
        errors = _duplicates(rows, ("broker_code",), "broker_code")
        existing = IntroducingBroker.objects.in_bulk(
            [r["broker_code"] for r in rows], field_name="code"
        )
        for row in rows:
            broker = self._instance(row, existing.get(row["broker_code"]))
            # As for clients: a wrong check digit alone is reported, not refused (the
            # association registered the person; the shared samples carry one).
            check_digit_only = resident_id_problem(broker.id_number or "") is CHECK_DIGIT_WRONG
            for field_name, messages in broker_problems(broker).items():
                column = _FIELD_COLUMN.get(field_name, "")
                value = str(row.get(column) or "") if column else ""
                if field_name == "id_number":
                    value = broker.id_number_masked
                for message in messages:
                    errors.append(RowError(
                        row.line, column, value, message,
                        warning=field_name == "id_number" and check_digit_only))
        return errors

    def load(self, batch, rows, *, correction=False):
        counts = LoadCounts()
        today = timezone.localdate()
        existing = IntroducingBroker.objects.in_bulk(
            [r["broker_code"] for r in rows], field_name="code"
        )
        for row in rows:
            broker = existing.get(row["broker_code"])
            fields = self._fields(row)
            if broker is None:
                broker = IntroducingBroker(code=row["broker_code"], status=row["status"], **fields)
                broker.save()
                BrokerStatusChange.objects.create(
                    broker=broker, status=row["status"],
                    effective_from=row["contract_start"] or row["registered_on"] or today,
                    note=f"import #{batch.pk} line {row.line}",
                )
                counts.created += 1
                continue
            changed = any(getattr(broker, name) != value for name, value in fields.items())
            if changed:
                for name, value in fields.items():
                    setattr(broker, name, value)
                broker.save()
            if row["status"] != broker.status:
                # The file carries no date for a status change: it holds from the import day.
                BrokerStatusChange.objects.update_or_create(
                    broker=broker, effective_from=today,
                    defaults={"status": row["status"], "note": f"import #{batch.pk} line {row.line}"},
                )
                IntroducingBroker.objects.filter(pk=broker.pk).update(status=row["status"])
                changed = True
            if changed:
                counts.updated += 1
            else:
                counts.unchanged += 1
        return counts


# --- links ----------------------------------------------------------------------------------


@dataclass
class LinkRow:
    line: int
    account_id: int
    account_no: str
    broker_id: int
    broker_code: str
    valid_from: dt.date
    valid_to: dt.date | None


@dataclass
class LinkPlan:
    errors: list[RowError] = field(default_factory=list)
    close: list[tuple[BrokerLink, dt.date]] = field(default_factory=list)  # (stored, new valid_to)
    update: list[tuple[BrokerLink, LinkRow]] = field(default_factory=list)
    create: list[LinkRow] = field(default_factory=list)
    unchanged: list[LinkRow] = field(default_factory=list)
    skipped_lines: set = field(default_factory=set)


def _overlap(a_from, a_to, b_from, b_to) -> bool:
    return (b_to is None or a_from <= b_to) and (a_to is None or b_from <= a_to)


def _period(start, end) -> str:
    return f"{start}–{end or '…'}"


def plan_links(rows: list[LinkRow], *, keep_stored_ends: bool = False) -> LinkPlan:
    """Decide what the rows do to the stored links; errors name the line and the reason.

    keep_stored_ends: the rows carry no end date (the clients file): a row with the
    same start as a stored link keeps that link's end, so it never reopens nor extends
    a closed link. Only the links file, with explicit dates, changes ends.
    """
    plan = LinkPlan()
    stored: dict[int, list[BrokerLink]] = defaultdict(list)
    for link in BrokerLink.objects.filter(
        account_id__in={r.account_id for r in rows}
    ).select_related("broker").order_by("valid_from"):
        stored[link.account_id].append(link)
    by_account: dict[int, list[LinkRow]] = defaultdict(list)
    for row in rows:
        by_account[row.account_id].append(row)

    for account_id, account_rows in by_account.items():
        account_rows.sort(key=lambda r: (r.valid_from, r.line))
        if keep_stored_ends:
            ends = {link.valid_from: link.valid_to for link in stored[account_id]}
            for row in account_rows:
                if row.valid_from in ends:
                    row.valid_to = ends[row.valid_from]
        bad: set[int] = set()
        # 1. rows of one account must not overlap each other.
        for index, row in enumerate(account_rows):
            for other in account_rows[:index]:
                if _overlap(row.valid_from, row.valid_to, other.valid_from, other.valid_to):
                    plan.errors.append(RowError(
                        row.line, "valid_from", str(row.valid_from),
                        _("overlaps line %(line)s (%(broker)s %(period)s) for account %(account)s")
                        % {"line": other.line, "broker": other.broker_code,
                           "period": _period(other.valid_from, other.valid_to),
                           "account": row.account_no},
                    ))
                    bad.add(row.line)
        # 2. against the stored links, after same-day replacements and moves.
        keyed = {link.valid_from: link for link in stored[account_id]}
        row_starts = {row.valid_from for row in account_rows}
        final: list[tuple] = []  # (from, to, description)
        for link in stored[account_id]:
            if link.valid_from in row_starts:
                continue  # replaced by the row with the same start
            new_to = link.valid_to
            if link.valid_to is None:
                later = [r.valid_from for r in account_rows if r.valid_from > link.valid_from]
                if later:
                    new_to = min(later) - ONE_DAY
                    plan.close.append((link, new_to))
            final.append((link.valid_from, new_to, link))
        for row in account_rows:
            for start, end, link in final:
                if _overlap(row.valid_from, row.valid_to, start, end):
                    plan.errors.append(RowError(
                        row.line, "valid_from", str(row.valid_from),
                        _("overlaps the stored link %(broker)s %(period)s of account %(account)s")
                        % {"broker": link.broker.code, "period": _period(link.valid_from, link.valid_to),
                           "account": row.account_no},
                    ))
                    bad.add(row.line)
        if bad:
            plan.skipped_lines |= {r.line for r in account_rows}
            plan.close = [(link, to) for link, to in plan.close if link.account_id != account_id]
            continue
        for row in account_rows:
            same = keyed.get(row.valid_from)
            if same is None:
                plan.create.append(row)
            elif same.broker_id == row.broker_id and same.valid_to == row.valid_to:
                plan.unchanged.append(row)
            else:
                plan.update.append((same, row))
    return plan


def apply_link_plan(plan: LinkPlan, *, batch=None) -> LoadCounts:
    """Write a plan: closures first, then updates, then new links (the exclusion
    constraint is checked statement by statement)."""
    counts = LoadCounts(unchanged=len(plan.unchanged))
    for link, new_to in plan.close:
        BrokerLink.objects.filter(pk=link.pk).update(valid_to=new_to, updated_at=timezone.now())
        counts.updated += 1
    for link, row in plan.update:
        BrokerLink.objects.filter(pk=link.pk).update(
            broker_id=row.broker_id, valid_to=row.valid_to, batch=batch, line=row.line,
            updated_at=timezone.now(),
        )
        counts.updated += 1
    BrokerLink.objects.bulk_create([
        BrokerLink(account_id=row.account_id, broker_id=row.broker_id, valid_from=row.valid_from,
                   valid_to=row.valid_to, batch=batch, line=row.line)
        for row in plan.create
    ])
    counts.created = len(plan.create)
    return counts


def _resolve(rows, *, account_col="account_id", broker_col="broker_code",
             from_col="valid_from", to_col="valid_to") -> tuple[list[LinkRow], list[RowError]]:
    accounts = dict(Account.objects.filter(
        account_id__in={r[account_col] for r in rows}
    ).values_list("account_id", "id"))
    brokers = dict(IntroducingBroker.objects.filter(
        code__in={r[broker_col] for r in rows}
    ).values_list("code", "id"))
    resolved, errors = [], []
    for row in rows:
        ok = True
        if row[account_col] not in accounts:
            errors.append(RowError(row.line, account_col, row[account_col],
                                   _("unknown account: load the clients file first")))
            ok = False
        if row[broker_col] not in brokers:
            errors.append(RowError(row.line, broker_col, row[broker_col],
                                   _("unknown introducing broker: load the brokers file first")))
            ok = False
        valid_to = row.get(to_col) if to_col else None
        if valid_to is not None and valid_to < row[from_col]:
            errors.append(RowError(row.line, to_col, str(valid_to),
                                   _("a link cannot end before it starts")))
            ok = False
        if ok:
            resolved.append(LinkRow(
                line=row.line, account_id=accounts[row[account_col]], account_no=row[account_col],
                broker_id=brokers[row[broker_col]], broker_code=row[broker_col],
                valid_from=row[from_col], valid_to=valid_to,
            ))
    return resolved, errors


@register
class BrokerLinksKind(ImportKind):
    name = "broker_links"
    natural_key = ("account_id", "valid_from")
    columns = (
        Column("account_id", ("资金账号", "客户号", "AccountID", "InvestorID"), required=True,
               parse=v.text_id),
        Column("broker_code", ("居间人编号", "居间人代码", "居间人"), required=True, parse=v.text_id),
        Column("valid_from", ("起始日期", "居间关系起始日", "开始日期", "from"), required=True,
               parse=v.date),
        Column("valid_to", ("结束日期", "居间关系结束日", "终止日期", "to"), parse=v.date),
    )

    def validate(self, rows, *, correction=False):
        resolved, errors = _resolve(rows)
        errors += plan_links(resolved).errors
        return errors

    def load(self, batch, rows, *, correction=False):
        resolved, errors = _resolve(rows)
        plan = plan_links(resolved)
        if errors or plan.errors:  # validate ran first; a race since then refuses
            from clients.importers.base import ImportRefused

            raise ImportRefused(errors + plan.errors)
        return apply_link_plan(plan, batch=batch)


@after_import("clients")
def links_from_clients_file(batch) -> None:
    """The clients file's broker_code + broker_since (default: opened_on) become links.

    Rows naming an unknown IB or clashing with stored links are skipped (the clients
    import itself has succeeded); they are listed in the batch report under
    "broker_links".
    """
    rows = [r for r in getattr(batch, "parsed_rows", None) or [] if r.get("broker_code")]
    if not rows:
        return
    for row in rows:
        if not row.get("broker_since"):
            row.values["broker_since"] = row.get("opened_on")
    resolved, errors = _resolve(rows, from_col="broker_since", to_col=None)
    plan = plan_links(resolved, keep_stored_ends=True)
    with transaction.atomic():
        counts = apply_link_plan(plan, batch=batch)
    skipped = [e.as_dict() for e in errors + plan.errors]
    report = dict(batch.report or {})
    report["broker_links"] = {
        "created": counts.created, "updated": counts.updated, "unchanged": counts.unchanged,
        "skipped": skipped,
    }
    type(batch).objects.filter(pk=batch.pk).update(report=report)
    batch.report = report
    if skipped:
        logger.warning("clients batch %s: %s broker link(s) skipped", batch.pk, len(skipped))


# --- schemes ----------------------------------------------------------------------------------


@register
class SchemesKind(ImportKind):
    name = "schemes"
    natural_key = ("broker_code", "valid_from")
    columns = (
        Column("broker_code", ("居间人编号", "居间人代码", "居间人"), parse=v.text_id, default=""),
        Column("mode", ("模式", "计算方式"), required=True, parse=mode),
        Column("bands", ("分档", "比例", "档位"), required=True, parse=bands),
        Column("vat_rate", ("增值税及附加", "增值税率"), parse=v.percent),
        Column("reserve_rate", ("风险准备金", "风险准备金比例"), parse=v.percent),
        Column("protection_rate", ("投资者保障基金", "保障基金比例"), parse=v.percent),
        Column("other_deductions", ("其他扣除",), parse=v.decimal_non_negative),
        Column("min_payout", ("最低支付", "起付金额"), parse=v.decimal_non_negative),
        Column("valid_from", ("生效日期", "起始日期"), required=True, parse=v.date),
    )
    _RATES = ("vat_rate", "reserve_rate", "protection_rate", "other_deductions", "min_payout")

    def validate(self, rows, *, correction=False):
        errors = _duplicates(rows, ("broker_code", "valid_from"), "valid_from")
        known = set(IntroducingBroker.objects.filter(
            code__in={r["broker_code"] for r in rows if r["broker_code"]}
        ).values_list("code", flat=True))
        for row in rows:
            if row["broker_code"] and row["broker_code"] not in known:
                errors.append(RowError(row.line, "broker_code", row["broker_code"],
                                       _("unknown introducing broker: load the brokers file first")))
            problems, _parsed = scheme_problems(
                mode=row["mode"], bands=row["bands"], rates={k: row[k] for k in self._RATES}
            )
            for field_name, messages in problems.items():
                for message in messages:
                    errors.append(RowError(row.line, field_name, str(row.get(field_name) or ""),
                                           message))
        return errors

    def load(self, batch, rows, *, correction=False):
        counts = LoadCounts()
        brokers = dict(IntroducingBroker.objects.filter(
            code__in={r["broker_code"] for r in rows if r["broker_code"]}
        ).values_list("code", "id"))
        for row in rows:
            broker_id = brokers.get(row["broker_code"]) if row["broker_code"] else None
            values = {
                "mode": row["mode"],
                "bands": [[str(lower), str(ratio)] for lower, ratio in row["bands"]],
                **{name: row[name] for name in self._RATES if row[name] is not None},
            }
            scheme = CommissionScheme.objects.filter(
                broker_id=broker_id, valid_from=row["valid_from"]
            ).first()
            if scheme is None:
                CommissionScheme.objects.create(broker_id=broker_id, valid_from=row["valid_from"],
                                                **values)
                counts.created += 1
            elif any(_differs(getattr(scheme, k), val) for k, val in values.items()):
                for name, value in values.items():
                    setattr(scheme, name, value)
                scheme.save()
                counts.updated += 1
            else:
                counts.unchanged += 1
        return counts


def _differs(stored, new) -> bool:
    if isinstance(new, Decimal):
        return Decimal(stored) != new
    if isinstance(new, list):
        return commissions.parse_bands(stored) != commissions.parse_bands(new)
    return stored != new
