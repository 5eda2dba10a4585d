"""Introducing brokers (居间人): the register, client links, commission schemes and
monthly statements."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from brokercrm.crypto import EncryptedTextField, id_number_hash, mask_id_number
from brokercrm.money import money_field_kwargs


class BrokerType(models.TextChoices):
    PERSON = "person", _("Natural person 个人")
    INSTITUTION = "institution", _("Institution 机构")


class BrokerStatus(models.TextChoices):
    ACTIVE = "active", _("Active 正常")
    SUSPENDED = "suspended", _("Suspended 暂停")
    TERMINATED = "terminated", _("Terminated 终止")
    EXPIRED = "expired", _("Expired 到期")


class IntroducingBroker(models.Model):
    """居间人: a natural person or an institution introducing clients to the firm."""

    code = models.CharField(_("broker code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=200)
    broker_type = models.CharField(
        _("type"), max_length=12, choices=BrokerType.choices, default=BrokerType.PERSON
    )
    id_number = EncryptedTextField(_("ID number"), blank=True)
    id_number_hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    # Declared on the contract: persons must have full civil capacity (完全民事行为能力).
    full_civil_capacity = models.BooleanField(_("full civil capacity"), default=True)
    qualification_no = models.CharField(_("qualification certificate no."), max_length=40, blank=True)
    registered_on = models.DateField(_("association registration date"), null=True, blank=True)
    training_hours = models.DecimalField(
        _("training hours this year"), max_digits=6, decimal_places=1, default=0
    )
    contract_start = models.DateField(_("contract start"), null=True, blank=True)
    contract_end = models.DateField(_("contract end"), null=True, blank=True)
    # Current status; the effective-dated history in BrokerStatusChange answers "on day d".
    status = models.CharField(
        _("status"), max_length=12, choices=BrokerStatus.choices, default=BrokerStatus.ACTIVE
    )
    bank_name = models.CharField(_("bank"), max_length=100, blank=True)
    bank_account = models.CharField(_("bank account"), max_length=40, blank=True)
    bank_account_name = models.CharField(_("bank account name"), max_length=200, blank=True)
    exclusivity_declared = models.BooleanField(_("exclusivity declared"), default=False)
    exclusivity_declared_on = models.DateField(_("exclusivity declared on"), null=True, blank=True)
    portal_user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="introducing_broker", verbose_name=_("portal user"),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("introducing broker")
        verbose_name_plural = _("introducing brokers")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def save(self, *args, **kwargs):
        self.id_number_hash = id_number_hash(self.id_number)
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("brokers:detail", args=[self.code])

    def clean(self):
        from .services import broker_problems

        problems = broker_problems(self)
        if problems:
            from django.core.exceptions import ValidationError

            raise ValidationError(problems)

    @property
    def id_number_masked(self) -> str:
        return mask_id_number(self.id_number)

    @property
    def is_person(self) -> bool:
        return self.broker_type == BrokerType.PERSON

    def status_today(self) -> str:
        """The status in force today: the `current_status` annotation of
        selectors.with_current_status when present, else read from the status history
        (the stored `status` misses changes dated in the future once their day comes)."""
        annotated = getattr(self, "current_status", None)
        if annotated:
            return annotated
        from django.utils import timezone

        from .services import broker_status_on

        return broker_status_on(broker=self, day=timezone.localdate())

    def get_status_today_display(self) -> str:
        return BrokerStatus(self.status_today()).label


class BrokerStatusChange(models.Model):
    """Effective-dated status: the status holds from effective_from until the next change."""

    broker = models.ForeignKey(
        IntroducingBroker, on_delete=models.CASCADE, related_name="status_changes"
    )
    status = models.CharField(_("status"), max_length=12, choices=BrokerStatus.choices)
    effective_from = models.DateField(_("effective from"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["broker", "effective_from", "id"]
        verbose_name = _("broker status change")
        verbose_name_plural = _("broker status changes")
        constraints = [
            models.UniqueConstraint(
                fields=["broker", "effective_from"], name="uniq_broker_status_from"
            )
        ]

    def __str__(self) -> str:
        return f"{self.broker_id} {self.status} from {self.effective_from}"


class BrokerLink(models.Model):
    """居间关系: account ↔ IB from valid_from to valid_to (inclusive; null = open).

    Links of one account never overlap: checked by services.link_* and, on
    PostgreSQL, by an exclusion constraint (migration 0002).
    """

    account = models.ForeignKey(
        "clients.Account", on_delete=models.PROTECT, related_name="broker_links",
        verbose_name=_("account"),
    )
    broker = models.ForeignKey(
        IntroducingBroker, on_delete=models.PROTECT, related_name="links",
        verbose_name=_("introducing broker"),
    )
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    batch = models.ForeignKey(
        "clients.ImportBatch", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    line = models.PositiveIntegerField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["account", "valid_from"]
        verbose_name = _("broker link")
        verbose_name_plural = _("broker links")
        constraints = [
            models.UniqueConstraint(fields=["account", "valid_from"], name="uniq_link_account_from"),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="link_valid_to_after_from",
            ),
        ]
        indexes = [models.Index(fields=["broker", "valid_from"])]

    def __str__(self) -> str:
        return f"{self.account_id} → {self.broker_id} {self.valid_from}–{self.valid_to or ''}"

    def covers(self, day) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


class SchemeMode(models.TextChoices):
    FLAT = "flat", _("Flat ratio 固定比例")
    TIERED_PROGRESSIVE = "tiered_progressive", _("Tiered, progressive 超额累进")
    TIERED_WHOLE = "tiered_whole", _("Tiered, whole base 全额累进")


def default_bands():
    return [["0", "0.50"]]


class CommissionScheme(models.Model):
    """How an IB's monthly base becomes pay; broker null = the firm-wide default."""

    broker = models.ForeignKey(
        IntroducingBroker, on_delete=models.CASCADE, null=True, blank=True, related_name="schemes",
        verbose_name=_("introducing broker"),
    )
    mode = models.CharField(_("mode"), max_length=20, choices=SchemeMode.choices,
                            default=SchemeMode.FLAT)
    # [[lower bound of the band on the base, ratio], …] as decimal strings, ascending.
    bands = models.JSONField(_("bands"), default=default_bands)
    vat_rate = models.DecimalField(_("VAT and surcharges rate"), max_digits=8, decimal_places=6,
                                   default="0.0672")
    reserve_rate = models.DecimalField(_("risk reserve rate"), max_digits=8, decimal_places=6,
                                       default="0.05")
    protection_rate = models.DecimalField(_("investor protection rate"), max_digits=8,
                                          decimal_places=6, default="0")
    other_deductions = models.DecimalField(_("other fixed deductions"), default=0,
                                           **money_field_kwargs())
    min_payout = models.DecimalField(_("minimum payout"), default=100, **money_field_kwargs())
    valid_from = models.DateField(_("valid from"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["broker", "-valid_from"]
        verbose_name = _("commission scheme")
        verbose_name_plural = _("commission schemes")
        constraints = [
            models.UniqueConstraint(
                fields=["broker", "valid_from"], condition=Q(broker__isnull=False),
                name="uniq_scheme_broker_from",
            ),
            models.UniqueConstraint(
                fields=["valid_from"], condition=Q(broker__isnull=True),
                name="uniq_scheme_default_from",
            ),
        ]

    def __str__(self) -> str:
        who = self.broker.code if self.broker_id else _("default")
        return f"{who} {self.mode} {self.bands_text} from {self.valid_from}"

    @property
    def bands_text(self) -> str:
        return ";".join(f"{lower}:{ratio}" for lower, ratio in self.bands)

    def as_rule(self):
        from .commissions import Scheme

        return Scheme.from_model(self)


class StatementState(models.TextChoices):
    DRAFT = "draft", _("Draft 草稿")
    APPROVED = "approved", _("Approved 已审核")
    PAID = "paid", _("Paid 已支付")


def _money(label, **extra):
    return models.DecimalField(label, default=0, **money_field_kwargs(**extra))


class CommissionStatement(models.Model):
    """One IB's commission for one month (month = its first day)."""

    broker = models.ForeignKey(
        IntroducingBroker, on_delete=models.PROTECT, related_name="statements",
        verbose_name=_("introducing broker"),
    )
    month = models.DateField(_("month"))
    state = models.CharField(_("state"), max_length=10, choices=StatementState.choices,
                             default=StatementState.DRAFT)
    scheme = models.ForeignKey(
        CommissionScheme, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("scheme"),
    )
    is_person = models.BooleanField(default=True)
    gross = _money(_("gross (net retained fees)"))
    vat = _money(_("VAT and surcharges"))
    reserve = _money(_("risk reserve"))
    protection = _money(_("investor protection"))
    other = _money(_("other deductions"))
    carried_in_base = _money(_("negative base brought forward"))
    base = _money(_("base"))
    payout = _money(_("payout"))
    carried_in_payout = _money(_("payout brought forward"))
    tax = _money(_("income tax withheld"))
    net_pay = _money(_("net pay"))
    carried_out_payout = _money(_("payout carried forward"))
    carried_out_base = _money(_("negative base carried forward"))
    prepared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", verbose_name=_("prepared by"),
    )
    prepared_at = models.DateTimeField(_("prepared at"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", verbose_name=_("approved by"),
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    paid_on = models.DateField(_("paid on"), null=True, blank=True)
    bank_ref = models.CharField(_("bank reference"), max_length=60, blank=True)

    class Meta:
        ordering = ["-month", "broker"]
        verbose_name = _("commission statement")
        verbose_name_plural = _("commission statements")
        constraints = [
            models.UniqueConstraint(fields=["broker", "month"], name="uniq_statement_broker_month")
        ]
        indexes = [models.Index(fields=["month", "state"])]

    def __str__(self) -> str:
        return f"{self.broker_id} {self.month:%Y-%m} {self.state}"

    def get_absolute_url(self) -> str:
        return reverse("brokers:statement", args=[self.pk])

    @property
    def deductions(self):
        return self.vat + self.reserve + self.protection + self.other

    @property
    def payout_total(self):
        return self.payout + self.carried_in_payout

    @property
    def is_frozen(self) -> bool:
        return self.state != StatementState.DRAFT


class StatementLine(models.Model):
    """Account × product on a statement; adjustment lines correct an approved month."""

    statement = models.ForeignKey(
        CommissionStatement, on_delete=models.CASCADE, related_name="lines"
    )
    # No database FK: lines are written set-based from trades (whose account FK already
    # holds), and the deferred check of ~10⁶ rows doubled a big month's commit.
    account = models.ForeignKey("clients.Account", on_delete=models.PROTECT, related_name="+",
                                db_constraint=False)
    product_code = models.CharField(_("product"), max_length=10)
    trades = models.PositiveIntegerField(_("trades"), default=0)
    lots = models.BigIntegerField(_("lots"), default=0)
    turnover = _money(_("turnover"), max_digits=22)
    fee = _money(_("fee"))
    exchange_fee = _money(_("exchange fee"))
    net_retained = _money(_("net retained fee"))
    is_adjustment = models.BooleanField(_("adjustment"), default=False)
    # For adjustments: the approved statement (and its line, when there was one) corrected.
    original_statement = models.ForeignKey(
        CommissionStatement, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    original_line = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="adjustments"
    )
    # For adjustments: the month corrected (first day), always set — also for an IB that
    # had no statement that month (then original_statement is null).
    original_month = models.DateField(_("corrected month"), null=True, blank=True)

    class Meta:
        ordering = ["statement", "is_adjustment", "account", "product_code"]
        verbose_name = _("statement line")
        verbose_name_plural = _("statement lines")
        indexes = [
            models.Index(fields=["original_month"], condition=Q(original_month__isnull=False),
                         name="brokers_line_orig_month"),
        ]

    def __str__(self) -> str:
        return f"{self.statement_id} {self.account_id} {self.product_code}"
