"""Client ↔ IB links: never two overlapping for one account; moves keep history."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from brokers import services
from brokers.models import BrokerLink
from tests import factories as f
from tests.brokers.factories import BrokerFactory, LinkFactory

pytestmark = pytest.mark.django_db


def test_link_create_refuses_an_overlap_with_the_reason():
    ib1, ib2 = BrokerFactory(code="IB01"), BrokerFactory(code="IB02")
    link = LinkFactory(broker=ib1, valid_from=dt.date(2025, 1, 1), valid_to=dt.date(2025, 12, 31))
    with pytest.raises(ValidationError) as excinfo:
        services.link_create(account=link.account, broker=ib2, valid_from=dt.date(2025, 12, 31))
    assert excinfo.value.message_dict["valid_from"] == [
        f"Overlaps the link IB01 2025-01-01–2025-12-31 of account {link.account.account_id}."]
    services.link_create(account=link.account, broker=ib2, valid_from=dt.date(2026, 1, 1))
    assert BrokerLink.objects.filter(account=link.account).count() == 2


def test_move_closes_the_current_link_and_opens_the_next():
    ib1, ib2, ib3 = BrokerFactory(), BrokerFactory(), BrokerFactory()
    link = LinkFactory(broker=ib1, valid_from=dt.date(2025, 1, 1))
    services.link_move(account=link.account, broker=ib2, on=dt.date(2026, 3, 1))
    services.link_move(account=link.account, broker=ib3, on=dt.date(2026, 11, 16))
    history = [(ln.broker_id, ln.valid_from, ln.valid_to)
               for ln in BrokerLink.objects.filter(account=link.account).order_by("valid_from")]
    assert history == [
        (ib1.id, dt.date(2025, 1, 1), dt.date(2026, 2, 28)),
        (ib2.id, dt.date(2026, 3, 1), dt.date(2026, 11, 15)),
        (ib3.id, dt.date(2026, 11, 16), None),
    ]
    with pytest.raises(ValidationError):  # a move into the past behind a later link
        services.link_move(account=link.account, broker=ib1, on=dt.date(2026, 1, 1))


def test_move_of_an_unlinked_account_opens_a_link():
    account = f.AccountFactory()
    ib = BrokerFactory()
    link = services.link_move(account=account, broker=ib, on=dt.date(2026, 11, 1))
    assert (link.valid_from, link.valid_to) == (dt.date(2026, 11, 1), None)


@pytest.mark.postgres
def test_postgres_refuses_overlapping_links_even_behind_the_services():
    if connection.vendor != "postgresql":
        pytest.skip("the exclusion constraint exists on PostgreSQL only")
    link = LinkFactory(valid_from=dt.date(2025, 1, 1))
    with pytest.raises(IntegrityError), transaction.atomic():
        BrokerLink.objects.create(account=link.account, broker=link.broker,
                                  valid_from=dt.date(2026, 1, 1))


def test_only_finance_edits_links(manager_a):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.link_create(account=f.AccountFactory(), broker=BrokerFactory(),
                             valid_from=dt.date(2026, 1, 1), user=manager_a)
