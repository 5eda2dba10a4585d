"""The `assessments` import kind (formats spec §5): results migrated from the back office.

Each row becomes a migrated Assessment (no answers); professionals also get an
InvestorCategoryRecord (legal basis: migrated). A second row for the same client and
assessment date is a duplicate and changes nothing.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from clients.importers import values as v
from clients.importers.base import Column, ImportKind, LoadCounts, RowError, register
from clients.models import Account, Client

from . import rules

YES_NO = {"Y": True, "N": False, "是": True, "否": False, "yes": True, "no": False, "1": True,
          "0": False, "true": True, "false": False}


def yes_no(value: str) -> bool:
    found = YES_NO.get(value) if value in YES_NO else YES_NO.get(value.strip().lower())
    if found is None:
        raise ValueError(_("use Y/N or 是/否"))
    return found


def risk_level(value: str) -> int:
    text = value.strip().upper()
    if len(text) == 2 and text[0] == "C" and text[1] in "12345":
        return int(text[1])
    for level, name in rules.LEVEL_NAMES_ZH.items():
        if name in value:
            return level
    raise ValueError(_("use C1–C5 (or 保守型 … 激进型)"))


def professional_class(value: str) -> str:
    text = value.strip().upper()
    if text in ("A", "B", "C"):
        return text
    raise ValueError(_("use A, B or C"))


def score(value: str) -> int:
    number = v.decimal(value)
    if number < 0 or number > 100 or number != number.to_integral_value():
        raise ValueError(_("a whole number from 0 to 100"))
    return int(number)


@register
class AssessmentsKind(ImportKind):
    name = "assessments"
    natural_key = ("client", "assessed_on")
    columns = (
        Column("client_no", ("客户编号",), parse=v.text_id),
        Column("account_id", ("资金账号", "客户号"), parse=v.text_id),
        Column("investor_category", ("投资者类别", "category"), parse=v.investor_category,
               default="ordinary"),
        Column("professional_class", ("专业投资者类别", "class"), parse=professional_class, default=""),
        Column("risk_level", ("风险等级", "风险承受能力等级", "level"), parse=risk_level),
        Column("lowest_category", ("最低类别", "风险承受能力最低类别", "lowest"), parse=yes_no,
               default=False),
        Column("score", ("得分", "分数"), parse=score),
        Column("assessed_on", ("评估日期", "测评日期"), required=True, parse=v.date),
        Column("expires_on", ("有效期至", "到期日"), parse=v.date),
        Column("questionnaire", ("问卷", "问卷版本"), default=""),
    )

    def _clients(self, rows) -> dict[tuple[str, str], int]:
        nos = {r["client_no"] for r in rows if r["client_no"]}
        accounts = {r["account_id"] for r in rows if r["account_id"]}
        found = {("client_no", no): pk for no, pk in Client.objects.filter(client_no__in=nos).values_list("client_no", "pk")}
        found.update({
            ("account_id", acc): pk
            for acc, pk in Account.objects.filter(account_id__in=accounts).values_list("account_id", "client_id")
        })
        return found

    def _client_of(self, row, clients) -> int | None:
        if row["client_no"]:
            return clients.get(("client_no", row["client_no"]))
        return clients.get(("account_id", row["account_id"]))

    def validate(self, rows, *, correction=False):
        errors = []
        clients = self._clients(rows)
        for row in rows:
            if not row["client_no"] and not row["account_id"]:
                errors.append(RowError(row.line, "client_no", "", _("give client_no or account_id")))
            elif self._client_of(row, clients) is None:
                column = "client_no" if row["client_no"] else "account_id"
                errors.append(RowError(row.line, column, row[column],
                                       _("unknown client: load the clients file first")))
            if row["investor_category"] == "professional":
                if not row["professional_class"]:
                    errors.append(RowError(row.line, "professional_class", "",
                                           _("professional investors need class A, B or C")))
            elif row["risk_level"] is None:
                errors.append(RowError(row.line, "risk_level", "", _("ordinary investors need a level C1–C5")))
            elif row["lowest_category"] and row["risk_level"] != 1:
                errors.append(RowError(row.line, "lowest_category", "Y",
                                       _("the lowest category is always C1")))
            if row["expires_on"] and row["expires_on"] <= row["assessed_on"]:
                errors.append(RowError(row.line, "expires_on", str(row["expires_on"]),
                                       _("expires before it was assessed")))
        return errors

    def load(self, batch, rows, *, correction=False):
        from .models import Assessment, Category, LegalBasis, RuleSet
        from .services import category_record_create

        counts = LoadCounts()
        clients = self._clients(rows)
        seen = set(
            Assessment.objects.filter(client_id__in=set(clients.values()))
            .values_list("client_id", "assessed_on")
        )
        client_objs = Client.objects.in_bulk(set(clients.values()))
        for row in rows:
            client_id = self._client_of(row, clients)
            key = (client_id, row["assessed_on"])
            if key in seen:
                counts.unchanged += 1
                continue
            seen.add(key)
            rule_set = RuleSet.current(row["assessed_on"])
            professional = row["investor_category"] == "professional"
            Assessment.objects.create(
                client_id=client_id, questionnaire_label=row["questionnaire"] or "",
                rule_set=rule_set, score=row["score"],
                level=None if professional else row["risk_level"],
                lowest=bool(row["lowest_category"]) and not professional,
                lowest_reason="migrated" if row["lowest_category"] and not professional else "",
                investor_category=row["investor_category"],
                professional_class=row["professional_class"] if professional else "",
                assessed_on=row["assessed_on"],
                expires_on=row["expires_on"] or rules.expires_on(row["assessed_on"], rule_set.validity_months),
                migrated=True, batch=batch, line=row.line,
            )
            if professional:
                category_record_create(
                    client=client_objs[client_id], category=Category.PROFESSIONAL,
                    professional_class=row["professional_class"], legal_basis=LegalBasis.MIGRATED,
                    evidence=f"import batch {batch.pk} line {row.line}",
                    effective_from=row["assessed_on"],
                )
            counts.created += 1
        return counts
