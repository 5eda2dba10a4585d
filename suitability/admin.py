"""Admin for every suitability model. Nothing is deletable; decision records are
read-only here (their writes go through services, corrections are new records)."""

from django import forms
from django.contrib import admin
from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _

from . import models, rules, selectors


class NoDeleteAdmin(admin.ModelAdmin):
    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


class RecordAdmin(NoDeleteAdmin):
    """Append-only records: viewable, never changed or deleted in the admin."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class TransitionInline(admin.TabularInline):
    model = models.CaseTransition
    extra = 0
    can_delete = False
    fields = ("at", "action", "from_state", "to_state", "by", "note", "evidence", "signed_on")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(models.RuleSet)
class RuleSetAdmin(NoDeleteAdmin):
    list_display = ("version", "effective_from", "validity_months", "return_visit_business_days", "source")
    ordering = ("-effective_from",)


@admin.register(models.QuestionnaireVersion)
class QuestionnaireVersionAdmin(NoDeleteAdmin):
    list_display = ("code", "audience", "title", "effective_from", "effective_to")
    list_filter = ("audience",)


@admin.register(models.ProductCatalogEntry)
class ProductCatalogEntryAdmin(NoDeleteAdmin):
    list_display = ("code", "name_zh", "name_en", "kind", "risk_level", "rated_on", "is_active")
    list_filter = ("risk_level", "kind", "is_active")
    search_fields = ("code", "name_zh", "name_en")


class CategoryRecordForm(forms.ModelForm):
    """Refuses, by field, a classification its legal basis does not give (rules.classification_errors)."""

    class Meta:
        model = models.InvestorCategoryRecord
        fields = ("client", "category", "professional_class", "legal_basis", "evidence", "effective_from", "note")

    def clean(self):
        data = super().clean()
        client = data.get("client")
        if client is None or not data.get("category") or not data.get("legal_basis"):
            return data
        errors = rules.classification_errors(
            category=data["category"],
            professional_class=data.get("professional_class", "") if data["category"] == "professional" else "",
            legal_basis=data["legal_basis"], person=client.client_type == "person", from_conversion=False,
            evidence=data.get("evidence", ""),
        )
        for name, message in errors.items():
            self.add_error(name, message)
        return data


@admin.register(models.InvestorCategoryRecord)
class InvestorCategoryRecordAdmin(NoDeleteAdmin):
    """Classification decisions (A/B with legal basis and evidence) are added here by
    compliance; an existing decision is never changed — a new one supersedes it."""

    list_display = ("client", "category", "professional_class", "legal_basis", "effective_from", "decided_by")
    list_filter = ("category", "professional_class", "legal_basis")
    search_fields = ("client__client_no", "client__name")
    raw_id_fields = ("client",)
    fields = ("client", "category", "professional_class", "legal_basis", "evidence", "effective_from", "note")
    form = CategoryRecordForm

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        from .services import category_record_create

        created = category_record_create(
            client=obj.client, category=obj.category, professional_class=obj.professional_class,
            legal_basis=obj.legal_basis, evidence=obj.evidence, effective_from=obj.effective_from,
            user=request.user, note=obj.note,
        )
        obj.pk = created.pk


@admin.register(models.Conversion)
class ConversionAdmin(RecordAdmin):
    list_display = ("client", "direction", "state", "check_passed", "submitted_at", "decided_by")
    list_filter = ("direction", "state")
    search_fields = ("client__client_no", "client__name")


@admin.register(models.Assessment)
class AssessmentAdmin(RecordAdmin):
    list_display = ("client", "level", "lowest", "score", "assessed_on", "expires_on", "migrated", "entered_by")
    list_filter = ("level", "lowest", "migrated")
    search_fields = ("client__client_no", "client__name")
    date_hierarchy = "assessed_on"


@admin.register(models.MismatchCase)
class MismatchCaseAdmin(RecordAdmin):
    list_display = ("id", "client", "product_key", "source", "result", "state", "client_level",
                    "product_level", "opened_at")
    list_filter = ("state", "source", "result", "product_level")
    search_fields = ("client__client_no", "client__name", "product_key")
    readonly_fields = ("timeline",)
    inlines = [TransitionInline]

    @admin.display(description=_("Timeline"))
    def timeline(self, case: models.MismatchCase) -> str:
        """The whole timeline, as on the case page: a case detected in imported trades has
        no stored opening row (its record is the opening), so the inline alone would start
        at its second step."""
        return render_to_string("suitability/_timeline.html", {"transitions": selectors.case_timeline(case)})


@admin.register(models.CaseTransition)
class CaseTransitionAdmin(RecordAdmin):
    list_display = ("case", "action", "from_state", "to_state", "by", "at", "evidence")
    list_filter = ("action", "to_state")


@admin.register(models.CaseTradeDay)
class CaseTradeDayAdmin(RecordAdmin):
    list_display = ("case", "trading_day", "account", "exchange", "product_code", "is_option", "trades", "lots")
    list_filter = ("trading_day",)
    raw_id_fields = ("case", "batch", "account")


@admin.register(models.ReturnVisit)
class ReturnVisitAdmin(RecordAdmin):
    list_display = ("case", "outcome", "visited_on", "recorded_by", "recorded_at")
    list_filter = ("outcome",)


@admin.register(models.ProcessedTradeBatch)
class ProcessedTradeBatchAdmin(RecordAdmin):
    list_display = ("batch", "trades", "mismatched_trades", "processed_at")
