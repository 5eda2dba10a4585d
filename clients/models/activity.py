"""Activity imported nightly from the back office, the product reference table,
and the per-account daily aggregates every later computation reads."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from brokercrm.money import money_field_kwargs

from .core import Account


class ImportKindName(models.TextChoices):
    BRANCHES = "branches", _("Branches")
    CLIENTS = "clients", _("Clients and accounts")
    BROKERS = "brokers", _("Introducing brokers")
    BROKER_LINKS = "broker_links", _("Broker links")
    SCHEMES = "schemes", _("Commission schemes")
    ASSESSMENTS = "assessments", _("Suitability assessments")
    TRADES = "trades", _("Trades")
    SNAPSHOTS = "snapshots", _("Account snapshots")


class ImportStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    RUNNING = "running", _("Running")
    IMPORTED = "imported", _("Imported")
    ALREADY_IMPORTED = "already_imported", _("Already imported")
    REFUSED = "refused", _("Refused")
    FAILED = "failed", _("Failed")


class ImportSource(models.TextChoices):
    UPLOAD = "upload", _("Upload page")
    API = "api", _("API")
    COMMAND = "command", _("Command")
    DROP_FOLDER = "drop_folder", _("Drop folder")


class ImportBatch(models.Model):
    """One file handed to the importer, whatever the door, and its report."""

    kind = models.CharField(_("kind"), max_length=20, choices=ImportKindName.choices)
    file_name = models.CharField(_("file name"), max_length=255)
    sha256 = models.CharField(max_length=64, db_index=True)
    source = models.CharField(
        _("source"), max_length=12, choices=ImportSource.choices, default=ImportSource.COMMAND
    )
    correction = models.BooleanField(_("correction"), default=False)
    status = models.CharField(
        _("status"), max_length=20, choices=ImportStatus.choices, default=ImportStatus.PENDING
    )
    encoding = models.CharField(max_length=20, blank=True)
    rows = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    # {"errors": [{"line", "column", "value", "reason"}], "ignored_columns": [...], "timings": {...}}
    report = models.JSONField(default=dict, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("import batch")
        verbose_name_plural = _("import batches")

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} {self.file_name}"

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class Exchange(models.TextChoices):
    SHFE = "SHFE", _("Shanghai Futures Exchange 上期所")
    INE = "INE", _("Shanghai International Energy Exchange 上期能源")
    DCE = "DCE", _("Dalian Commodity Exchange 大商所")
    CZCE = "CZCE", _("Zhengzhou Commodity Exchange 郑商所")
    CFFEX = "CFFEX", _("China Financial Futures Exchange 中金所")
    GFEX = "GFEX", _("Guangzhou Futures Exchange 广期所")


class FuturesProduct(models.Model):
    """品种 in the product reference table: rb, sc, IF, …"""

    exchange = models.CharField(_("exchange"), max_length=6, choices=Exchange.choices)
    code = models.CharField(_("product code"), max_length=10)
    name_zh = models.CharField(_("name (Chinese)"), max_length=50)
    name_en = models.CharField(_("name (English)"), max_length=100)
    multiplier = models.DecimalField(_("contract multiplier"), max_digits=12, decimal_places=2)
    is_financial = models.BooleanField(_("financial futures"), default=False)
    has_options = models.BooleanField(_("has options"), default=False)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["exchange", "code"]
        constraints = [
            models.UniqueConstraint(fields=["exchange", "code"], name="uniq_product_exchange_code")
        ]
        verbose_name = _("futures product")
        verbose_name_plural = _("futures products")

    def __str__(self) -> str:
        return f"{self.exchange}:{self.code} {self.name_zh}"


class RateBasis(models.TextChoices):
    PER_LOT = "per_lot", _("Yuan per lot")
    PER_TURNOVER = "per_turnover", _("Share of turnover")


class ExchangeFeeRate(models.Model):
    """Exchange fee per product, effective-dated: used when a trade lacks exchange_fee."""

    product = models.ForeignKey(
        FuturesProduct, on_delete=models.CASCADE, related_name="fee_rates",
        verbose_name=_("product"),
    )
    valid_from = models.DateField(_("valid from"))
    basis = models.CharField(_("basis"), max_length=12, choices=RateBasis.choices)
    # Per lot: yuan; per turnover: a fraction (0.0001 = 1‱).
    open_rate = models.DecimalField(_("open"), max_digits=14, decimal_places=8)
    close_rate = models.DecimalField(_("close"), max_digits=14, decimal_places=8)
    close_today_rate = models.DecimalField(_("close today"), max_digits=14, decimal_places=8)

    class Meta:
        ordering = ["product", "-valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["product", "valid_from"], name="uniq_fee_rate_from")
        ]
        verbose_name = _("exchange fee rate")
        verbose_name_plural = _("exchange fee rates")

    def __str__(self) -> str:
        return f"{self.product} from {self.valid_from}"


class Direction(models.TextChoices):
    BUY = "buy", _("Buy 买")
    SELL = "sell", _("Sell 卖")


class Offset(models.TextChoices):
    OPEN = "open", _("Open 开")
    CLOSE = "close", _("Close 平")
    FORCED_CLOSE = "forced_close", _("Forced close 强平")
    CLOSE_TODAY = "close_today", _("Close today 平今")
    CLOSE_YESTERDAY = "close_yesterday", _("Close yesterday 平昨")
    FORCED_REDUCTION = "forced_reduction", _("Forced reduction 强减")
    LOCAL_FORCED_CLOSE = "local_forced_close", _("Local forced close 本地强平")


FORCED_OFFSETS = (Offset.FORCED_CLOSE, Offset.FORCED_REDUCTION, Offset.LOCAL_FORCED_CLOSE)


class HedgeFlag(models.TextChoices):
    SPECULATION = "speculation", _("Speculation 投机")
    ARBITRAGE = "arbitrage", _("Arbitrage 套利")
    HEDGE = "hedge", _("Hedge 套保")
    MARKET_MAKER = "market_maker", _("Market maker 做市")


class Trade(models.Model):
    """成交: one fill, belonging to its trading day (night trades → next business day)."""

    # No database FOREIGN KEY on batch and account (db_constraint=False), on purpose: a
    # million-row import would queue two deferred RI trigger checks per row, ~5 s at COMMIT.
    # Trades are written by the trades importer, which refuses unknown accounts before it
    # stores anything and names its own batch (the admin's forms check both exist). Django
    # still PROTECTs both on delete, and the indexes stay (docs/imports.md, "Trades bulk path").
    batch = models.ForeignKey(ImportBatch, on_delete=models.PROTECT, related_name="trades",
                              db_constraint=False)
    line = models.PositiveIntegerField()
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="trades",
                                db_constraint=False)
    trading_day = models.DateField(_("trading day"))
    trade_date = models.DateField(_("trade date"), null=True, blank=True)
    trade_time = models.TimeField(_("trade time"), null=True, blank=True)
    exchange = models.CharField(_("exchange"), max_length=6, choices=Exchange.choices)
    instrument = models.CharField(_("instrument"), max_length=40)
    product_code = models.CharField(_("product code"), max_length=10)
    is_option = models.BooleanField(default=False)
    direction = models.CharField(_("direction"), max_length=4, choices=Direction.choices)
    offset = models.CharField(_("offset"), max_length=20, choices=Offset.choices)
    hedge_flag = models.CharField(
        _("hedge flag"), max_length=12, choices=HedgeFlag.choices, default=HedgeFlag.SPECULATION
    )
    price = models.DecimalField(_("price"), max_digits=18, decimal_places=4)
    volume = models.PositiveIntegerField(_("lots"))
    turnover = models.DecimalField(_("turnover"), **money_field_kwargs())
    fee = models.DecimalField(_("fee"), **money_field_kwargs())
    exchange_fee = models.DecimalField(_("exchange fee"), **money_field_kwargs())
    # True when exchange_fee came from the reference table, not the file.
    exchange_fee_computed = models.BooleanField(default=False)
    close_pnl = models.DecimalField(_("realised P/L"), null=True, blank=True, **money_field_kwargs())
    premium = models.DecimalField(_("premium"), null=True, blank=True, **money_field_kwargs())
    trade_id = models.CharField(_("trade id"), max_length=40)
    order_sys_id = models.CharField(_("order id"), max_length=40, blank=True)

    class Meta:
        ordering = ["trading_day", "id"]
        verbose_name = _("trade")
        verbose_name_plural = _("trades")
        constraints = [
            models.UniqueConstraint(
                fields=["account", "trading_day", "exchange", "trade_id", "direction"],
                name="uniq_trade_natural_key",
            )
        ]
        indexes = [models.Index(fields=["trading_day", "account"])]

    def __str__(self) -> str:
        return f"{self.account_id} {self.trading_day} {self.instrument} {self.trade_id}"

    @property
    def net_fee(self):
        return self.fee - self.exchange_fee


class AccountSnapshot(models.Model):
    """资金状况: one account's funds at the end of a trading day."""

    batch = models.ForeignKey(ImportBatch, on_delete=models.PROTECT, related_name="snapshots")
    line = models.PositiveIntegerField()
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="snapshots")
    trading_day = models.DateField(_("trading day"))
    pre_balance = models.DecimalField(_("balance b/f"), **money_field_kwargs())
    deposit = models.DecimalField(_("deposit"), default=0, **money_field_kwargs())
    withdrawal = models.DecimalField(_("withdrawal"), default=0, **money_field_kwargs())
    other_cash = models.DecimalField(_("other cash"), default=0, **money_field_kwargs())
    close_pnl = models.DecimalField(_("realised P/L"), default=0, **money_field_kwargs())
    position_pnl = models.DecimalField(_("MTM P/L"), default=0, **money_field_kwargs())
    fee = models.DecimalField(_("fee"), default=0, **money_field_kwargs())
    premium_net = models.DecimalField(_("net premium"), default=0, **money_field_kwargs())
    equity = models.DecimalField(_("equity"), **money_field_kwargs())
    margin = models.DecimalField(_("margin"), **money_field_kwargs())
    available = models.DecimalField(_("available"), null=True, blank=True, **money_field_kwargs())
    risk_degree = models.DecimalField(_("risk degree"), max_digits=12, decimal_places=6)
    margin_call = models.DecimalField(_("margin call"), default=0, **money_field_kwargs())

    class Meta:
        ordering = ["trading_day", "account"]
        verbose_name = _("account snapshot")
        verbose_name_plural = _("account snapshots")
        constraints = [
            models.UniqueConstraint(
                fields=["account", "trading_day"], name="uniq_snapshot_account_day"
            )
        ]
        indexes = [models.Index(fields=["trading_day"])]

    def __str__(self) -> str:
        return f"{self.account_id} {self.trading_day}"


class SnapshotCorrection(models.Model):
    """What a correction import replaced: the earlier values, kept for the record."""

    batch = models.ForeignKey(
        ImportBatch, on_delete=models.PROTECT, related_name="snapshot_corrections"
    )
    replaced_batch = models.ForeignKey(
        ImportBatch, on_delete=models.PROTECT, related_name="+", null=True
    )
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    trading_day = models.DateField()
    previous = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("snapshot correction")
        verbose_name_plural = _("snapshot corrections")


class DailyAccountActivity(models.Model):
    """Per-account daily aggregate of trades, kept current by each trades import,
    so recomputes never rescan raw trades."""

    # Written by the trades importer (clients/importers/aggregates.py) from trades whose
    # account it has checked: no database FOREIGN KEY (its deferred checks cost ~2 s at
    # COMMIT for a million-row file) and no index of its own (uniq_activity_account_day
    # starts with account). Django still cascades deletes.
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="daily_activity",
                                db_constraint=False, db_index=False)
    trading_day = models.DateField(_("trading day"))
    trades = models.PositiveIntegerField(default=0)
    lots = models.PositiveBigIntegerField(default=0)
    turnover = models.DecimalField(default=0, **money_field_kwargs(max_digits=22))
    fee = models.DecimalField(default=0, **money_field_kwargs())
    exchange_fee = models.DecimalField(default=0, **money_field_kwargs())
    net_fee = models.DecimalField(default=0, **money_field_kwargs())
    hedge_lots = models.PositiveBigIntegerField(default=0)
    arbitrage_lots = models.PositiveBigIntegerField(default=0)
    forced_liquidations = models.PositiveIntegerField(default=0)
    close_pnl = models.DecimalField(default=0, **money_field_kwargs())
    # Position held into the next day: the day's snapshot shows margin > 0.
    overnight = models.BooleanField(default=False)

    class Meta:
        ordering = ["trading_day", "account"]
        verbose_name = _("daily account activity")
        verbose_name_plural = _("daily account activity")
        constraints = [
            models.UniqueConstraint(
                fields=["account", "trading_day"], name="uniq_activity_account_day"
            )
        ]
        indexes = [models.Index(fields=["trading_day"])]
