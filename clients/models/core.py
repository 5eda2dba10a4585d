"""Client master data: branches, staff, clients, accounts and the daily CRM work."""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from brokercrm.crypto import EncryptedTextField, id_number_hash, mask_id_number


class Branch(models.Model):
    """营业部."""

    code = models.CharField(_("branch code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100)
    city = models.CharField(_("city"), max_length=50, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("branch")
        verbose_name_plural = _("branches")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class StaffProfile(models.Model):
    """A staff user's code (as the back office knows them) and branch."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_profile"
    )
    staff_code = models.CharField(_("staff code"), max_length=20, unique=True)
    branch = models.ForeignKey(
        Branch, on_delete=models.PROTECT, null=True, blank=True, related_name="staff",
        verbose_name=_("branch"),
    )
    phone = models.CharField(_("phone"), max_length=30, blank=True)

    class Meta:
        ordering = ["staff_code"]
        verbose_name = _("staff profile")
        verbose_name_plural = _("staff profiles")

    def __str__(self) -> str:
        return f"{self.staff_code} {self.user.get_full_name() or self.user.username}"


class ClientType(models.TextChoices):
    PERSON = "person", _("Natural person 个人")
    INSTITUTION = "institution", _("Institution 机构")
    PRODUCT = "product", _("Product 产品")


class IdType(models.TextChoices):
    RESIDENT_ID = "resident_id", _("Resident ID card 身份证")
    PASSPORT = "passport", _("Passport 护照")
    HK_MACAO_PERMIT = "hk_macao", _("HK/Macao permit 港澳通行证")
    TAIWAN_PERMIT = "taiwan", _("Taiwan permit 台胞证")
    BUSINESS_LICENSE = "business_license", _("Unified social credit code 统一社会信用代码")
    PRODUCT_FILING = "product_filing", _("Product filing code 产品备案编码")
    OTHER = "other", _("Other 其他")


class InvestorCategory(models.TextChoices):
    ORDINARY = "ordinary", _("Ordinary investor 普通投资者")
    PROFESSIONAL = "professional", _("Professional investor 专业投资者")


class Client(models.Model):
    """A client of the firm; one client may hold several futures accounts."""

    client_no = models.CharField(_("client no."), max_length=30, unique=True)
    client_type = models.CharField(
        _("client type"), max_length=12, choices=ClientType.choices, default=ClientType.PERSON
    )
    name = models.CharField(_("name"), max_length=200, db_index=True)
    id_type = models.CharField(
        _("ID type"), max_length=20, choices=IdType.choices, default=IdType.RESIDENT_ID
    )
    id_number = EncryptedTextField(_("ID number"), blank=True)
    # Keyed hash of the normalised ID number: exact search without decrypting.
    id_number_hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    email = models.EmailField(_("email"), blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    opened_on = models.DateField(_("opened on"))
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    branch = models.ForeignKey(
        Branch, on_delete=models.PROTECT, related_name="clients", verbose_name=_("branch")
    )
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="managed_clients", verbose_name=_("account manager"),
    )
    # As declared by the back office; suitability keeps the full, evidenced record.
    investor_category = models.CharField(
        _("investor category"), max_length=12, choices=InvestorCategory.choices,
        default=InvestorCategory.ORDINARY,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(excluded_fields=["id_number"])

    class Meta:
        ordering = ["client_no"]
        verbose_name = _("client")
        verbose_name_plural = _("clients")
        indexes = [
            models.Index(fields=["branch", "manager"]),
            models.Index(fields=["manager", "client_no"]),
            # The client list's sort by opening date stays an index walk at 100k clients.
            models.Index(fields=["opened_on", "client_no"], name="clients_cli_opened_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.client_no} {self.name}"

    def save(self, *args, **kwargs):
        self.id_number_hash = id_number_hash(self.id_number)
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("clients:detail", args=[self.pk])

    @property
    def id_number_masked(self) -> str:
        return mask_id_number(self.id_number)

    @property
    def is_closed(self) -> bool:
        return self.closed_on is not None and self.closed_on <= timezone.localdate()


class AccountStatus(models.TextChoices):
    ACTIVE = "active", _("Active 正常")
    DORMANT = "dormant", _("Dormant 休眠")
    FROZEN = "frozen", _("Frozen 冻结")
    CLOSED = "closed", _("Closed 销户")


class Account(models.Model):
    """资金账号: a futures account at the firm."""

    account_id = models.CharField(_("account no."), max_length=30, unique=True)
    client = models.ForeignKey(
        Client, on_delete=models.PROTECT, related_name="accounts", verbose_name=_("client")
    )
    opened_on = models.DateField(_("opened on"))
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=AccountStatus.choices, default=AccountStatus.ACTIVE
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["account_id"]
        verbose_name = _("account")
        verbose_name_plural = _("accounts")

    def __str__(self) -> str:
        return self.account_id


class InteractionKind(models.TextChoices):
    CALL = "call", _("Call 电话")
    VISIT = "visit", _("Visit 拜访")
    MESSAGE = "message", _("Message 消息")
    RETURN_VISIT = "return_visit", _("Return visit 回访")


class Interaction(models.Model):
    client = models.ForeignKey(
        Client, on_delete=models.PROTECT, related_name="interactions", verbose_name=_("client")
    )
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="interactions",
        verbose_name=_("staff"),
    )
    kind = models.CharField(_("kind"), max_length=15, choices=InteractionKind.choices)
    occurred_at = models.DateTimeField(_("when"), default=timezone.now)
    summary = models.TextField(_("summary"))
    outcome = models.CharField(_("outcome"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        indexes = [models.Index(fields=["client", "-occurred_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.client_id} {self.occurred_at:%Y-%m-%d}"


class TaskKind(models.TextChoices):
    FOLLOW_UP = "follow_up", _("Follow-up 跟进")
    DORMANT_FOLLOW_UP = "dormant_follow_up", _("Dormant client follow-up 休眠客户跟进")
    REASSESSMENT = "reassessment", _("Re-assessment 重新评估")
    RETURN_VISIT = "return_visit", _("Return visit 回访")
    DOCUMENT = "document", _("Documents 资料补充")
    OTHER = "other", _("Other 其他")


class TaskStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class TaskOrigin(models.TextChoices):
    PERSON = "person", _("Person")
    SYSTEM = "system", _("System")


class Task(models.Model):
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="tasks",
        verbose_name=_("assignee"),
    )
    client = models.ForeignKey(
        Client, on_delete=models.PROTECT, null=True, blank=True, related_name="tasks",
        verbose_name=_("client"),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=TaskKind.choices)
    title = models.CharField(_("title"), max_length=200)
    due_on = models.DateField(_("due on"))
    status = models.CharField(
        _("status"), max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN
    )
    origin = models.CharField(
        _("origin"), max_length=10, choices=TaskOrigin.choices, default=TaskOrigin.PERSON
    )
    # What raised the task (a mismatch case, a segment change, …) when the system did.
    source_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, null=True, blank=True
    )
    source_id = models.PositiveBigIntegerField(null=True, blank=True)
    source = GenericForeignKey("source_type", "source_id")
    outcome = models.TextField(_("outcome"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["due_on", "id"]
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        indexes = [
            models.Index(fields=["assignee", "status", "due_on"]),
            models.Index(fields=["source_type", "source_id"]),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def closes_through_source(self) -> bool:
        """A return visit raised by a record (a suitability case) is closed by recording
        the visit there, never by the generic completion (services.task_complete)."""
        return self.kind == TaskKind.RETURN_VISIT and self.source_type_id is not None


class ProspectStage(models.TextChoices):
    LEAD = "lead", _("Lead 线索")
    CONTACTED = "contacted", _("Contacted 已联系")
    VISITED = "visited", _("Visited 已拜访")
    CONVERTED = "converted", _("Account opened 已开户")
    LOST = "lost", _("Lost 流失")


class Prospect(models.Model):
    """潜在客户: the pipeline before an account is opened."""

    name = models.CharField(_("name"), max_length=200)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    company = models.CharField(_("company"), max_length=200, blank=True)
    source = models.CharField(_("source"), max_length=100, blank=True)
    stage = models.CharField(
        _("stage"), max_length=10, choices=ProspectStage.choices, default=ProspectStage.LEAD
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="prospects",
        verbose_name=_("owner"),
    )
    branch = models.ForeignKey(
        Branch, on_delete=models.PROTECT, related_name="prospects", verbose_name=_("branch")
    )
    next_step = models.CharField(_("next step"), max_length=200, blank=True)
    next_step_on = models.DateField(_("next step on"), null=True, blank=True)
    client = models.OneToOneField(
        Client, on_delete=models.PROTECT, null=True, blank=True, related_name="prospect",
        verbose_name=_("client"),
    )
    lost_reason = models.CharField(_("lost reason"), max_length=200, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        verbose_name = _("prospect")
        verbose_name_plural = _("prospects")

    def __str__(self) -> str:
        return self.name
