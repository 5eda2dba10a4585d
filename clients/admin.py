"""Django admin for every clients model. Foreign keys to clients, accounts and users
use raw id / autocomplete widgets so the forms stay fast with 100k clients; ID
numbers are only ever shown masked."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from .models import (
    Account,
    AccountSnapshot,
    Branch,
    Client,
    DailyAccountActivity,
    ExchangeFeeRate,
    FuturesProduct,
    ImportBatch,
    Interaction,
    Prospect,
    SnapshotCorrection,
    StaffProfile,
    Task,
    Trade,
)


@admin.register(Branch)
class BranchAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "city")
    search_fields = ("code", "name", "city")


@admin.register(StaffProfile)
class StaffProfileAdmin(admin.ModelAdmin):
    list_display = ("staff_code", "user", "branch", "phone")
    list_filter = ("branch",)
    search_fields = ("staff_code", "user__username", "user__first_name", "user__last_name")
    autocomplete_fields = ("user", "branch")
    list_select_related = ("user", "branch")


class AccountInline(admin.TabularInline):
    model = Account
    fields = ("account_id", "opened_on", "closed_on", "status")
    extra = 0
    show_change_link = True


@admin.register(Client)
class ClientAdmin(SimpleHistoryAdmin):
    list_display = ("client_no", "name", "client_type", "masked_id", "branch", "manager",
                    "investor_category", "opened_on", "closed_on")
    list_filter = ("client_type", "investor_category", "branch", "id_type")
    # The exact ID number is found through its keyed hash (see get_search_results).
    search_fields = ("client_no", "name", "accounts__account_id")
    autocomplete_fields = ("branch",)
    raw_id_fields = ("manager",)
    list_select_related = ("branch", "manager")
    readonly_fields = ("masked_id", "created_at", "updated_at")
    inlines = [AccountInline]
    date_hierarchy = "opened_on"
    show_full_result_count = False
    fieldsets = (
        (None, {"fields": ("client_no", "client_type", "name", "investor_category")}),
        (_("Identity"), {"fields": ("id_type", "id_number", "masked_id")}),
        (_("Contact"), {"fields": ("phone", "email", "address")}),
        (_("Relationship"), {"fields": ("branch", "manager", "opened_on", "closed_on")}),
        (_("Record"), {"fields": ("created_at", "updated_at")}),
    )

    @admin.display(description=_("ID number"))
    def masked_id(self, obj):
        return obj.id_number_masked

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        # Never send the stored number back to the browser: a blank field keeps it.
        if "id_number" in form.base_fields:
            field = form.base_fields["id_number"]
            field.widget = field.widget.__class__(attrs={"rows": 1, "autocomplete": "off"})
            field.required = False
            field.help_text = _("Leave blank to keep the stored number.")
        return form

    def render_change_form(self, request, context, *args, **kwargs):
        form = context.get("adminform").form if context.get("adminform") else None
        if form is not None and "id_number" in form.fields and form.instance.pk and not form.is_bound:
            form.initial["id_number"] = ""
        return super().render_change_form(request, context, *args, **kwargs)

    def save_model(self, request, obj, form, change):
        if change and not form.cleaned_data.get("id_number"):
            obj.id_number = Client.objects.get(pk=obj.pk).id_number
        super().save_model(request, obj, form, change)

    def get_search_results(self, request, queryset, search_term):
        from brokercrm.crypto import id_number_hash

        term = search_term.strip()
        if len(term) >= 15:
            hashed = queryset.filter(id_number_hash=id_number_hash(term))
            if hashed.exists():
                return hashed, False
        return super().get_search_results(request, queryset, search_term)


@admin.register(Account)
class AccountAdmin(SimpleHistoryAdmin):
    list_display = ("account_id", "client", "status", "opened_on", "closed_on")
    list_filter = ("status",)
    search_fields = ("account_id", "client__client_no", "client__name")
    raw_id_fields = ("client",)
    list_select_related = ("client",)
    show_full_result_count = False


@admin.register(Interaction)
class InteractionAdmin(admin.ModelAdmin):
    list_display = ("occurred_at", "kind", "client", "staff", "outcome")
    list_filter = ("kind",)
    search_fields = ("client__client_no", "client__name", "summary")
    raw_id_fields = ("client", "staff")
    list_select_related = ("client", "staff")
    date_hierarchy = "occurred_at"
    show_full_result_count = False


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ("title", "kind", "client", "assignee", "due_on", "status", "origin")
    list_filter = ("status", "kind", "origin")
    search_fields = ("title", "client__client_no", "client__name", "assignee__username")
    raw_id_fields = ("client", "assignee", "created_by", "completed_by")
    list_select_related = ("client", "assignee")
    date_hierarchy = "due_on"
    show_full_result_count = False


@admin.register(Prospect)
class ProspectAdmin(admin.ModelAdmin):
    list_display = ("name", "stage", "owner", "branch", "source", "next_step_on", "client")
    list_filter = ("stage", "branch")
    search_fields = ("name", "company", "phone", "owner__username")
    raw_id_fields = ("owner", "client")
    list_select_related = ("owner", "branch", "client")


@admin.register(ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "file_name", "status", "source", "correction", "rows",
                    "created", "updated", "unchanged", "errors", "created_at")
    list_filter = ("kind", "status", "source", "correction")
    search_fields = ("file_name", "sha256")
    raw_id_fields = ("uploaded_by",)
    readonly_fields = ("sha256", "report", "started_at", "finished_at", "created_at")


class ExchangeFeeRateInline(admin.TabularInline):
    model = ExchangeFeeRate
    extra = 0


@admin.register(FuturesProduct)
class FuturesProductAdmin(admin.ModelAdmin):
    list_display = ("exchange", "code", "name_zh", "name_en", "multiplier", "is_financial",
                    "has_options", "is_active")
    list_filter = ("exchange", "is_financial", "has_options", "is_active")
    search_fields = ("code", "name_zh", "name_en")
    inlines = [ExchangeFeeRateInline]


@admin.register(ExchangeFeeRate)
class ExchangeFeeRateAdmin(admin.ModelAdmin):
    list_display = ("product", "valid_from", "basis", "open_rate", "close_rate", "close_today_rate")
    list_filter = ("basis", "product__exchange")
    search_fields = ("product__code",)
    autocomplete_fields = ("product",)
    list_select_related = ("product",)


class ImportedRecordAdmin(admin.ModelAdmin):
    """Back-office records the importers write (trades, end-of-day snapshots and what is
    derived from them): viewed and searched here, never added, changed or deleted. A
    wrong row is corrected by a correction import, which keeps what it replaced; a
    trade may be the evidence of a suitability case. No permission, no delete action."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Trade)
class TradeAdmin(ImportedRecordAdmin):
    list_display = ("trading_day", "account", "exchange", "instrument", "direction", "offset",
                    "hedge_flag", "price", "volume", "turnover", "fee", "trade_id")
    list_filter = ("exchange", "direction", "offset", "hedge_flag", "is_option")
    search_fields = ("account__account_id", "instrument", "trade_id", "product_code")
    raw_id_fields = ("account", "batch")
    list_select_related = ("account",)
    date_hierarchy = "trading_day"
    show_full_result_count = False


@admin.register(AccountSnapshot)
class AccountSnapshotAdmin(ImportedRecordAdmin):
    list_display = ("trading_day", "account", "equity", "margin", "available", "risk_degree",
                    "margin_call")
    search_fields = ("account__account_id",)
    raw_id_fields = ("account", "batch")
    list_select_related = ("account",)
    date_hierarchy = "trading_day"
    show_full_result_count = False


@admin.register(SnapshotCorrection)
class SnapshotCorrectionAdmin(ImportedRecordAdmin):
    list_display = ("trading_day", "account", "batch", "replaced_batch", "created_at")
    search_fields = ("account__account_id",)
    raw_id_fields = ("account", "batch", "replaced_batch")


@admin.register(DailyAccountActivity)
class DailyAccountActivityAdmin(ImportedRecordAdmin):
    list_display = ("trading_day", "account", "trades", "lots", "turnover", "fee", "net_fee",
                    "forced_liquidations", "overnight")
    list_filter = ("overnight",)
    search_fields = ("account__account_id",)
    raw_id_fields = ("account",)
    list_select_related = ("account",)
    date_hierarchy = "trading_day"
    show_full_result_count = False
