"""Reads: a client's investor state on a day, product resolution, role-filtered lists."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet, Sum
from django.utils.translation import gettext as _

from clients.models import Trade
from clients.selectors import clients_visible_to

from . import rules
from .models import (
    Assessment,
    CaseSource,
    CaseState,
    CaseTradeDay,
    CaseTransition,
    Category,
    Conversion,
    InvestorCategoryRecord,
    LegalBasis,
    MismatchCase,
    ProductCatalogEntry,
)

# --- investor state ---------------------------------------------------------------------


def category_on(client, on: dt.date) -> tuple[str, str, InvestorCategoryRecord | None]:
    """(category, professional class, record) in force on the day; without a record the
    back office's declaration counts (class unknown)."""
    record = (
        InvestorCategoryRecord.objects.filter(client=client, effective_from__lte=on)
        .order_by("-effective_from", "-id")
        .first()
    )
    if record is not None:
        return record.category, record.professional_class, record
    return client.investor_category, "", None


def latest_assessment(client, on: dt.date) -> Assessment | None:
    """The most recent assessment made on or before the day (valid or not)."""
    return (
        Assessment.objects.filter(client=client, assessed_on__lte=on)
        .order_by("-assessed_on", "-id")
        .first()
    )


def valid_assessment(
    client, on: dt.date, category_record: InvestorCategoryRecord | None = None
) -> Assessment | None:
    """The latest assessment if it counts on the day: not expired, with a level, and not
    made before the client's opt-down (`category_record`, the record in force)."""
    found = latest_assessment(client, on)
    if found is None or not found.is_valid_on(on) or found.level is None:
        return None
    if category_record is not None and predates_opt_down(found, category_record):
        return None
    return found


def predates_opt_down(assessment: Assessment, record: InvestorCategoryRecord) -> bool:
    """Spec §1: after a professional opts down, a new questionnaire is required before
    anything above R1 matches, so an assessment from before the opt-down no longer counts."""
    if record.category != Category.ORDINARY or record.legal_basis != LegalBasis.OPT_DOWN:
        return False
    return (assessment.assessed_on, assessment.entered_at) < (record.effective_from, record.decided_at)


# The decisions that settle whether the client may trade a product; a withdrawal or a case
# still open leaves the last of them standing.
SETTLING_STATES = (CaseState.REJECTED, CaseState.ACCEPTED, CaseState.RESOLVED_BY_REASSESSMENT)


def clients_unassessed_by_opt_down(on: dt.date) -> list[int]:
    """Ids of the clients whose latest assessment on the day predates their opt-down in
    force (predates_opt_down): detection counts them unassessed. Opt-downs are rare."""
    void = []
    records = InvestorCategoryRecord.objects.filter(
        category=Category.ORDINARY, legal_basis=LegalBasis.OPT_DOWN, effective_from__lte=on
    ).select_related("client")
    for record in records:
        in_force = category_on(record.client, on)[2]
        assessment = latest_assessment(record.client, on)
        if in_force is not None and in_force.pk == record.pk and assessment is not None \
                and predates_opt_down(assessment, record):
            void.append(record.client_id)
    return sorted(set(void))


def closed_pairs(client=None) -> list[tuple[int, str]]:
    """Every (client id, product key) compliance closed (trading restricted): the latest
    settling decision of the client's cases for the product is a rejection, i.e. a
    rejected case with no later settling one. Of one client when given."""
    later = MismatchCase.objects.filter(
        client_id=OuterRef("client_id"), product_key=OuterRef("product_key"), id__gt=OuterRef("id"),
        state__in=SETTLING_STATES,
    )
    rejected = MismatchCase.objects.filter(state=CaseState.REJECTED)
    if client is not None:
        rejected = rejected.filter(client=client)
    return list(
        rejected.exclude(Exists(later))
        .values_list("client_id", "product_key").distinct().order_by("client_id", "product_key")
    )


def closed_products(client) -> frozenset[str]:
    """Products compliance closed to the client (closed_pairs)."""
    return frozenset(key for _client_id, key in closed_pairs(client))


@dataclass(frozen=True)
class ClientSuitability:
    state: rules.InvestorState
    assessment: Assessment | None
    category_record: InvestorCategoryRecord | None


def investor_state(client, on: dt.date) -> ClientSuitability:
    category, pclass, record = category_on(client, on)
    assessment = valid_assessment(client, on, record)
    state = rules.InvestorState(
        category=category,
        professional_class=pclass,
        level=assessment.level if assessment else None,
        lowest=assessment.lowest if assessment else False,
        horizon=assessment.horizon if assessment else "",
        product_kinds=tuple(assessment.product_kinds) if assessment else (),
        closed_products=closed_products(client),
    )
    return ClientSuitability(state=state, assessment=assessment, category_record=record)


# --- products -----------------------------------------------------------------------------

@dataclass(frozen=True)
class ResolvedProduct:
    product: rules.Product
    entry: ProductCatalogEntry | None
    exchange: str = ""
    code: str = ""
    is_option: bool = False

    @property
    def label(self) -> str:
        if self.entry is not None:
            return f"{self.product.key} · {self.entry.name_zh}"
        return f"{self.product.key} ({_('unrated')})"


class Catalog:
    """The active catalog in memory: resolves (exchange, product code, option?) once per
    distinct product, so set-based detection needs one lookup per product, not per trade."""

    def __init__(self) -> None:
        from clients.models import FuturesProduct

        entries = list(ProductCatalogEntry.objects.filter(is_active=True))
        self.by_code = {e.code.upper(): e for e in entries}
        self.covers: dict[str, ProductCatalogEntry] = {}
        self.default_for: dict[str, ProductCatalogEntry] = {}
        for entry in entries:
            for key in entry.covers or []:
                self.covers.setdefault(key, entry)
            if entry.is_default_for_kind:
                self.default_for.setdefault(entry.kind, entry)
        # product code → exchange, from the covers and the reference table
        self.exchange_of: dict[str, str] = {}
        for key in self.covers:
            exchange, _, code = key.partition(":")
            self.exchange_of.setdefault(code, exchange)
        self.reference = {}
        for exchange, code, is_financial in FuturesProduct.objects.values_list(
            "exchange", "code", "is_financial"
        ):
            self.reference[(exchange, code)] = is_financial
            self.exchange_of.setdefault(code, exchange)

    def _product(self, entry: ProductCatalogEntry, key: str) -> rules.Product:
        return rules.Product(key=key, level=entry.risk_level, kind=entry.kind, horizon=entry.horizon)

    def for_trade(self, exchange: str, code: str, is_option: bool) -> ResolvedProduct:
        exchange = exchange or self.exchange_of.get(code, "")
        futures_key = f"{exchange}:{code}"
        if is_option:
            key = f"{futures_key}:options"
            entry = self.covers.get(key) or self.default_for.get("options")
        else:
            key = futures_key
            entry = self.covers.get(key)
            if entry is None and (exchange, code) in self.reference:
                kind = "financial_futures" if self.reference[(exchange, code)] else "commodity_futures"
                entry = self.default_for.get(kind)
        if entry is None:  # unknown product: flagged, counted R5 until rated
            return ResolvedProduct(
                rules.Product(key=key, level=5, flagged=True), None, exchange, code, is_option
            )
        return ResolvedProduct(self._product(entry, key), entry, exchange, code, is_option)

    def resolve(self, text: str) -> ResolvedProduct:
        """A catalog code (AM-R2), EXCHANGE:code, a product code (rb, sc) or an instrument
        (IF2512, i2607-P-750)."""
        text = text.strip()
        entry = self.by_code.get(text.upper())
        if entry is not None:
            return ResolvedProduct(self._product(entry, entry.code), entry)
        if ":" in text:
            exchange, _, code = text.partition(":")
            is_option = text.endswith(":options")
            return self.for_trade(exchange.upper(), self._code_case(code.split(":")[0]), is_option)
        if text in self.exchange_of:
            return self.for_trade("", text, False)
        from clients.importers.values import split_instrument

        try:
            code, is_option = split_instrument(text)
        except ValueError:
            return self.for_trade("", text, False)
        return self.for_trade("", self._code_case(code), is_option)

    def _code_case(self, code: str) -> str:
        """The code as the exchange writes it: CZCE's are upper case, the others lower."""
        if code in self.exchange_of:
            return code
        return next((c for c in (code.lower(), code.upper()) if c in self.exchange_of), code)

    def is_known(self, resolved: ResolvedProduct) -> bool:
        """Rated in the catalog or listed in the product reference table: a product typed
        into a pre-sale check must be one of these (an unknown one is a typo, while an
        unknown product in imported trades is real and flagged R5)."""
        return resolved.entry is not None or (resolved.exchange, resolved.code) in self.reference


def resolve_product(text: str) -> ResolvedProduct:
    return Catalog().resolve(text)


# --- cases -------------------------------------------------------------------------------------


def case_trades(case: MismatchCase) -> QuerySet[Trade]:
    """The trades attached to the case: those of its trading-day groups."""
    days = CaseTradeDay.objects.filter(case=case)
    group = days.filter(
        batch_id=OuterRef("batch_id"), account_id=OuterRef("account_id"),
        trading_day=OuterRef("trading_day"), exchange=OuterRef("exchange"),
        product_code=OuterRef("product_code"), is_option=OuterRef("is_option"),
    )
    # The accounts and days narrow the scan to the (trading_day, account) index.
    return Trade.objects.filter(
        account_id__in=days.values("account_id"), trading_day__in=days.values("trading_day"),
    ).filter(Exists(group))


def case_trade_count(case: MismatchCase) -> int:
    return CaseTradeDay.objects.filter(case=case).aggregate(n=Sum("trades"))["n"] or 0


def case_timeline(case: MismatchCase) -> list[CaseTransition]:
    """Every step of the case in order, its opening first.

    Detection in imported trades opens cases by the ten thousand and writes no opening
    row for them: the case record already holds all the opening says (the system opened
    it at opened_at, at these levels, from the trades of its first trading day), so the step
    is shown from the record (no query). Cases opened by a person keep their opening row,
    with who."""
    steps = case.transitions.all()
    if "transitions" not in getattr(case, "_prefetched_objects_cache", {}):
        steps = steps.select_related("by")
    steps = list(steps)
    if case.source == CaseSource.TRADE and not any(step.action == "open" for step in steps):
        steps.insert(0, CaseTransition(
            case=case, action="open", from_state="",
            to_state=rules.initial_state(case.result),
            at=case.opened_at,
            evidence=_("trades of %(day)s") % {"day": case.first_trading_day},
        ))
    for step in steps:
        if step.action == "open":
            # what the opening says, from the record, in the reader's language (the stored
            # note of a person's opening was written in the opener's language)
            step.note = opening_note(case)
    return steps


def opening_note(case: MismatchCase) -> str:
    """ "Pre-sale check: C3 vs R4"; the levels say why, but for a product closed to the
    client ("closed")."""
    note = f"{case.get_source_display()}: {case.client_level} vs R{case.product_level}"
    if not closed_when_opened(case):
        return note
    reason = _("closed")
    return f"{note} ({reason})"


def closed_when_opened(case: MismatchCase) -> bool:
    """A case prohibited at a level that is neither unassessed nor the lowest: the product
    was closed to the client by a rejected case (rules.match's reason "closed")."""
    return case.result == rules.PROHIBITED and case.client_level != "unassessed" and not case.client_lowest


# --- visibility -------------------------------------------------------------------------------


def cases_visible_to(user) -> QuerySet[MismatchCase]:
    return MismatchCase.objects.filter(client__in=clients_visible_to(user))


def assessments_visible_to(user) -> QuerySet[Assessment]:
    return Assessment.objects.filter(client__in=clients_visible_to(user))


def conversions_visible_to(user) -> QuerySet[Conversion]:
    return Conversion.objects.filter(client__in=clients_visible_to(user))


def open_cases() -> Q:
    return Q(state__in=rules.OPEN_STATES)
