"""REST door: POST /api/v1/imports/ (multipart kind, file, correction), GET list/detail."""

from __future__ import annotations

from django.db import transaction
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from clients.models import ImportBatch
from clients.models.activity import ImportStatus

from .base import REGISTRY
from .services import can_import, import_upload


class CanImport(permissions.BasePermission):
    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and can_import(request.user))


class ImportBatchSerializer(serializers.ModelSerializer):
    duration_seconds = serializers.FloatField(read_only=True, allow_null=True)
    uploaded_by = serializers.CharField(source="uploaded_by.username", read_only=True,
                                        default=None)

    class Meta:
        model = ImportBatch
        fields = ["id", "kind", "file_name", "source", "correction", "status", "encoding",
                  "sha256", "rows", "created", "updated", "unchanged", "errors", "report",
                  "uploaded_by", "started_at", "finished_at", "created_at", "duration_seconds"]
        read_only_fields = fields


class ImportUploadSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=[])
    file = serializers.FileField()
    correction = serializers.BooleanField(default=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = sorted(REGISTRY)


class ImportBatchViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                         mixins.CreateModelMixin, viewsets.GenericViewSet):
    queryset = ImportBatch.objects.select_related("uploaded_by")
    serializer_class = ImportBatchSerializer
    permission_classes = [CanImport]
    parser_classes = [MultiPartParser, FormParser]
    filterset_fields = ["kind", "status", "source"]
    ordering_fields = ["created_at", "id"]

    def get_serializer_class(self):
        return ImportUploadSerializer if self.action == "create" else ImportBatchSerializer

    def create(self, request, *args, **kwargs):
        upload = ImportUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        with transaction.atomic():
            batch = import_upload(
                kind=upload.validated_data["kind"], uploaded_file=upload.validated_data["file"],
                correction=upload.validated_data["correction"], source="api", user=request.user,
            )
        batch.refresh_from_db()
        finished = batch.status not in (ImportStatus.PENDING, ImportStatus.RUNNING)
        return Response(ImportBatchSerializer(batch).data,
                        status=status.HTTP_201_CREATED if finished else status.HTTP_202_ACCEPTED)
