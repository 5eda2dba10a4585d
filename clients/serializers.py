"""API shapes. Reads come from selectors; writes are validated here, then done by services."""

from django.contrib.auth import get_user_model
from rest_framework import serializers

from brokercrm.crypto import mask_name

from .models import Account, Client, Interaction, Prospect, Task
from .models.core import (
    ClientType,
    IdType,
    InteractionKind,
    ProspectStage,
    TaskKind,
)


class AccountSerializer(serializers.ModelSerializer):
    client_no = serializers.CharField(source="client.client_no", read_only=True)

    class Meta:
        model = Account
        fields = ["id", "account_id", "client", "client_no", "opened_on", "closed_on", "status"]
        read_only_fields = fields


class ClientSerializer(serializers.ModelSerializer):
    id_number = serializers.CharField(source="id_number_masked", read_only=True)
    branch = serializers.CharField(source="branch.code", read_only=True)
    manager = serializers.CharField(source="manager.username", read_only=True, default=None)
    accounts = serializers.SerializerMethodField()

    class Meta:
        model = Client
        fields = ["id", "client_no", "client_type", "name", "id_type", "id_number", "branch",
                  "manager", "investor_category", "phone", "email", "address", "opened_on",
                  "closed_on", "accounts"]
        read_only_fields = ["id", "client_no", "client_type", "name", "id_type", "id_number",
                            "branch", "manager", "investor_category", "opened_on", "closed_on",
                            "accounts"]

    def get_accounts(self, obj) -> list[str]:
        return [a.account_id for a in obj.accounts.all()]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if self.context.get("mask_names"):
            data["name"] = mask_name(data["name"])
        return data


class ClientContactSerializer(serializers.Serializer):
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    address = serializers.CharField(max_length=300, required=False, allow_blank=True)


class ReassignSerializer(serializers.Serializer):
    manager = serializers.PrimaryKeyRelatedField(queryset=get_user_model().objects.all())


class InteractionSerializer(serializers.ModelSerializer):
    staff = serializers.CharField(source="staff.username", read_only=True)
    kind = serializers.ChoiceField(choices=InteractionKind.choices)

    class Meta:
        model = Interaction
        fields = ["id", "client", "staff", "kind", "occurred_at", "summary", "outcome",
                  "created_at"]
        read_only_fields = ["id", "staff", "created_at"]
        extra_kwargs = {"occurred_at": {"required": False}}

    def __init__(self, *args, client_queryset=None, **kwargs):
        super().__init__(*args, **kwargs)
        if client_queryset is not None:
            self.fields["client"].queryset = client_queryset


class TaskSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=TaskKind.choices)

    class Meta:
        model = Task
        fields = ["id", "assignee", "client", "kind", "title", "due_on", "status", "origin",
                  "outcome", "created_at", "completed_at", "completed_by"]
        read_only_fields = ["id", "status", "origin", "outcome", "created_at", "completed_at",
                            "completed_by"]
        extra_kwargs = {"assignee": {"required": False}}

    def __init__(self, *args, client_queryset=None, **kwargs):
        super().__init__(*args, **kwargs)
        if client_queryset is not None:
            self.fields["client"].queryset = client_queryset


class TaskCompleteSerializer(serializers.Serializer):
    outcome = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class ProspectSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.username", read_only=True)
    branch = serializers.CharField(source="branch.code", read_only=True)

    class Meta:
        model = Prospect
        fields = ["id", "name", "phone", "company", "source", "stage", "owner", "branch",
                  "next_step", "next_step_on", "client", "lost_reason", "notes", "created_at",
                  "updated_at"]
        read_only_fields = ["id", "stage", "owner", "branch", "client", "lost_reason",
                            "created_at", "updated_at"]


class ProspectMoveSerializer(serializers.Serializer):
    stage = serializers.ChoiceField(choices=ProspectStage.choices)
    next_step = serializers.CharField(required=False, allow_blank=True, max_length=200)
    next_step_on = serializers.DateField(required=False, allow_null=True)
    lost_reason = serializers.CharField(required=False, allow_blank=True, max_length=200)


class ProspectConvertSerializer(serializers.Serializer):
    client_no = serializers.CharField(max_length=30)
    account_id = serializers.CharField(max_length=30)
    id_number = serializers.CharField(max_length=40)
    client_type = serializers.ChoiceField(choices=ClientType.choices, default=ClientType.PERSON)
    id_type = serializers.ChoiceField(choices=IdType.choices, default=IdType.RESIDENT_ID)
    opened_on = serializers.DateField(required=False, allow_null=True)
