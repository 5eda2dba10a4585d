"""Suitability records: rule sets, investor categories and conversions, questionnaires,
assessments, the product catalog, mismatch cases and their transitions, return visits.

Everything a decision rests on is append-only (the rules keep it for 20 years):
`delete()` raises, querysets refuse `delete()`, admin and API offer no delete.
Corrections are new rows pointing at the row they correct (`supersedes`).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from . import rules

# --- append-only plumbing -------------------------------------------------------


class AppendOnlyQuerySet(models.QuerySet):
    def delete(self):
        raise PermissionDenied(f"{self.model.__name__} records are append-only")

    delete.queryset_only = True  # keeps it off the manager


class AppendOnlyModel(models.Model):
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def delete(self, *args, **kwargs):
        raise PermissionDenied(f"{type(self).__name__} records are append-only")


LEVEL_CHOICES = [(n, f"C{n} {rules.LEVEL_NAMES_ZH[n]}") for n in range(1, 6)]
RISK_CHOICES = [(n, f"R{n} {rules.RISK_NAMES_ZH[n]}") for n in range(1, 6)]


class Audience(models.TextChoices):
    PERSON = "person", _("Natural persons")
    INSTITUTION = "institution", _("Institutions and products")


class Horizon(models.TextChoices):
    SHORT = "short", _("Short (< 1 year)")
    MEDIUM = "medium", _("Medium (1–3 years)")
    LONG = "long", _("Long (> 3 years)")


# --- rule sets --------------------------------------------------------------------


def default_bands() -> list:
    return [list(band) for band in rules.DEFAULT_BANDS]


def default_conversion_thresholds() -> dict:
    return rules.default_conversion_thresholds()


class RuleSet(models.Model):
    """One effective-dated version of the suitability thresholds and its source."""

    version = models.CharField(_("version"), max_length=30, unique=True)
    source = models.CharField(_("source"), max_length=300)
    effective_from = models.DateField(_("effective from"))
    validity_months = models.PositiveSmallIntegerField(_("assessment validity (months)"), default=24)
    expiry_notice_days = models.PositiveSmallIntegerField(
        _("re-assessment task before expiry (days)"), default=30
    )
    return_visit_business_days = models.PositiveSmallIntegerField(
        _("return visit within (business days)"), default=5
    )
    # Product levels (1..5) whose sale to an ordinary investor on warning needs a return visit.
    return_visit_levels = models.JSONField(_("return-visit risk levels"), default=rules.default_return_visit_levels)
    # Lowering re-assessments look at trades this many days back ("products they hold or trade").
    recent_trade_days = models.PositiveSmallIntegerField(_("recent trades window (days)"), default=90)
    conversion_thresholds = models.JSONField(
        _("professional thresholds"), default=default_conversion_thresholds
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-effective_from", "-id"]
        verbose_name = _("rule set")
        verbose_name_plural = _("rule sets")

    def __str__(self) -> str:
        return f"{self.version} ({self.effective_from})"

    def delete(self, *args, **kwargs):
        raise PermissionDenied("rule sets are kept: decisions refer to them")

    @classmethod
    def current(cls, on: dt.date | None = None) -> RuleSet:
        from django.utils import timezone

        on = on or timezone.localdate()
        found = cls.objects.filter(effective_from__lte=on).order_by("-effective_from", "-id").first()
        if found is None:  # before the first version: the earliest one still applies
            found = cls.objects.order_by("effective_from", "id").first()
        if found is None:
            found = cls.objects.create(
                version="default", source="CSRC 《证券期货投资者适当性管理办法》 (2017)",
                effective_from=dt.date(2017, 7, 1),
            )
        return found


# --- investor categories and conversions ----------------------------------------


class Category(models.TextChoices):
    ORDINARY = "ordinary", _("Ordinary investor 普通投资者")
    PROFESSIONAL = "professional", _("Professional investor 专业投资者")


class ProfessionalClass(models.TextChoices):
    NONE = "", _("—")
    A = "A", _("A: financial institutions and their products")
    B = "B", _("B: qualifying institutions and persons")
    C = "C", _("C: converted on application")


class LegalBasis(models.TextChoices):
    ART8_A = "art8_a", _("Art. 8 (1)–(3): licensed institution / product / fund")
    ART8_B_INSTITUTION = "art8_b_institution", _("Art. 8 (4): institution meeting the thresholds")
    ART8_B_PERSON = "art8_b_person", _("Art. 8 (5): natural person meeting the thresholds")
    ART11_CONVERSION = "art11_conversion", _("Art. 11: ordinary converted to professional")
    OPT_DOWN = "opt_down", _("Written notice: professional B opts down to ordinary")
    DEFAULT_ORDINARY = "default_ordinary", _("Ordinary investor (default)")
    MIGRATED = "migrated", _("Migrated from the back office")


class InvestorCategoryRecord(AppendOnlyModel):
    """A classification decision: the client's category from `effective_from` on."""

    client = models.ForeignKey(
        "clients.Client", on_delete=models.PROTECT, related_name="category_records",
        verbose_name=_("client"),
    )
    category = models.CharField(_("category"), max_length=12, choices=Category.choices)
    professional_class = models.CharField(
        _("professional class"), max_length=1, choices=ProfessionalClass.choices, blank=True
    )
    legal_basis = models.CharField(_("legal basis"), max_length=24, choices=LegalBasis.choices)
    evidence = models.CharField(_("evidence reference"), max_length=300, blank=True)
    effective_from = models.DateField(_("effective from"))
    note = models.TextField(_("note"), blank=True)
    conversion = models.ForeignKey(
        "Conversion", on_delete=models.PROTECT, null=True, blank=True, related_name="records"
    )
    supersedes = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="superseded_by"
    )
    rule_set = models.ForeignKey(RuleSet, on_delete=models.PROTECT, related_name="+")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["client", "-effective_from", "-id"]
        verbose_name = _("investor category record")
        verbose_name_plural = _("investor category records")
        indexes = [models.Index(fields=["client", "effective_from"])]

    def __str__(self) -> str:
        cls = f" {self.professional_class}" if self.professional_class else ""
        return f"{self.client_id} {self.get_category_display()}{cls} ({self.effective_from})"

    def clean(self) -> None:
        # Forms (the admin's included) answer with a field error, not a database error.
        from django.core.exceptions import ValidationError

        if self.category == Category.PROFESSIONAL and not self.professional_class:
            raise ValidationError(
                {"professional_class": _("A professional investor needs a class (A, B or C).")})
        if self.category == Category.ORDINARY and self.professional_class:
            raise ValidationError(
                {"professional_class": _("An ordinary investor has no professional class.")})


class ConversionDirection(models.TextChoices):
    TO_PROFESSIONAL = "to_professional", _("Ordinary → professional (C)")
    TO_ORDINARY = "to_ordinary", _("Professional B → ordinary")


class ConversionState(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted, awaiting compliance")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")
    EFFECTIVE = "effective", _("Effective at once")


class ApplicantType(models.TextChoices):
    PERSON = "person", _("Natural person")
    INSTITUTION = "institution", _("Institution")


class Conversion(AppendOnlyModel):
    """An application to change category, its evidence, the automatic threshold
    check and the compliance decision. The decision fields are written once."""

    client = models.ForeignKey(
        "clients.Client", on_delete=models.PROTECT, related_name="conversions",
        verbose_name=_("client"),
    )
    direction = models.CharField(_("direction"), max_length=16, choices=ConversionDirection.choices)
    applicant_type = models.CharField(
        _("applicant type"), max_length=12, choices=ApplicantType.choices, default=ApplicantType.PERSON
    )
    net_assets = models.DecimalField(_("net assets"), max_digits=18, decimal_places=2, null=True, blank=True)
    financial_assets = models.DecimalField(
        _("financial assets"), max_digits=18, decimal_places=2, null=True, blank=True
    )
    average_income = models.DecimalField(
        _("3-year average annual income"), max_digits=18, decimal_places=2, null=True, blank=True
    )
    experience_years = models.DecimalField(
        _("investment experience (years)"), max_digits=5, decimal_places=1, default=0
    )
    work_years = models.DecimalField(
        _("relevant work (years)"), max_digits=5, decimal_places=1, default=0
    )
    evidence = models.CharField(_("evidence reference"), max_length=300, blank=True)
    protections_explained = models.BooleanField(
        _("loss of protections explained in writing"), default=False
    )
    check_passed = models.BooleanField(_("thresholds met"), default=False)
    check_result = models.JSONField(_("threshold check"), default=dict)
    state = models.CharField(_("state"), max_length=12, choices=ConversionState.choices)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    submitted_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(_("reason"), blank=True)
    rule_set = models.ForeignKey(RuleSet, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-submitted_at", "-id"]
        verbose_name = _("category conversion")
        verbose_name_plural = _("category conversions")

    def __str__(self) -> str:
        return f"{self.client_id} {self.get_direction_display()} · {self.get_state_display()}"


# --- questionnaires and assessments ----------------------------------------------


class QuestionnaireVersion(models.Model):
    """Questions, options with points, bands and veto options, as data.

    questions: [{"id", "text_en", "text_zh", "multi": bool, "max_points": int|None,
                 "dimension": "horizon"|"product_kinds"|None,
                 "options": [{"value", "text_en", "text_zh", "points", "veto": bool,
                              "maps_to": str|None}]}]
    """

    code = models.CharField(_("code"), max_length=30, unique=True)
    audience = models.CharField(_("for"), max_length=12, choices=Audience.choices)
    title = models.CharField(_("title"), max_length=200)
    questions = models.JSONField(_("questions"))
    bands = models.JSONField(_("score bands"), default=default_bands)
    effective_from = models.DateField(_("effective from"))
    effective_to = models.DateField(_("effective to"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["audience", "-effective_from"]
        verbose_name = _("questionnaire version")
        verbose_name_plural = _("questionnaire versions")

    def __str__(self) -> str:
        return f"{self.code} {self.title}"

    def delete(self, *args, **kwargs):
        raise PermissionDenied("questionnaire versions are kept: assessments refer to them")

    @classmethod
    def current(cls, audience: str, on: dt.date | None = None) -> QuestionnaireVersion | None:
        from django.utils import timezone

        on = on or timezone.localdate()
        return (
            cls.objects.filter(audience=audience, effective_from__lte=on)
            .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=on))
            .order_by("-effective_from", "-id")
            .first()
        )

    def as_spec(self) -> rules.Questionnaire:
        return rules.Questionnaire.from_json(self.questions, self.bands)


class Assessment(AppendOnlyModel):
    """A risk-tolerance assessment (评估): questionnaire result or migrated result."""

    client = models.ForeignKey(
        "clients.Client", on_delete=models.PROTECT, related_name="assessments",
        verbose_name=_("client"),
    )
    questionnaire = models.ForeignKey(
        QuestionnaireVersion, on_delete=models.PROTECT, null=True, blank=True,
        related_name="assessments", verbose_name=_("questionnaire version"),
    )
    questionnaire_label = models.CharField(_("questionnaire (label)"), max_length=100, blank=True)
    rule_set = models.ForeignKey(RuleSet, on_delete=models.PROTECT, related_name="+")
    answers = models.JSONField(_("answers"), default=dict, blank=True)
    score = models.PositiveSmallIntegerField(_("score"), null=True, blank=True)
    # None for professional investors migrated without a level.
    level = models.PositiveSmallIntegerField(_("level"), choices=LEVEL_CHOICES, null=True, blank=True)
    lowest = models.BooleanField(_("lowest category"), default=False)
    lowest_reason = models.CharField(_("lowest category reason"), max_length=500, blank=True)
    horizon = models.CharField(_("investment horizon"), max_length=8, choices=Horizon.choices, blank=True)
    product_kinds = models.JSONField(_("intended product kinds"), default=list, blank=True)
    # Migrated rows carry the back office's category too.
    investor_category = models.CharField(
        _("category"), max_length=12, choices=Category.choices, default=Category.ORDINARY
    )
    professional_class = models.CharField(
        _("professional class"), max_length=1, choices=ProfessionalClass.choices, blank=True
    )
    assessed_on = models.DateField(_("assessed on"))
    expires_on = models.DateField(_("expires on"))
    client_signed_on = models.DateField(_("client signed on"), null=True, blank=True)
    esign_ref = models.CharField(_("e-signature reference"), max_length=100, blank=True)
    migrated = models.BooleanField(_("migrated"), default=False)
    batch = models.ForeignKey(
        "clients.ImportBatch", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    line = models.PositiveIntegerField(null=True, blank=True)
    supersedes = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="superseded_by",
        verbose_name=_("corrects"),
    )
    note = models.TextField(_("note"), blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+", verbose_name=_("entered by"),
    )
    entered_at = models.DateTimeField(_("entered at"), auto_now_add=True)

    class Meta:
        ordering = ["client", "-assessed_on", "-id"]
        verbose_name = _("assessment")
        verbose_name_plural = _("assessments")
        indexes = [
            models.Index(fields=["client", "assessed_on"]),
            models.Index(fields=["expires_on"]),
        ]

    def __str__(self) -> str:
        return f"{self.client_id} {self.level_label} {self.assessed_on}"

    def get_absolute_url(self) -> str:
        return reverse("suitability:assessment", args=[self.pk])

    @property
    def level_label(self) -> str:
        return rules.level_label(self.level, lowest=self.lowest)

    def is_valid_on(self, day: dt.date) -> bool:
        return self.assessed_on <= day < self.expires_on


# --- product catalog ------------------------------------------------------------------


class ProductKind(models.TextChoices):
    COMMODITY_FUTURES = "commodity_futures", _("Commodity futures brokerage")
    FINANCIAL_FUTURES = "financial_futures", _("Financial futures")
    CRUDE_FUTURES = "crude_futures", _("Crude oil futures")
    OPTIONS = "options", _("Options")
    AM_PRODUCT = "am_product", _("Asset-management product")
    ADVISORY = "advisory", _("Advisory service")
    OTC_BOUNDED = "otc_bounded", _("OTC derivative, bounded loss")
    OTC_UNBOUNDED = "otc_unbounded", _("OTC derivative, unbounded loss")


class ProductCatalogEntry(models.Model):
    """A product or service the firm rates R1–R5 (产品或服务风险等级)."""

    code = models.CharField(_("code"), max_length=30, unique=True)
    name_zh = models.CharField(_("name (Chinese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=150)
    kind = models.CharField(_("kind"), max_length=20, choices=ProductKind.choices)
    # ["INE:sc", "CFFEX:IF", …]; the commodity / financial entries also take any
    # reference-table product of their kind; the options entry takes every option.
    covers = models.JSONField(_("covered exchange:product codes"), default=list, blank=True)
    is_default_for_kind = models.BooleanField(
        _("default entry of its kind"), default=False,
        help_text=_("Reference-table products and options not listed elsewhere resolve here."),
    )
    risk_level = models.PositiveSmallIntegerField(_("risk level"), choices=RISK_CHOICES)
    horizon = models.CharField(
        _("investment term"), max_length=8, choices=Horizon.choices, default=Horizon.SHORT
    )
    rated_on = models.DateField(_("rated on"))
    rationale = models.TextField(_("rationale"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["risk_level", "code"]
        verbose_name = _("catalog product")
        verbose_name_plural = _("product catalog")

    def __str__(self) -> str:
        return f"{self.code} R{self.risk_level} {self.name_zh}"

    def delete(self, *args, **kwargs):
        raise PermissionDenied("catalog entries are kept: deactivate instead")

    @property
    def risk_label(self) -> str:
        return rules.risk_label(self.risk_level)


# --- mismatch cases ----------------------------------------------------------------------


class CaseSource(models.TextChoices):
    PRESALE = "presale", _("Pre-sale check")
    TRADE = "trade", _("Imported trades")
    REASSESSMENT = "reassessment", _("Re-assessment lowered the level")


class CaseAction(models.TextChoices):
    """The steps of a case's timeline: its opening, then the workflow steps of rules.STEPS."""

    OPEN = "open", _("Case opened")
    GIVE_NOTICE = "give_notice", _("Client told the product is unsuitable")
    SIGN_WARNING = "sign_warning", _("Special risk warning signed")
    SUBMIT_FOR_REVIEW = "submit_for_review", _("Submitted for compliance review")
    WITHDRAW = "withdraw", _("Client withdrew")
    ACCEPT = "accept", _("Accepted by compliance")
    REJECT = "reject", _("Rejected by compliance")
    RESOLVE_BY_REASSESSMENT = "resolve_by_reassessment", _("Resolved by re-assessment")


class CaseState(models.TextChoices):
    OPEN = "open", _("Open")
    NOTICE_GIVEN = "notice_given", _("Notice given")
    WARNING_SIGNED = "warning_signed", _("Warning signed")
    UNDER_REVIEW = "under_review", _("Under compliance review")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    RESOLVED_BY_REASSESSMENT = "resolved_by_reassessment", _("Resolved by re-assessment")


class MismatchCase(AppendOnlyModel):
    """A sale or trade above the client's level: its workflow to a compliance decision.

    The state moves only through `services.case_transition`, which records a
    CaseTransition for every step; the snapshot fields are written at opening."""

    # No database constraint on the references of a case (the client's keeps its index):
    # detection inserts cases by the ten thousand, a per-row constraint check would lock
    # each client row, and nothing here is ever deleted (PROTECT and append-only in Django).
    client = models.ForeignKey(
        "clients.Client", on_delete=models.PROTECT, related_name="mismatch_cases",
        verbose_name=_("client"), db_constraint=False,
    )
    account = models.ForeignKey(
        "clients.Account", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("account"), db_index=False, db_constraint=False,
    )
    catalog_entry = models.ForeignKey(
        ProductCatalogEntry, on_delete=models.PROTECT, null=True, blank=True,
        related_name="cases", verbose_name=_("catalog product"), db_index=False, db_constraint=False,
    )
    # What the case is about: "SHFE:rb", "DCE:i:options", or a catalog code.
    product_key = models.CharField(_("product"), max_length=40)
    product_flagged = models.BooleanField(_("unrated product"), default=False)
    source = models.CharField(_("source"), max_length=14, choices=CaseSource.choices)
    result = models.CharField(_("check result"), max_length=12, choices=rules.RESULT_CHOICES)
    state = models.CharField(_("state"), max_length=26, choices=CaseState.choices)
    client_level = models.CharField(_("client level at opening"), max_length=40)
    client_lowest = models.BooleanField(_("lowest category at opening"), default=False)
    product_level = models.PositiveSmallIntegerField(_("product level at opening"), choices=RISK_CHOICES)
    warnings = models.JSONField(_("warnings"), default=list, blank=True)
    assessment = models.ForeignKey(
        Assessment, on_delete=models.PROTECT, null=True, blank=True, related_name="cases",
        db_index=False, db_constraint=False,
    )
    rule_set = models.ForeignKey(
        RuleSet, on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    first_trading_day = models.DateField(_("first trading day"), null=True, blank=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("opened by"), db_index=False, db_constraint=False,
    )
    opened_at = models.DateTimeField(_("opened at"), auto_now_add=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        verbose_name = _("mismatch case")
        verbose_name_plural = _("mismatch cases")
        constraints = [
            # One open case per client × product.
            models.UniqueConstraint(
                fields=["client", "product_key"],
                condition=Q(state__in=["open", "notice_given", "warning_signed", "under_review"]),
                name="uniq_open_case_client_product",
            )
        ]
        # Open cases are found through the one-open-case index above (its condition is
        # the queue's filter); this one holds only the closed, so that detection's
        # thousands of new open cases a night write one index fewer.
        indexes = [
            models.Index(
                fields=["state", "opened_at"], condition=~Q(state__in=rules.OPEN_STATES),
                name="suit_case_closed_state_idx",
            )
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.client_id} {self.product_key} · {self.get_state_display()}"

    def get_absolute_url(self) -> str:
        return reverse("suitability:case", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.state in rules.OPEN_STATES

    @property
    def product_level_label(self) -> str:
        return rules.risk_label(self.product_level)


class CaseTradeDay(AppendOnlyModel):
    """The trades attached to a case, one row per import batch × account × trading day ×
    product. Every trade of such a group is above the client's level (the level is fixed
    for the account on the day, the product's for the product), so the group names its
    trades exactly (`selectors.case_trades`) while detection writes one row where it
    would write one per trade. No database FK constraints: per-row constraint checks would
    lock every referenced row at night, and neither side is ever deleted (PROTECT)."""

    case = models.ForeignKey(
        MismatchCase, on_delete=models.PROTECT, related_name="trade_days", db_constraint=False,
        verbose_name=_("case"),
    )
    batch = models.ForeignKey(
        "clients.ImportBatch", on_delete=models.PROTECT, related_name="+", db_constraint=False,
        db_index=False, verbose_name=_("import batch"),
    )
    account = models.ForeignKey(
        "clients.Account", on_delete=models.PROTECT, related_name="+", db_constraint=False,
        db_index=False, verbose_name=_("account"),
    )
    trading_day = models.DateField(_("trading day"))
    exchange = models.CharField(_("exchange"), max_length=6)
    product_code = models.CharField(_("product code"), max_length=10)
    is_option = models.BooleanField(_("option"), default=False)
    trades = models.PositiveIntegerField(_("trades"))
    lots = models.PositiveIntegerField(_("lots"))

    class Meta:
        ordering = ["case", "trading_day", "id"]
        verbose_name = _("case trading day")
        verbose_name_plural = _("case trading days")

    def __str__(self) -> str:
        return f"#{self.case_id} {self.trading_day} {self.exchange}:{self.product_code} ×{self.trades}"


class CaseTransition(AppendOnlyModel):
    case = models.ForeignKey(MismatchCase, on_delete=models.PROTECT, related_name="transitions")
    action = models.CharField(_("action"), max_length=30, choices=CaseAction.choices)
    from_state = models.CharField(_("from"), max_length=26, choices=CaseState.choices, blank=True)
    to_state = models.CharField(_("to"), max_length=26, choices=CaseState.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("by"),
    )
    at = models.DateTimeField(_("at"), auto_now_add=True)
    note = models.TextField(_("note"), blank=True)
    evidence = models.CharField(_("evidence reference"), max_length=300, blank=True)
    signed_on = models.DateField(_("signed on"), null=True, blank=True)

    class Meta:
        ordering = ["case", "at", "id"]
        verbose_name = _("case transition")
        verbose_name_plural = _("case transitions")

    def __str__(self) -> str:
        states = dict(CaseState.choices)
        return f"#{self.case_id} {states.get(self.from_state, '∅')} → {states.get(self.to_state, self.to_state)}"


class ReturnVisitOutcome(models.TextChoices):
    CONFIRMED = "confirmed", _("Reached: client confirms understanding of the risk")
    CONCERNS = "concerns", _("Reached: client raised concerns")
    NOT_REACHED = "not_reached", _("Not reached")


class ReturnVisit(AppendOnlyModel):
    """回访: the outcome of a return-visit task raised by an accepted high-risk case."""

    case = models.ForeignKey(MismatchCase, on_delete=models.PROTECT, related_name="return_visits")
    task = models.ForeignKey("clients.Task", on_delete=models.PROTECT, related_name="+")
    outcome = models.CharField(_("outcome"), max_length=12, choices=ReturnVisitOutcome.choices)
    note = models.TextField(_("note"), blank=True)
    visited_on = models.DateField(_("visited on"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-recorded_at"]
        verbose_name = _("return visit")
        verbose_name_plural = _("return visits")


class ProcessedTradeBatch(models.Model):
    """Trade batches the mismatch detection has seen (its idempotency record)."""

    batch = models.OneToOneField("clients.ImportBatch", on_delete=models.PROTECT, related_name="+")
    trades = models.PositiveIntegerField(default=0)
    mismatched_trades = models.PositiveIntegerField(default=0)
    processed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("processed trade batch")
        verbose_name_plural = _("processed trade batches")
