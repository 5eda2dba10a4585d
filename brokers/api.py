"""REST API of the brokers app: brokers/, brokers/{code}/statements/, statements/{id}/
(+ prepare/approve/pay). Querysets come from the selectors; a forbidden object is 404."""

from __future__ import annotations

import django_filters
from django.http import Http404
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from brokercrm.api import call_service
from brokercrm.crypto import mask_name

from . import selectors, services
from .models import BrokerStatus, CommissionStatement, IntroducingBroker, StatementLine


class BrokerSerializer(serializers.ModelSerializer):
    id_number = serializers.CharField(source="id_number_masked", read_only=True)
    # The status in force today (from the history), not the last one written.
    status = serializers.CharField(source="status_today", read_only=True)
    current_clients = serializers.SerializerMethodField()

    class Meta:
        model = IntroducingBroker
        fields = [
            "code", "name", "broker_type", "id_number", "qualification_no", "registered_on",
            "training_hours", "contract_start", "contract_end", "status", "bank_name",
            "bank_account", "bank_account_name", "exclusivity_declared", "current_clients",
        ]

    def get_current_clients(self, broker) -> int:
        return selectors.broker_exposure(broker)["clients"]


class LineSerializer(serializers.ModelSerializer):
    account = serializers.CharField(source="account.account_id")
    client_no = serializers.CharField(source="account.client.client_no")
    client_name = serializers.SerializerMethodField()
    adjusts_month = serializers.SerializerMethodField()

    class Meta:
        model = StatementLine
        fields = [
            "account", "client_no", "client_name", "product_code", "trades", "lots", "turnover",
            "fee", "exchange_fee", "net_retained", "is_adjustment", "adjusts_month",
            "original_line",
        ]

    def get_client_name(self, line) -> str:
        name = line.account.client.name
        return mask_name(name) if self.context.get("mask_clients") else name

    def get_adjusts_month(self, line) -> str | None:
        return line.original_month.strftime("%Y-%m") if line.original_month else None


class StatementSerializer(serializers.ModelSerializer):
    broker = serializers.CharField(source="broker.code")
    month = serializers.SerializerMethodField()
    prepared_by = serializers.StringRelatedField()
    approved_by = serializers.StringRelatedField()

    class Meta:
        model = CommissionStatement
        fields = [
            "id", "broker", "month", "state", "gross", "vat", "reserve", "protection", "other",
            "carried_in_base", "base", "payout", "carried_in_payout", "tax", "net_pay",
            "carried_out_payout", "carried_out_base", "prepared_by", "prepared_at",
            "approved_by", "approved_at", "paid_on", "bank_ref",
        ]

    def get_month(self, statement) -> str:
        return statement.month.strftime("%Y-%m")


class StatementDetailSerializer(StatementSerializer):
    lines = serializers.SerializerMethodField()

    class Meta(StatementSerializer.Meta):
        fields = [*StatementSerializer.Meta.fields, "lines"]

    def get_lines(self, statement) -> list:
        lines = statement.lines.select_related("account__client", "original_statement")
        return LineSerializer(lines, many=True, context=self.context).data


class PaySerializer(serializers.Serializer):
    paid_on = serializers.DateField()
    bank_ref = serializers.CharField(max_length=60)


class StatementFilter(django_filters.FilterSet):
    month = django_filters.CharFilter(method="filter_month", label="YYYY-MM")
    state = django_filters.CharFilter()

    class Meta:
        model = CommissionStatement
        fields = ["state"]

    def filter_month(self, queryset, name, value):
        try:
            return queryset.filter(month=services.parse_month(value))
        except ValueError:
            return queryset.none()


class BrokerFilter(django_filters.FilterSet):
    """`status` filters on the status in force today (selectors.with_current_status)."""

    status = django_filters.ChoiceFilter(field_name="current_status", choices=BrokerStatus.choices)

    class Meta:
        model = IntroducingBroker
        fields = ["status", "broker_type"]


class BrokerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """IBs the user may see: finance all; an account manager the IBs of their clients;
    an IB portal user itself."""

    queryset = IntroducingBroker.objects.none()
    serializer_class = BrokerSerializer
    lookup_field = "code"
    search_fields = ["code", "name"]
    ordering = ["code"]
    filterset_class = BrokerFilter

    def get_queryset(self):
        return selectors.brokers_visible_to(self.request.user).order_by("code")

    @action(detail=True, methods=["get"], serializer_class=StatementSerializer)
    def statements(self, request, code=None):
        broker = self.get_object()
        if not selectors.may_see_statements(request.user):
            raise Http404
        qs = selectors.statements_visible_to(request.user).filter(broker=broker).order_by("-month")
        qs = StatementFilter(request.GET, queryset=qs).qs
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(StatementSerializer(page, many=True).data)


class StatementViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Statements: finance all; an IB portal user its own (clients masked)."""

    queryset = CommissionStatement.objects.none()
    serializer_class = StatementSerializer
    filterset_class = StatementFilter
    ordering = ["-month", "broker__code"]

    def get_queryset(self):
        return selectors.statements_visible_to(self.request.user).select_related(
            "prepared_by", "approved_by").order_by("-month", "broker__code")

    def get_serializer_class(self):
        return StatementDetailSerializer if self.action == "retrieve" else StatementSerializer

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["mask_clients"] = selectors.masks_clients(self.request.user)
        return context

    def _act(self, fn, **kwargs):
        statement = self.get_object()
        statement = call_service(fn, statement=statement, user=self.request.user, **kwargs)
        return Response(StatementDetailSerializer(statement, context=self.get_serializer_context()).data)

    @action(detail=True, methods=["post"], serializer_class=serializers.Serializer)
    def prepare(self, request, pk=None):
        return self._act(services.statement_prepare)

    @action(detail=True, methods=["post"], serializer_class=serializers.Serializer)
    def approve(self, request, pk=None):
        return self._act(services.statement_approve)

    @action(detail=True, methods=["post"], serializer_class=PaySerializer)
    def pay(self, request, pk=None):
        form = PaySerializer(data=request.data)
        form.is_valid(raise_exception=True)
        return self._act(services.statement_pay, **form.validated_data)
