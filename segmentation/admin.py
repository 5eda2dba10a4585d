from django.contrib import admin

from .models import ClientSegment, RfmLabel, SegmentRuleSet, SegmentRun, SegmentShard


@admin.register(SegmentRuleSet)
class SegmentRuleSetAdmin(admin.ModelAdmin):
    list_display = ("name", "valid_from", "updated_at")
    ordering = ("-valid_from",)


@admin.register(RfmLabel)
class RfmLabelAdmin(admin.ModelAdmin):
    list_display = ("position", "code", "name_en", "name_zh", "r_min", "r_max", "f_min", "f_max",
                    "m_min", "m_max")
    list_editable = ("code", "name_en", "name_zh", "r_min", "r_max", "f_min", "f_max", "m_min",
                     "m_max")


class SegmentShardInline(admin.TabularInline):
    model = SegmentShard
    extra = 0
    can_delete = False
    readonly_fields = ("index", "client_id_min", "client_id_max", "state", "worker", "pid",
                       "attempts", "clients", "started_at", "finished_at")


@admin.register(SegmentRun)
class SegmentRunAdmin(admin.ModelAdmin):
    list_display = ("id", "as_of", "state", "is_current", "trigger", "clients", "duration_seconds",
                    "started_at")
    list_filter = ("state", "is_current", "trigger")
    readonly_fields = [f.name for f in SegmentRun._meta.fields]
    inlines = [SegmentShardInline]


@admin.register(ClientSegment)
class ClientSegmentAdmin(admin.ModelAdmin):
    list_display = ("client", "as_of", "fund_tier", "activity_class", "value_class", "rfm_label",
                    "quant_class")
    list_filter = ("as_of", "fund_tier", "activity_class", "value_class", "quant_class")
    search_fields = ("client__client_no",)
    raw_id_fields = ("client", "run")
