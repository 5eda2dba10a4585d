"""REST API of the clients app (/api/v1/). Querysets come from the selectors, so the
API shows exactly what the pages show; writes go through services. No client is
ever deleted through the API."""

from __future__ import annotations

from django.http import Http404
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from brokercrm.api import call_service

from . import filters, roles, selectors, services
from .models import Account, Client, Interaction, Prospect, Task
from .serializers import (
    AccountSerializer,
    ClientContactSerializer,
    ClientSerializer,
    InteractionSerializer,
    ProspectConvertSerializer,
    ProspectMoveSerializer,
    ProspectSerializer,
    ReassignSerializer,
    TaskCompleteSerializer,
    TaskSerializer,
)

WORKING_ROLES = (roles.ACCOUNT_MANAGER, roles.BRANCH_MANAGER, roles.COMPLIANCE, roles.ADMIN)




def _require_working_role(user):
    if not roles.has_role(user, *WORKING_ROLES):
        raise PermissionDenied()


class ClientViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Clients the user may see. PATCH changes contact details; POST reassign/ hands the
    client to another account manager (branch manager, admin)."""

    queryset = Client.objects.none()  # for the schema; get_queryset decides
    serializer_class = ClientSerializer
    filterset_class = filters.ClientFilter
    ordering_fields = ["client_no", "name", "opened_on", "branch__code", "manager__username"]
    ordering = ["client_no"]

    def get_queryset(self):
        return (
            selectors.clients_visible_to(self.request.user)
            .select_related("branch", "manager")
            .prefetch_related("accounts")
            .order_by("client_no")
        )

    def get_serializer_context(self):
        context = super().get_serializer_context()
        user_roles = roles.user_roles(self.request.user)
        context["mask_names"] = user_roles == {roles.INTRODUCING_BROKER}
        return context

    def partial_update(self, request, pk=None):
        client = self.get_object()
        _require_working_role(request.user)
        form = ClientContactSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        unknown = set(request.data) - set(form.fields)
        if unknown:
            raise serializers.ValidationError(
                {name: ["This field cannot be changed here."] for name in sorted(unknown)}
            )
        call_service(services.client_update, client=client, user=request.user,
                     data=form.validated_data)
        return Response(ClientSerializer(client, context=self.get_serializer_context()).data)

    @action(detail=True, methods=["post"], serializer_class=ReassignSerializer)
    def reassign(self, request, pk=None):
        client = self.get_object()
        form = ReassignSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        call_service(services.client_reassign, client=client,
                     manager=form.validated_data["manager"], user=request.user)
        return Response(ClientSerializer(client, context=self.get_serializer_context()).data)


class AccountViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Account.objects.none()  # for the schema; get_queryset decides
    serializer_class = AccountSerializer
    filterset_class = filters.AccountFilter
    ordering_fields = ["account_id", "opened_on", "status"]

    def get_queryset(self):
        return (
            selectors.accounts_visible_to(self.request.user)
            .select_related("client")
            .order_by("account_id")
        )


class VisibleClientsMixin:
    """Write serializers accept only clients the user may see (others: "does not exist")."""

    def get_serializer(self, *args, **kwargs):
        if self.get_serializer_class() is self.serializer_class and not getattr(
            self, "swagger_fake_view", False
        ):
            kwargs["client_queryset"] = selectors.clients_visible_to(self.request.user)
        return super().get_serializer(*args, **kwargs)


class InteractionViewSet(
    VisibleClientsMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet
):
    queryset = Interaction.objects.none()  # for the schema; get_queryset decides
    serializer_class = InteractionSerializer
    filterset_class = filters.InteractionFilter
    ordering_fields = ["occurred_at"]

    def get_queryset(self):
        return (
            selectors.interactions_visible_to(self.request.user)
            .select_related("staff")
            .order_by("-occurred_at", "-id")
        )

    def create(self, request, *args, **kwargs):
        _require_working_role(request.user)
        form = self.get_serializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        interaction = call_service(
            services.interaction_add, client=data["client"], staff=request.user,
            kind=data["kind"], summary=data["summary"], outcome=data.get("outcome", ""),
            occurred_at=data.get("occurred_at"),
        )
        return Response(self.get_serializer(interaction).data, status=status.HTTP_201_CREATED)


class TaskViewSet(VisibleClientsMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    queryset = Task.objects.none()  # for the schema; get_queryset decides
    serializer_class = TaskSerializer
    filterset_class = filters.TaskFilter
    ordering_fields = ["due_on", "created_at"]

    def get_queryset(self):
        return (
            selectors.tasks_visible_to(self.request.user)
            .select_related("client", "assignee")
            .distinct()
            .order_by("due_on", "id")
        )

    def create(self, request, *args, **kwargs):
        _require_working_role(request.user)
        form = self.get_serializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        assignee = data.get("assignee") or request.user
        client = data.get("client")
        if assignee != request.user and not roles.has_role(
            request.user, roles.BRANCH_MANAGER, roles.ADMIN
        ):
            raise serializers.ValidationError({"assignee": ["You can only assign tasks to yourself."]})
        task = call_service(
            services.task_create, assignee=assignee, client=client, kind=data["kind"],
            title=data["title"], due_on=data["due_on"], created_by=request.user,
        )
        return Response(self.get_serializer(task).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"], serializer_class=TaskCompleteSerializer)
    def complete(self, request, pk=None):
        task = self.get_object()
        if task.assignee_id != request.user.pk and not roles.has_role(request.user, *WORKING_ROLES):
            raise Http404
        form = TaskCompleteSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        task = call_service(services.task_complete, task=task, user=request.user,
                            outcome=form.validated_data.get("outcome", ""))
        return Response(TaskSerializer(task, context=self.get_serializer_context()).data)


class ProspectViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    queryset = Prospect.objects.none()  # for the schema; get_queryset decides
    serializer_class = ProspectSerializer
    filterset_class = filters.ProspectFilter
    ordering_fields = ["updated_at", "name", "stage"]

    def get_queryset(self):
        return (
            selectors.prospects_visible_to(self.request.user)
            .select_related("owner", "branch")
            .order_by("-updated_at", "-id")
        )

    def create(self, request, *args, **kwargs):
        if not roles.has_role(request.user, roles.ACCOUNT_MANAGER, roles.BRANCH_MANAGER):
            raise PermissionDenied()
        form = self.get_serializer(data=request.data)
        form.is_valid(raise_exception=True)
        branch = getattr(getattr(request.user, "staff_profile", None), "branch", None)
        prospect = call_service(services.prospect_create, owner=request.user, branch=branch,
                                **form.validated_data)
        return Response(self.get_serializer(prospect).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"], serializer_class=ProspectMoveSerializer)
    def move(self, request, pk=None):
        prospect = self.get_object()
        form = ProspectMoveSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        prospect = call_service(services.prospect_move, prospect=prospect, user=request.user,
                                **form.validated_data)
        return Response(ProspectSerializer(prospect).data)

    @action(detail=True, methods=["post"], serializer_class=ProspectConvertSerializer)
    def convert(self, request, pk=None):
        prospect = self.get_object()
        form = ProspectConvertSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        client = call_service(services.prospect_convert, prospect=prospect, user=request.user,
                              **form.validated_data)
        client = selectors.clients_visible_to(request.user).prefetch_related("accounts").filter(
            pk=client.pk).first() or client
        return Response(ClientSerializer(client).data, status=status.HTTP_201_CREATED)
