"""Reads for the brokers app."""

from django.db.models import QuerySet


def client_ids_of_broker_user(user) -> QuerySet:
    """Ids of the clients linked to the introducing broker this portal user belongs to.

    Placeholder until the brokers issue lands its models: no clients.
    """
    from clients.models import Client

    return Client.objects.none().values("id")
