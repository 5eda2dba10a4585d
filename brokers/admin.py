from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import (
    BrokerLink,
    BrokerStatus,
    BrokerStatusChange,
    CommissionScheme,
    CommissionStatement,
    IntroducingBroker,
    StatementLine,
)
from .selectors import with_current_status


class StatusInline(admin.TabularInline):
    model = BrokerStatusChange
    extra = 0


class StatusTodayFilter(admin.SimpleListFilter):
    """The status in force today (from the history), like the register page."""

    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return BrokerStatus.choices

    def queryset(self, request, queryset):
        return queryset.filter(current_status=self.value()) if self.value() else queryset


@admin.register(IntroducingBroker)
class IntroducingBrokerAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "broker_type", "status_today_display", "contract_start",
                    "contract_end")
    list_filter = ("broker_type", StatusTodayFilter)
    search_fields = ("code", "name")
    inlines = [StatusInline]
    exclude = ("id_number_hash",)

    def get_queryset(self, request):
        return with_current_status(super().get_queryset(request))

    @admin.display(description=_("status"), ordering="current_status")
    def status_today_display(self, obj):
        return obj.get_status_today_display()


@admin.register(BrokerLink)
class BrokerLinkAdmin(admin.ModelAdmin):
    list_display = ("account", "broker", "valid_from", "valid_to")
    list_filter = ("broker",)
    search_fields = ("account__account_id", "broker__code")
    raw_id_fields = ("account", "batch")
    readonly_fields = ("batch", "line")

    def save_model(self, request, obj, form, change):
        # The no-overlap rule holds here too (services are the only way in otherwise).
        from django.core.exceptions import ValidationError

        from .services import overlapping_links

        clash = overlapping_links(account_id=obj.account_id, valid_from=obj.valid_from,
                                  valid_to=obj.valid_to, exclude_ids=[obj.pk] if obj.pk else []).first()
        if clash:
            raise ValidationError(f"overlaps {clash}")
        super().save_model(request, obj, form, change)


@admin.register(CommissionScheme)
class CommissionSchemeAdmin(admin.ModelAdmin):
    list_display = ("broker", "mode", "bands", "min_payout", "valid_from")
    list_filter = ("mode",)


class LineInline(admin.TabularInline):
    model = StatementLine
    fk_name = "statement"
    extra = 0
    raw_id_fields = ("account", "original_line", "original_statement")

    def has_change_permission(self, request, obj=None):
        return obj is None or obj.state == "draft"


@admin.register(CommissionStatement)
class CommissionStatementAdmin(admin.ModelAdmin):
    list_display = ("broker", "month", "state", "gross", "payout", "tax", "net_pay")
    list_filter = ("state", "month")
    search_fields = ("broker__code",)
    inlines = [LineInline]
    readonly_fields = [f.name for f in CommissionStatement._meta.fields if f.name != "id"]

    def has_delete_permission(self, request, obj=None):
        return obj is None or obj.state == "draft"
