"""An IB's status is effective-dated: pages, filters and the API show the status in force
today, and editing an IB records a status change only when the user changes the status."""

import datetime as dt
from unittest import mock

import pytest
from django.utils import timezone

from brokers import services
from brokers.models import BrokerStatus
from tests.brokers.factories import BrokerFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def suspended_since_two_days(broker, user):
    """Finance recorded the suspension three days ago, effective from two days ago."""
    with mock.patch.object(timezone, "localdate", return_value=TODAY - dt.timedelta(days=3)):
        services.broker_set_status(broker=broker, status=BrokerStatus.SUSPENDED,
                                   effective_from=TODAY - dt.timedelta(days=2), user=user)


def history(broker):
    return [(c.status, c.effective_from) for c in broker.status_changes.order_by("effective_from")]


def as_submitted(form, **changes):
    """What the browser sends back for the edit page's form, with `changes` typed in."""
    data = {}
    for name, field in form.fields.items():
        value = form[name].value()
        if field.show_hidden_initial:
            data[f"initial-{name}"] = value
        if value is None or value is False:
            continue
        data[name] = "on" if value is True else value.isoformat() if hasattr(value, "isoformat") else value
    data.update(changes)
    return data


@pytest.fixture
def suspended(finance_user):
    broker = BrokerFactory(code="IB05", name="孙立")
    suspended_since_two_days(broker, finance_user)
    return broker


def test_editing_the_bank_name_keeps_a_suspension_in_force(client, finance_user, suspended):
    client.force_login(finance_user)
    form = client.get("/brokers/IB05/edit/").context["form"]
    assert form["status"].value() == BrokerStatus.SUSPENDED
    response = client.post("/brokers/IB05/edit/", as_submitted(form, bank_name="招商银行上海分行"))
    assert (response.status_code, response.url) == (302, "/brokers/IB05/")
    suspended.refresh_from_db()
    assert suspended.bank_name == "招商银行上海分行"
    assert history(suspended) == [(BrokerStatus.ACTIVE, dt.date(2022, 1, 1)),
                                  (BrokerStatus.SUSPENDED, TODAY - dt.timedelta(days=2))]
    assert "Suspended" in client.get("/brokers/IB05/").content.decode()


def test_a_page_opened_before_the_suspension_began_does_not_lift_it(client, finance_user):
    broker = BrokerFactory(code="IB05")
    client.force_login(finance_user)
    with mock.patch.object(timezone, "localdate", return_value=TODAY - dt.timedelta(days=3)):
        form = client.get("/brokers/IB05/edit/").context["form"]  # shows "active"
        services.broker_set_status(broker=broker, status=BrokerStatus.SUSPENDED,
                                   effective_from=TODAY - dt.timedelta(days=2), user=finance_user)
    client.post("/brokers/IB05/edit/", as_submitted(form, training_hours="24"))
    assert history(broker)[-1] == (BrokerStatus.SUSPENDED, TODAY - dt.timedelta(days=2))


def test_changing_the_status_in_the_edit_form_records_it(client, finance_user, suspended):
    client.force_login(finance_user)
    form = client.get("/brokers/IB05/edit/").context["form"]
    client.post("/brokers/IB05/edit/", as_submitted(form, status=BrokerStatus.ACTIVE))
    assert history(suspended)[-1] == (BrokerStatus.ACTIVE, TODAY)


def test_register_and_api_show_and_filter_the_status_in_force_today(client, finance_user, suspended):
    BrokerFactory(code="IB06")
    client.force_login(finance_user)
    page = client.get("/brokers/?status=suspended").content.decode()
    assert "IB05" in page and "IB06" not in page
    assert "IB05" not in client.get("/brokers/?status=active").content.decode()
    api = client.get("/api/v1/brokers/?status=suspended").json()["results"]
    assert [(b["code"], b["status"]) for b in api] == [("IB05", "suspended")]
    assert client.get("/api/v1/brokers/IB06/").json()["status"] == "active"


def test_a_suspension_dated_in_the_future_shows_from_its_day_on(client, finance_user):
    broker = BrokerFactory(code="IB05")
    services.broker_set_status(broker=broker, status=BrokerStatus.SUSPENDED,
                               effective_from=TODAY + dt.timedelta(days=1), user=finance_user)
    client.force_login(finance_user)
    assert client.get("/api/v1/brokers/IB05/").json()["status"] == "active"
    with mock.patch.object(timezone, "localdate", return_value=TODAY + dt.timedelta(days=1)):
        assert client.get("/api/v1/brokers/IB05/").json()["status"] == "suspended"


def test_the_admin_register_shows_and_filters_the_status_in_force(client, admin_user_role, suspended):
    BrokerFactory(code="IB06")
    client.force_login(admin_user_role)
    page = client.get("/admin/brokers/introducingbroker/?status=suspended").content.decode()
    assert "IB05" in page and "IB06" not in page
