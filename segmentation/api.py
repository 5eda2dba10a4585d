"""REST API: segments/?as_of=, segments/runs/ (GET list, POST trigger a run)."""

import datetime as dt

from django_filters import rest_framework as filters
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.response import Response

from clients import roles

from . import selectors, services
from .models import ClientSegment, SegmentRun

RUN_VIEWERS = (roles.ADMIN, roles.COMPLIANCE, roles.FINANCE, roles.BRANCH_MANAGER,
               roles.ACCOUNT_MANAGER)


class ClientSegmentSerializer(serializers.ModelSerializer):
    client_no = serializers.CharField(source="client.client_no")

    class Meta:
        model = ClientSegment
        fields = [
            "client", "client_no", "as_of", "run", "avg_equity", "fund_tier", "activity_class",
            "value_class", "annual_net_fee", "net_fee_window", "active_days", "last_trade_day",
            "rfm_r", "rfm_f", "rfm_m", "rfm_label", "clv", "tenure", "purpose", "loyal",
            "max_risk_degree", "avg_overnight_risk_degree", "capital_utilisation",
            "margin_call_days", "forced_liquidations", "var95", "pnl_volatility", "return_rate",
            "share_volume", "share_equity", "share_net_fee", "quant_score", "quant_class",
            "drivers",
        ]


class SegmentRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = SegmentRun
        fields = [
            "id", "as_of", "state", "is_current", "trigger", "started_at", "finished_at",
            "duration_seconds", "shard_count", "shards_done", "clients", "counts",
            "rule_versions", "error",
        ]


class TriggerSerializer(serializers.Serializer):
    as_of = serializers.DateField(required=False)


class SegmentFilter(filters.FilterSet):
    class Meta:
        model = ClientSegment
        fields = ["fund_tier", "activity_class", "value_class", "quant_class", "rfm_label",
                  "tenure", "purpose", "loyal"]


class SegmentViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The current run's segments of the clients the user may see (`?as_of=` a day)."""

    serializer_class = ClientSegmentSerializer
    filterset_class = SegmentFilter
    ordering_fields = ["avg_equity", "annual_net_fee", "quant_score", "client__client_no"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ClientSegment.objects.none()
        raw = self.request.query_params.get("as_of")
        as_of = None
        if raw:
            try:
                as_of = dt.date.fromisoformat(raw)
            except ValueError as exc:
                raise ValidationError({"as_of": ["Use YYYY-MM-DD."]}) from exc
        return selectors.segments_visible_to(self.request.user, as_of=as_of).order_by(
            "client__client_no"
        )


class SegmentRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                        viewsets.GenericViewSet):
    """Run history; POST {"as_of": …} starts a run (admin)."""

    serializer_class = SegmentRunSerializer
    filterset_fields = ["as_of", "state", "is_current"]

    def get_queryset(self):
        if not roles.has_role(self.request.user, *RUN_VIEWERS):
            return SegmentRun.objects.none()
        return SegmentRun.objects.order_by("-id")

    def get_serializer_class(self):
        if self.action == "create":
            return TriggerSerializer
        return SegmentRunSerializer

    def create(self, request, *args, **kwargs):
        if not roles.has_role(request.user, roles.ADMIN):
            raise PermissionDenied()
        ser = TriggerSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        as_of = ser.validated_data.get("as_of") or selectors.latest_trading_day()
        if as_of is None:
            raise NotFound("No snapshots imported yet.")
        try:
            run = services.recompute(as_of=as_of, trigger="api", user=request.user, wait=False)
        except services.RunInProgress as exc:
            return Response({"detail": str(exc), "errors": {}, "run": exc.run.pk},
                            status=status.HTTP_409_CONFLICT)
        except services.NotATradingDay as exc:
            raise ValidationError({"as_of": [str(exc)]}) from exc
        return Response(SegmentRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)
