"""Segment rules, runs and the per-client snapshots they produce."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from brokercrm.money import money_field_kwargs


class FundTier(models.TextChoices):
    LARGE = "large", _("Large 大型客户")
    MEDIUM = "medium", _("Medium 中型客户")
    SMALL = "small", _("Small 小型客户")
    RETAIL = "retail", _("Retail 散户")


class ActivityClass(models.TextChoices):
    DORMANT = "dormant", _("Dormant 休眠类")
    DAY_TRADER = "day_trader", _("Day trader 活跃类（炒单）")
    KEY_SERVICE = "key_service", _("Key service 重点服务类")
    ORDINARY = "ordinary", _("Ordinary 普通类")


class ValueClass(models.TextChoices):
    VIP = "vip", _("VIP 重点服务客户")
    SCALPER = "scalper", _("Scalper 炒单客户")
    KEY = "key", _("Key 关键客户")
    SMALL = "small", _("Small 小散户")


class Tenure(models.TextChoices):
    NEW = "new", _("New 新客户")
    ESTABLISHED = "established", _("Established 老客户")


class Purpose(models.TextChoices):
    HEDGER = "hedger", _("Hedger 套保")
    ARBITRAGEUR = "arbitrageur", _("Arbitrageur 套利")
    SPECULATOR = "speculator", _("Speculator 投机")


class QuantClass(models.TextChoices):
    A = "A", _("A")
    B = "B", _("B")
    C = "C", _("C")


class SegmentRuleSet(models.Model):
    """Thresholds and bands, effective from a date: a run uses the latest set whose
    `valid_from` is on or before its as-of day. Keys missing from `params` take
    the defaults of `segmentation.compute.Rules`."""

    name = models.CharField(_("name"), max_length=100)
    valid_from = models.DateField(_("valid from"), unique=True)
    # e.g. {"tier_bands": [{"code": "large", "min": 5000000}, …], "dormant_days": 20, …}
    params = models.JSONField(_("parameters"), default=dict)
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-valid_from"]
        verbose_name = _("segment rule set")
        verbose_name_plural = _("segment rule sets")

    def __str__(self) -> str:
        return f"{self.name} ({self.valid_from})"


class RfmLabel(models.Model):
    """The editable RFM label table: the first row (by position) whose score ranges
    hold a client's R, F and M names it."""

    position = models.PositiveSmallIntegerField(_("position"), unique=True)
    code = models.SlugField(_("code"), max_length=30)
    name_en = models.CharField(_("name (English)"), max_length=60)
    name_zh = models.CharField(_("name (Chinese)"), max_length=60)
    r_min = models.PositiveSmallIntegerField(default=1)
    r_max = models.PositiveSmallIntegerField(default=5)
    f_min = models.PositiveSmallIntegerField(default=1)
    f_max = models.PositiveSmallIntegerField(default=5)
    m_min = models.PositiveSmallIntegerField(default=1)
    m_max = models.PositiveSmallIntegerField(default=5)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position"]
        verbose_name = _("RFM label")
        verbose_name_plural = _("RFM labels")

    def __str__(self) -> str:
        return f"{self.position}. {self.code}"


class RunState(models.TextChoices):
    STARTED = "started", _("Started")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class SegmentRun(models.Model):
    """One recompute as of a trading day (the fill-state row of the computation)."""

    as_of = models.DateField(_("as of"), db_index=True)
    state = models.CharField(
        _("state"), max_length=10, choices=RunState.choices, default=RunState.STARTED
    )
    is_current = models.BooleanField(_("current"), default=False)
    trigger = models.CharField(_("trigger"), max_length=20, default="command")
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    started_at = models.DateTimeField(_("started"), auto_now_add=True)
    heartbeat_at = models.DateTimeField(_("heartbeat"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    duration_seconds = models.FloatField(_("duration (s)"), null=True, blank=True)
    # The trading days the run uses (latest last), fixed when it starts.
    calendar = models.JSONField(default=list, blank=True)
    shard_count = models.PositiveIntegerField(default=0)
    shards_done = models.PositiveIntegerField(default=0)
    clients = models.PositiveIntegerField(_("clients"), default=0)
    # {"fund_tier": {"large": 3, …}, "activity_class": {…}, "value_class": {…}}
    counts = models.JSONField(_("counts"), default=dict, blank=True)
    # {"ruleset": {"id", "name", "valid_from", "updated_at"}, "rfm_labels": {...}}
    rule_versions = models.JSONField(_("rule versions"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        ordering = ["-as_of", "-id"]
        verbose_name = _("segment run")
        verbose_name_plural = _("segment runs")
        constraints = [
            # The lock: at most one started run per as-of day…
            models.UniqueConstraint(
                fields=["as_of"], condition=Q(state="started"), name="uniq_started_run_per_day"
            ),
            # …and one current run per as-of day.
            models.UniqueConstraint(
                fields=["as_of"], condition=Q(is_current=True), name="uniq_current_run_per_day"
            ),
        ]

    def __str__(self) -> str:
        return f"run #{self.pk} {self.as_of} {self.state}"


class ShardState(models.TextChoices):
    PENDING = "pending", _("Pending")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")


class SegmentShard(models.Model):
    """A slice of clients (by id range) computed by one Celery task."""

    run = models.ForeignKey(SegmentRun, on_delete=models.CASCADE, related_name="shards")
    index = models.PositiveIntegerField()
    client_id_min = models.BigIntegerField()
    client_id_max = models.BigIntegerField()
    state = models.CharField(max_length=10, choices=ShardState.choices, default=ShardState.PENDING)
    worker = models.CharField(max_length=200, blank=True)
    pid = models.IntegerField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    clients = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run", "index"]
        constraints = [
            models.UniqueConstraint(fields=["run", "index"], name="uniq_shard_per_run")
        ]

    def __str__(self) -> str:
        return f"run #{self.run_id} shard {self.index}"


class ClientSegment(models.Model):
    """One client's segments and metrics as computed by one run."""

    run = models.ForeignKey(SegmentRun, on_delete=models.CASCADE, related_name="segments")
    client = models.ForeignKey(
        "clients.Client", on_delete=models.CASCADE, related_name="segments",
        verbose_name=_("client"),
    )
    as_of = models.DateField(_("as of"))
    avg_equity = models.DecimalField(_("average equity"), **money_field_kwargs())
    fund_tier = models.CharField(_("fund tier"), max_length=10, choices=FundTier.choices)
    activity_class = models.CharField(
        _("activity class"), max_length=12, choices=ActivityClass.choices
    )
    value_class = models.CharField(_("value class"), max_length=10, choices=ValueClass.choices)
    avg_equity_behaviour = models.DecimalField(
        _("average equity (behaviour window)"), **money_field_kwargs()
    )
    net_fee_window = models.DecimalField(_("net retained fee (window)"), **money_field_kwargs())
    annual_net_fee = models.DecimalField(_("annual net fee"), **money_field_kwargs())
    active_days = models.PositiveIntegerField(_("active days"), default=0)
    trades = models.PositiveIntegerField(default=0)
    lots = models.PositiveBigIntegerField(_("lots"), default=0)
    overnight_active_days = models.PositiveIntegerField(default=0)
    last_trade_day = models.DateField(_("last trade day"), null=True, blank=True)
    traded_rfm_window = models.BooleanField(default=False)
    recency_days = models.PositiveIntegerField(null=True, blank=True)
    rfm_r = models.PositiveSmallIntegerField("R", null=True, blank=True)
    rfm_f = models.PositiveSmallIntegerField("F", null=True, blank=True)
    rfm_m = models.PositiveSmallIntegerField("M", null=True, blank=True)
    rfm_label = models.CharField(_("RFM label"), max_length=30, blank=True)
    churn = models.FloatField(null=True, blank=True)
    clv = models.DecimalField(_("CLV"), null=True, blank=True, **money_field_kwargs(max_digits=20))
    tenure = models.CharField(_("tenure"), max_length=12, choices=Tenure.choices)
    purpose = models.CharField(_("purpose"), max_length=12, choices=Purpose.choices, blank=True)
    loyal = models.BooleanField(_("loyal hidden value"), default=False)
    closed = models.BooleanField(default=False)
    tier_then = models.CharField(max_length=10, blank=True)
    max_risk_degree = models.FloatField(_("max risk degree"), default=0)
    avg_overnight_risk_degree = models.FloatField(_("average overnight risk degree"), default=0)
    capital_utilisation = models.FloatField(_("capital utilisation"), default=0)
    margin_call_days = models.PositiveIntegerField(_("margin-call days"), default=0)
    forced_liquidations = models.PositiveIntegerField(_("forced liquidations"), default=0)
    var95 = models.DecimalField(_("VaR 95%"), **money_field_kwargs())
    pnl_volatility = models.DecimalField(_("P&L volatility"), **money_field_kwargs())
    pnl_sum = models.DecimalField(_("P&L"), **money_field_kwargs())
    return_rate = models.FloatField(_("return"), default=0)
    share_volume = models.FloatField(_("share of firm volume"), default=0)
    share_equity = models.FloatField(_("share of firm equity"), default=0)
    share_net_fee = models.FloatField(_("share of firm net fee"), default=0)
    quant_score = models.FloatField(_("quantitative score"), null=True, blank=True)
    quant_class = models.CharField(
        _("quantitative class"), max_length=1, choices=QuantClass.choices, blank=True
    )
    drivers = models.JSONField(_("score drivers"), default=list, blank=True)

    class Meta:
        ordering = ["-as_of", "client"]
        verbose_name = _("client segment")
        verbose_name_plural = _("client segments")
        constraints = [
            models.UniqueConstraint(fields=["run", "client"], name="uniq_segment_run_client")
        ]
        indexes = [models.Index(fields=["client", "as_of"])]

    def __str__(self) -> str:
        return f"{self.client_id} {self.as_of} {self.fund_tier}/{self.activity_class}"
