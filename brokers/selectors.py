"""Reads for the brokers app: who sees which IB, statement and client."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import F, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from clients import roles

from .models import (
    BrokerLink,
    BrokerStatus,
    BrokerStatusChange,
    CommissionStatement,
    IntroducingBroker,
)

# 2025 rules: above these the firm files a special report on the IB.
WARN_CLIENTS = 20
WARN_EQUITY = Decimal("2000000")


def links_valid_on(day: dt.date) -> QuerySet[BrokerLink]:
    return BrokerLink.objects.filter(valid_from__lte=day).filter(
        Q(valid_to__isnull=True) | Q(valid_to__gte=day)
    )


def broker_of_user(user) -> IntroducingBroker | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return IntroducingBroker.objects.filter(portal_user=user).first()


def client_ids_of_broker_user(user) -> QuerySet:
    """Ids of the clients with an account linked today to the IB whose portal user is `user`."""
    from clients.models import Client

    broker = broker_of_user(user)
    if broker is None:
        return Client.objects.none().values("id")
    return (
        links_valid_on(timezone.localdate())
        .filter(broker=broker)
        .values("account__client_id")
    )


def is_finance(user) -> bool:
    return roles.has_role(user, roles.FINANCE, roles.ADMIN)


def is_portal_user(user) -> bool:
    """An IB user of the portal (and not also staff with a wider view)."""
    return (
        roles.has_role(user, roles.INTRODUCING_BROKER)
        and not roles.has_role(
            user, roles.FINANCE, roles.ADMIN, roles.COMPLIANCE, roles.BRANCH_MANAGER,
            roles.ACCOUNT_MANAGER,
        )
    )


def status_in_force(day: dt.date | None = None):
    """Each IB's status on `day` (default today) from its status history, as an expression:
    the latest change effective on or before the day; before the first change, the first
    change's status; an IB without any change, its stored status.

    The stored `IntroducingBroker.status` is only refreshed when a status is written, so a
    change dated in the future is not in it once that day comes: lists, filters and the
    API read this instead (same rule as services.broker_status_on).
    """
    day = day or timezone.localdate()
    changes = BrokerStatusChange.objects.filter(broker=OuterRef("pk"))
    in_force = changes.filter(effective_from__lte=day).order_by("-effective_from", "-id")
    first = changes.order_by("effective_from", "id")
    return Coalesce(
        Subquery(in_force.values("status")[:1]), Subquery(first.values("status")[:1]), F("status")
    )


def with_current_status(qs: QuerySet[IntroducingBroker], day: dt.date | None = None):
    """Annotate `current_status`: the status in force on `day` (default today)."""
    return qs.annotate(current_status=status_in_force(day))


def brokers_visible_to(user) -> QuerySet[IntroducingBroker]:
    """Finance/admin: all. IB portal user: its own. Others: the IBs linked today to a
    client they may see (an account manager sees the IBs of their clients).

    Each IB carries `current_status`, the status in force today."""
    qs = with_current_status(IntroducingBroker.objects.all())
    if not getattr(user, "is_authenticated", False):
        return qs.none()
    if is_finance(user):
        return qs
    if is_portal_user(user):
        return qs.filter(portal_user=user)
    from clients.selectors import clients_visible_to

    linked = links_valid_on(timezone.localdate()).filter(
        account__client__in=clients_visible_to(user)
    ).values("broker_id")
    return qs.filter(id__in=linked)


def statements_visible_to(user) -> QuerySet[CommissionStatement]:
    """Finance/admin: all; an IB portal user: its own; everybody else: none."""
    qs = CommissionStatement.objects.select_related("broker")
    if is_finance(user):
        return qs
    if is_portal_user(user):
        return qs.filter(broker__portal_user=user)
    return qs.none()


def may_see_statements(user) -> bool:
    return is_finance(user) or is_portal_user(user)


def masks_clients(user) -> bool:
    """IB portal users see client names and ids masked."""
    return is_portal_user(user)


def broker_clients(broker: IntroducingBroker, *, day: dt.date | None = None, user=None):
    """The accounts linked to the IB on `day` (default today), with client and latest equity.

    With `user`: only the accounts of clients that user may see (clients_visible_to), so an
    account manager opening an IB's page sees their own clients of that IB, not the others'.
    """
    from clients.models import Account, AccountSnapshot

    day = day or timezone.localdate()
    latest = AccountSnapshot.objects.filter(account=OuterRef("pk")).order_by("-trading_day")
    accounts = Account.objects.filter(
        id__in=links_valid_on(day).filter(broker=broker).values("account_id")
    )
    if user is not None and not is_finance(user):
        from clients.selectors import clients_visible_to

        accounts = accounts.filter(client__in=clients_visible_to(user))
    return (
        accounts
        .select_related("client")
        .annotate(latest_equity=Subquery(latest.values("equity")[:1]))
        .order_by("client__client_no", "account_id")
    )


def broker_exposure(broker: IntroducingBroker, *, day: dt.date | None = None, user=None) -> dict:
    """Clients linked today and their total equity from each account's latest snapshot.

    With `user`: only the clients that user may see (as broker_clients)."""
    accounts = list(broker_clients(broker, day=day, user=user))
    clients = {account.client_id for account in accounts}
    equity = sum((a.latest_equity or Decimal("0") for a in accounts), Decimal("0"))
    return {"clients": len(clients), "accounts": len(accounts), "equity": equity}


def broker_warnings(broker: IntroducingBroker, *, day: dt.date | None = None) -> list[str]:
    """The 2025 special-report triggers, plus contract facts finance should act on."""
    day = day or timezone.localdate()
    exposure = broker_exposure(broker, day=day)
    warnings = []
    if exposure["clients"] > WARN_CLIENTS:
        warnings.append(_(
            "%(count)s clients (more than %(limit)s): the firm must file a special report."
        ) % {"count": exposure["clients"], "limit": WARN_CLIENTS})
    if exposure["equity"] > WARN_EQUITY:
        warnings.append(_(
            "Clients' total equity %(equity)s is above %(limit)s: the firm must file a special report."
        ) % {"equity": f"{exposure['equity']:,.2f}", "limit": f"{WARN_EQUITY:,.0f}"})
    from .services import broker_status_on

    if (broker.contract_end and broker.contract_end < day
            and broker_status_on(broker=broker, day=day) == BrokerStatus.ACTIVE):
        warnings.append(_("The contract ended on %(day)s but the status is still active.")
                        % {"day": broker.contract_end})
    return warnings


def link_history(*, account_ids=None, broker=None) -> QuerySet[BrokerLink]:
    qs = BrokerLink.objects.select_related("broker", "account", "account__client")
    if account_ids is not None:
        qs = qs.filter(account_id__in=account_ids)
    if broker is not None:
        qs = qs.filter(broker=broker)
    return qs.order_by("account__account_id", "valid_from")


def statement_totals(qs: QuerySet[CommissionStatement]) -> dict:
    return qs.aggregate(gross=Sum("gross"), payout=Sum("payout"), tax=Sum("tax"),
                        net_pay=Sum("net_pay"))
