"""django-filter filtersets of the clients API."""

import django_filters

from . import selectors
from .models import Account, Client, Interaction, Prospect, Task


class ClientFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Name, client no., account no. or ID number")
    status = django_filters.ChoiceFilter(
        choices=[("open", "open"), ("closed", "closed")], method="by_status"
    )
    opened_after = django_filters.DateFilter(field_name="opened_on", lookup_expr="gte")
    opened_before = django_filters.DateFilter(field_name="opened_on", lookup_expr="lte")
    branch = django_filters.CharFilter(field_name="branch__code")
    manager = django_filters.CharFilter(field_name="manager__username")

    class Meta:
        model = Client
        fields = ["client_type", "investor_category", "branch", "manager", "client_no"]

    def search(self, queryset, name, value):
        return selectors.client_search(queryset, value)

    def by_status(self, queryset, name, value):
        return selectors.client_filter(queryset, status=value)


class AccountFilter(django_filters.FilterSet):
    client_no = django_filters.CharFilter(field_name="client__client_no")

    class Meta:
        model = Account
        fields = ["status", "client", "account_id"]


class InteractionFilter(django_filters.FilterSet):
    after = django_filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    before = django_filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="lte")

    class Meta:
        model = Interaction
        fields = ["client", "kind", "staff"]


class TaskFilter(django_filters.FilterSet):
    due_before = django_filters.DateFilter(field_name="due_on", lookup_expr="lte")
    due_after = django_filters.DateFilter(field_name="due_on", lookup_expr="gte")

    class Meta:
        model = Task
        fields = ["client", "assignee", "kind", "status", "origin"]


class ProspectFilter(django_filters.FilterSet):
    class Meta:
        model = Prospect
        fields = ["stage", "owner", "branch"]
