"""Reads. Every page, export, search and API endpoint that lists clients goes
through `clients_visible_to`, so the role rules live here and nowhere else."""

from django.db.models import QuerySet

from . import roles
from .models import Account, Client, Interaction, Prospect, Task


def clients_visible_to(user) -> QuerySet[Client]:
    """Clients the user may see; everything else answers 404.

    admin, compliance, finance: all clients. Branch manager: the clients of their
    branch. Account manager: their own clients. Introducing broker: the clients
    linked to them (brokers.selectors decides which).
    """
    user_roles = roles.user_roles(user)
    qs = Client.objects.all()
    if user_roles & {roles.ADMIN, roles.COMPLIANCE, roles.FINANCE}:
        return qs
    if roles.BRANCH_MANAGER in user_roles:
        branch_id = _branch_id(user)
        managed = qs.filter(branch_id=branch_id) if branch_id else qs.none()
        if roles.ACCOUNT_MANAGER in user_roles:
            managed = managed | qs.filter(manager=user)
        return managed
    if roles.ACCOUNT_MANAGER in user_roles:
        return qs.filter(manager=user)
    if roles.INTRODUCING_BROKER in user_roles:
        from brokers.selectors import client_ids_of_broker_user

        return qs.filter(id__in=client_ids_of_broker_user(user))
    return qs.none()


def accounts_visible_to(user) -> QuerySet[Account]:
    return Account.objects.filter(client__in=clients_visible_to(user))


def interactions_visible_to(user) -> QuerySet[Interaction]:
    return Interaction.objects.filter(client__in=clients_visible_to(user))


def tasks_visible_to(user) -> QuerySet[Task]:
    """Own tasks, plus the tasks on clients the user may see."""
    from django.db.models import Q

    return Task.objects.filter(Q(assignee=user) | Q(client__in=clients_visible_to(user)))


def prospects_visible_to(user) -> QuerySet[Prospect]:
    user_roles = roles.user_roles(user)
    qs = Prospect.objects.all()
    if user_roles & {roles.ADMIN}:
        return qs
    if roles.BRANCH_MANAGER in user_roles:
        return qs.filter(branch_id=_branch_id(user))
    if roles.ACCOUNT_MANAGER in user_roles:
        return qs.filter(owner=user)
    return qs.none()


def _branch_id(user) -> int | None:
    profile = getattr(user, "staff_profile", None)
    return profile.branch_id if profile else None
