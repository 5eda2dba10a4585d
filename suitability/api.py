"""REST API of suitability: checks, assessments, cases and their steps, conversions, the
product catalog. Lists are filtered by clients_visible_to; nothing can be deleted."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from clients import roles
from clients.selectors import accounts_visible_to, clients_visible_to

from . import rules, selectors, services
from .models import (
    Assessment,
    CaseTransition,
    Conversion,
    MismatchCase,
    ProductCatalogEntry,
    QuestionnaireVersion,
)


def _raise(exc: services.SuitabilityError):
    raise ValidationError(exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages})


# --- check ------------------------------------------------------------------------------


class CheckInput(serializers.Serializer):
    account = serializers.CharField(help_text="资金账号 (account_id)")
    product = serializers.CharField(help_text="catalog code, product code (rb, sc) or instrument (IF2512)")
    on = serializers.DateField(required=False)


class CheckOutput(serializers.Serializer):
    result = serializers.ChoiceField(choices=rules.RESULT_CHOICES)
    client_level = serializers.CharField()
    product_level = serializers.CharField()
    product = serializers.CharField()
    catalog_code = serializers.CharField(allow_null=True)
    warnings = serializers.ListField(child=serializers.CharField())
    reason = serializers.CharField()
    case = serializers.IntegerField(allow_null=True)


class CheckView(APIView):
    """Pre-sale check: the matching result; a mismatch or prohibition opens a case."""

    def get_serializer(self, *args, **kwargs):  # for the schema generator
        return CheckInput(*args, **kwargs)

    def post(self, request):
        if not roles.has_role(request.user, *services.PRESALE_ROLES):
            raise PermissionDenied(_("Pre-sale checks are for account managers and compliance."))
        data = CheckInput(data=request.data)
        data.is_valid(raise_exception=True)
        account = accounts_visible_to(request.user).filter(account_id=data.validated_data["account"]).first()
        if account is None:
            raise ValidationError({"account": [_("Unknown account.")]})
        try:
            result = services.presale_check(
                account=account, product=data.validated_data["product"], user=request.user,
                on=data.validated_data.get("on"),
            )
        except services.SuitabilityError as exc:
            _raise(exc)
        out = {
            "result": result.outcome.result, "client_level": result.outcome.client_level,
            "product_level": result.outcome.product_level, "product": result.resolved.product.key,
            "catalog_code": result.resolved.entry.code if result.resolved.entry else None,
            "warnings": list(result.outcome.warnings), "reason": result.outcome.reason,
            "case": result.case.pk if result.case else None,
        }
        return Response(CheckOutput(out).data)


# --- assessments ---------------------------------------------------------------------------


class AssessmentSerializer(serializers.ModelSerializer):
    level_label = serializers.CharField(read_only=True)
    questionnaire = serializers.SlugRelatedField(
        slug_field="code", queryset=QuestionnaireVersion.objects.all(), required=False, allow_null=True
    )
    client = serializers.PrimaryKeyRelatedField(queryset=clients_visible_to(None))
    lowest_other_reason = serializers.CharField(
        write_only=True, required=False, allow_blank=True, max_length=150,
        help_text="The person meets another legal condition of the lowest category (stated): C1, lowest.",
    )

    class Meta:
        model = Assessment
        fields = [
            "id", "client", "questionnaire", "questionnaire_label", "answers", "score", "level",
            "level_label", "lowest", "lowest_reason", "lowest_other_reason", "horizon", "product_kinds", "investor_category",
            "professional_class", "assessed_on", "expires_on", "client_signed_on", "esign_ref",
            "migrated", "supersedes", "note", "entered_by", "entered_at",
        ]
        read_only_fields = [
            "questionnaire_label", "score", "level", "lowest", "lowest_reason", "horizon",
            "product_kinds", "investor_category", "professional_class", "expires_on", "migrated",
            "entered_by", "entered_at",
        ]
        extra_kwargs = {"assessed_on": {"required": False}, "answers": {"required": True}}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["client"].queryset = clients_visible_to(request.user)
            self.fields["supersedes"].queryset = selectors.assessments_visible_to(request.user)


# The fields services.assessment_create names in its errors besides the questions.
ASSESSMENT_INPUT_FIELDS = frozenset(
    {"answers", "questionnaire", "assessed_on", "client_signed_on", "supersedes", "lowest_other_reason"}
)


class AssessmentFilter(filters.FilterSet):
    class Meta:
        model = Assessment
        fields = ["client", "level", "lowest", "migrated"]


class AssessmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                        viewsets.GenericViewSet):
    """Assessments: create from questionnaire answers; never updated or deleted."""

    serializer_class = AssessmentSerializer
    filterset_class = AssessmentFilter
    ordering_fields = ["assessed_on", "expires_on", "id"]

    def get_queryset(self):
        return selectors.assessments_visible_to(self.request.user).select_related("questionnaire").order_by("-id")

    def perform_create(self, serializer):
        if not roles.has_role(self.request.user, roles.ACCOUNT_MANAGER, roles.COMPLIANCE):
            raise ValidationError({"client": [_("Only account managers and compliance enter assessments.")]})
        data = serializer.validated_data
        try:
            serializer.instance = services.assessment_create(
                client=data["client"], answers=data.get("answers") or {}, entered_by=self.request.user,
                questionnaire=data.get("questionnaire"), assessed_on=data.get("assessed_on"),
                client_signed_on=data.get("client_signed_on"), esign_ref=data.get("esign_ref", ""),
                supersedes=data.get("supersedes"), note=data.get("note", ""),
                lowest_other_reason=data.get("lowest_other_reason", ""),
            )
        except services.SuitabilityError as exc:
            # the questionnaire's errors are keyed by question (some ids, like "horizon",
            # are also field names): all but the service's own fields go under "answers"
            errors = exc.message_dict
            fields = {k: v for k, v in errors.items() if k in ASSESSMENT_INPUT_FIELDS}
            questions = {k: v for k, v in errors.items() if k not in ASSESSMENT_INPUT_FIELDS}
            if questions:  # never with an "answers" error: the shape is checked first
                fields["answers"] = questions
            raise ValidationError(fields) from exc


# --- cases ----------------------------------------------------------------------------------


class TransitionSerializer(serializers.ModelSerializer):
    by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = CaseTransition
        fields = ["id", "action", "from_state", "to_state", "by", "at", "note", "evidence", "signed_on"]


class TransitionInput(serializers.Serializer):
    action = serializers.ChoiceField(choices=[(a, a) for a in rules.STEPS])
    note = serializers.CharField(required=False, allow_blank=True, default="")
    evidence = serializers.CharField(required=False, allow_blank=True, default="")
    signed_on = serializers.DateField(required=False, allow_null=True, default=None)


class CaseSerializer(serializers.ModelSerializer):
    client_no = serializers.CharField(source="client.client_no", read_only=True)
    catalog_code = serializers.CharField(source="catalog_entry.code", read_only=True, default=None)
    transitions = serializers.SerializerMethodField()
    trade_count = serializers.SerializerMethodField()
    allowed_actions = serializers.SerializerMethodField()

    class Meta:
        model = MismatchCase
        fields = [
            "id", "client", "client_no", "account", "product_key", "catalog_code", "product_flagged",
            "source", "result", "state", "client_level", "client_lowest", "product_level", "warnings",
            "assessment", "first_trading_day", "opened_at", "closed_at", "trade_count",
            "allowed_actions", "transitions",
        ]

    @extend_schema_field(TransitionSerializer(many=True))
    def get_transitions(self, case) -> list:
        return TransitionSerializer(selectors.case_timeline(case), many=True).data

    def get_trade_count(self, case) -> int:
        return selectors.case_trade_count(case)

    def get_allowed_actions(self, case) -> list[str]:
        return services.case_allowed_actions(case, self.context["request"].user)


class CaseFilter(filters.FilterSet):
    state = filters.MultipleChoiceFilter(choices=MismatchCase._meta.get_field("state").choices)

    class Meta:
        model = MismatchCase
        fields = ["state", "source", "result", "client", "product_key", "product_level"]


class CaseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Mismatch cases. Open them with a pre-sale check; move them with transitions/."""

    serializer_class = CaseSerializer
    filterset_class = CaseFilter
    ordering_fields = ["opened_at", "id", "product_level"]

    def get_queryset(self):
        return (
            selectors.cases_visible_to(self.request.user)
            .select_related("client", "catalog_entry")
            .prefetch_related("transitions__by")
            .order_by("-id")
        )

    @action(detail=True, methods=["get", "post"], serializer_class=TransitionInput)
    def transitions(self, request, pk=None):
        case = self.get_object()
        if request.method == "GET":
            return Response(TransitionSerializer(selectors.case_timeline(case), many=True).data)
        data = TransitionInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            transition = services.case_transition(case=case, user=request.user, **data.validated_data)
        except services.SuitabilityError as exc:
            _raise(exc)
        return Response(TransitionSerializer(transition).data, status=status.HTTP_201_CREATED)


# --- conversions -------------------------------------------------------------------------------


class ConversionSerializer(serializers.ModelSerializer):
    client = serializers.PrimaryKeyRelatedField(queryset=clients_visible_to(None))

    class Meta:
        model = Conversion
        fields = [
            "id", "client", "direction", "applicant_type", "net_assets", "financial_assets",
            "average_income", "experience_years", "work_years", "evidence", "protections_explained",
            "check_passed", "check_result", "state", "submitted_by", "submitted_at", "decided_by",
            "decided_at", "decision_reason",
        ]
        read_only_fields = ["check_passed", "check_result", "state", "submitted_by", "submitted_at",
                            "decided_by", "decided_at", "decision_reason"]
        extra_kwargs = {name: {"min_value": 0} for name in (
            "net_assets", "financial_assets", "average_income", "experience_years", "work_years")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["client"].queryset = clients_visible_to(request.user)


class DecisionInput(serializers.Serializer):
    approve = serializers.BooleanField()
    reason = serializers.CharField()


class ConversionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                        viewsets.GenericViewSet):
    serializer_class = ConversionSerializer
    filterset_fields = ["state", "direction", "client"]

    def get_queryset(self):
        return selectors.conversions_visible_to(self.request.user).order_by("-id")

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        try:
            serializer.instance = services.conversion_submit(user=self.request.user, **data)
        except services.SuitabilityError as exc:
            _raise(exc)

    @action(detail=True, methods=["post"], serializer_class=DecisionInput)
    def decide(self, request, pk=None):
        conversion = self.get_object()
        data = DecisionInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            conversion = services.conversion_decide(conversion=conversion, user=request.user, **data.validated_data)
        except services.SuitabilityError as exc:
            _raise(exc)
        return Response(ConversionSerializer(conversion, context={"request": request}).data)


# --- catalog ----------------------------------------------------------------------------------


class ProductSerializer(serializers.ModelSerializer):
    risk_label = serializers.CharField(read_only=True)

    class Meta:
        model = ProductCatalogEntry
        fields = ["id", "code", "name_zh", "name_en", "kind", "covers", "risk_level", "risk_label",
                  "horizon", "rated_on", "rationale", "is_active"]


class ProductViewSet(viewsets.ReadOnlyModelViewSet):
    """The product catalog R1–R5 (rated by compliance in the admin)."""

    serializer_class = ProductSerializer
    queryset = ProductCatalogEntry.objects.all().order_by("risk_level", "code")
    filterset_fields = ["risk_level", "kind", "is_active"]
    search_fields = ["code", "name_zh", "name_en"]

