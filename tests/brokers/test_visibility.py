"""Who sees which IB, statement and client: pages and API. Forbidden → 404."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.utils import timezone

from brokers import services
from brokers.models import CommissionStatement
from clients import roles
from tests import factories as f
from tests.brokers.factories import BrokerFactory, LinkFactory

NOV = dt.date(2026, 11, 1)
pytestmark = pytest.mark.django_db


@pytest.fixture
def world(manager_a, finance_user):
    """IB01 (portal user ib_demo) with manager_a's client 张三丰; IB02 with another client."""
    portal = f.staff_user("ib_demo", roles.INTRODUCING_BROKER)
    ib1 = BrokerFactory(code="IB01", name="赵敏", portal_user=portal)
    ib2 = BrokerFactory(code="IB02", name="钱芳")
    mine = f.AccountFactory(account_id="80000001",
                            client=f.ClientFactory(name="张三丰", manager=manager_a))
    other = f.AccountFactory(account_id="80000002", client=f.ClientFactory(name="李四"))
    LinkFactory(account=mine, broker=ib1, valid_from=dt.date(2025, 1, 1))
    LinkFactory(account=other, broker=ib2, valid_from=dt.date(2025, 1, 1))
    f.TradeFactory(account=mine, trading_day=dt.date(2026, 11, 3), fee=D("10000"), exchange_fee=D("0"))
    f.TradeFactory(account=other, trading_day=dt.date(2026, 11, 3), fee=D("500"), exchange_fee=D("0"))
    services.compute_commissions(month=NOV, user=finance_user)
    return {
        "portal": portal, "ib1": ib1, "ib2": ib2, "mine": mine, "other": other,
        "s1": CommissionStatement.objects.get(broker=ib1),
        "s2": CommissionStatement.objects.get(broker=ib2),
    }


def login(client, user):
    client.force_login(user)
    return client


def test_portal_user_sees_only_its_own_statements_with_clients_masked(client, world):
    login(client, world["portal"])
    assert client.get("/brokers/").url == "/brokers/IB01/"
    page = client.get("/brokers/IB01/").content.decode()
    assert "张**" in page and "张三丰" not in page
    assert client.get("/brokers/IB02/").status_code == 404
    page = client.get(f"/brokers/statements/{world['s1'].pk}/").content.decode()
    assert "张**" in page and "张三丰" not in page and "3707.76" in page
    assert client.get(f"/brokers/statements/{world['s2'].pk}/").status_code == 404
    assert client.get("/brokers/queue/").status_code == 404
    api = client.get("/api/v1/statements/").json()
    assert [s["broker"] for s in api["results"]] == ["IB01"]
    detail = client.get(f"/api/v1/statements/{world['s1'].pk}/").json()
    assert detail["net_pay"] == "3707.76"
    assert detail["lines"][0]["client_name"] == "张**"
    assert client.get(f"/api/v1/statements/{world['s2'].pk}/").status_code == 404
    assert [b["code"] for b in client.get("/api/v1/brokers/").json()["results"]] == ["IB01"]
    # Its clients through the clients selector: only the linked one.
    from clients.selectors import clients_visible_to

    assert list(clients_visible_to(world["portal"]).values_list("name", flat=True)) == ["张三丰"]


def test_portal_client_list_follows_links_valid_today(world):
    from brokers.selectors import client_ids_of_broker_user

    link = world["mine"].broker_links.get()
    services.link_close(link=link, on=timezone.localdate() - dt.timedelta(days=1))
    assert list(client_ids_of_broker_user(world["portal"])) == []


def test_account_manager_sees_the_ib_of_their_clients_but_no_statements(client, world, manager_a):
    login(client, manager_a)
    page = client.get("/brokers/").content.decode()
    assert "IB01" in page and "IB02" not in page
    assert client.get("/brokers/IB01/").status_code == 200
    assert client.get("/brokers/IB02/").status_code == 404
    assert client.get(f"/brokers/statements/{world['s1'].pk}/").status_code == 404
    assert client.get("/api/v1/brokers/IB01/statements/").status_code == 404
    assert client.get("/api/v1/brokers/IB02/").status_code == 404
    assert client.get(f"/api/v1/statements/{world['s1'].pk}/").status_code == 404


def test_finance_sees_everything_and_exports(client, world, finance_user):
    login(client, finance_user)
    page = client.get("/brokers/").content.decode()
    assert "IB01" in page and "IB02" in page
    assert client.get("/brokers/IB02/").status_code == 200
    statements = client.get("/api/v1/brokers/IB01/statements/?month=2026-11").json()["results"]
    assert statements[0]["gross"] == "10000.00" and statements[0]["month"] == "2026-11"
    csv = client.get("/brokers/queue/csv/?month=2026-11").content.decode().splitlines()
    assert csv[0] == "broker_code,month,gross,vat,reserve,protection,base,payout,tax,net_pay,carried"
    assert csv[1] == "IB01,2026-11,10000.00,672.00,500.00,0.00,8828.00,4414.00,706.24,3707.76,0.00"
    assert client.get(f"/brokers/statements/{world['s1'].pk}/csv/").status_code == 200
    queue = client.get("/brokers/queue/?month=2026-11").content.decode()
    assert "Drafts to approve" in queue and "IB02" in queue


def test_api_four_eyes_then_pay(client, world, finance_user):
    s1 = world["s1"]
    login(client, finance_user)
    response = client.post(f"/api/v1/statements/{s1.pk}/approve/")
    assert response.status_code == 400
    assert "approved_by" in response.json()["errors"]
    second = f.staff_user("finance2", roles.FINANCE)
    login(client, second)
    assert client.post(f"/api/v1/statements/{s1.pk}/approve/").json()["state"] == "approved"
    paid = client.post(f"/api/v1/statements/{s1.pk}/pay/",
                       {"paid_on": "2026-12-10", "bank_ref": "CMB-9"}).json()
    assert (paid["state"], paid["paid_on"], paid["bank_ref"]) == ("paid", "2026-12-10", "CMB-9")


def test_portal_user_cannot_approve(client, world):
    login(client, world["portal"])
    assert client.post(f"/api/v1/statements/{world['s1'].pk}/approve/").status_code == 403
    assert client.post(f"/brokers/statements/{world['s1'].pk}/approve/").status_code == 404


def test_finance_pages_move_a_client_and_edit_schemes(client, world, finance_user):
    login(client, finance_user)
    response = client.post("/brokers/links/move/", {"account": "80000001", "broker": "IB02",
                                                    "on": "2026-11-16"})
    assert response.status_code == 302
    history = [(ln.broker.code, ln.valid_to) for ln in world["mine"].broker_links.order_by("valid_from")]
    assert history == [("IB01", dt.date(2026, 11, 15)), ("IB02", None)]
    response = client.post("/brokers/schemes/", {
        "broker": "IB02", "mode": "tiered_whole", "bands": "0:0.4;1000:0.5", "vat_rate": "0.0672",
        "reserve_rate": "0.05", "protection_rate": "0", "other_deductions": "0", "min_payout": "100",
        "valid_from": "2026-11-01"})
    assert response.status_code == 302
    response = client.post("/brokers/schemes/", {
        "broker": "", "mode": "flat", "bands": "0:0.4;1000:0.5", "vat_rate": "0.0672",
        "reserve_rate": "0.05", "protection_rate": "0", "other_deductions": "0", "min_payout": "100",
        "valid_from": "2026-11-01"})
    assert "A flat scheme has one band" in response.content.decode()


def test_register_form_shows_field_errors(client, finance_user):
    login(client, finance_user)
    response = client.post("/brokers/new/", {
        "code": "IB09", "name": "王五", "broker_type": "person", "id_number": "110101199001011234",
        "full_civil_capacity": "", "qualification_no": "", "training_hours": "0", "status": "active",
        "bank_account": "622200", "bank_account_name": "别人"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "A natural person needs a futures qualification certificate." in page
    assert "A natural person must have full civil capacity." in page
    assert "The bank account must be in the broker&#x27;s own name (王五)." in page


def test_register_form_creates_a_broker(client, finance_user):
    from clients.idnumbers import make_resident_id

    login(client, finance_user)
    response = client.post("/brokers/new/", {
        "code": "IB09", "name": "王五", "broker_type": "person",
        "id_number": make_resident_id("11010119900101123"), "full_civil_capacity": "on",
        "qualification_no": "F1", "training_hours": "12", "status": "active",
        "contract_start": "2026-01-01", "bank_account": "622200", "bank_account_name": "王五"})
    assert response.status_code == 302 and response.url == "/brokers/IB09/"


def test_warnings_above_twenty_clients_and_two_million_equity(client, finance_user):
    ib = BrokerFactory(code="IB07")
    for n in range(21):
        account = LinkFactory(broker=ib).account
        f.SnapshotFactory(account=account, equity=D("100000.00"), trading_day=dt.date(2026, 11, 16))
    login(client, finance_user)
    page = client.get("/brokers/IB07/").content.decode()
    assert "21 clients (more than 20)" in page
    assert "2,100,000.00 is above 2,000,000" in page


def test_client_page_panel_and_list_filter(client, world, finance_user):
    from brokers.panels import client_list_filters
    from clients.models import Client

    login(client, finance_user)
    request = client.get("/brokers/").wsgi_request
    (spec,) = client_list_filters(request)
    names = set(spec["apply"](Client.objects.all(), "IB01").values_list("name", flat=True))
    assert names == {"张三丰"}
    page = client.get(f"/clients/{world['mine'].client_id}/").content.decode()
    assert "IB01" in page


def test_dashboard_panels_for_finance_and_the_portal(client, world, finance_user):
    from brokers.panels import dashboard_panels

    login(client, finance_user)
    ((template, context),) = dashboard_panels(client.get("/brokers/").wsgi_request)
    assert (context["drafts"], context["to_pay"]) == (2, 0)
    login(client, world["portal"])
    ((template, context),) = dashboard_panels(client.get("/brokers/IB01/").wsgi_request)
    assert [s.broker.code for s in context["statements"]] == ["IB01"]


def test_pages_speak_chinese(client, world, finance_user):
    login(client, finance_user)
    page = client.get(f"/brokers/statements/{world['s1'].pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "居间报酬结算单" in page and "代扣个人所得税" in page


def test_account_manager_sees_only_their_own_clients_on_the_ib_page(client, world, manager_a, manager_b):
    theirs = f.AccountFactory(account_id="80000009",
                              client=f.ClientFactory(name="周其他", manager=manager_b))
    LinkFactory(account=theirs, broker=world["ib1"], valid_from=dt.date(2025, 1, 1))
    f.SnapshotFactory(account=theirs, equity=D("987654.32"), trading_day=dt.date(2026, 11, 16))
    login(client, manager_a)
    page = client.get("/brokers/IB01/").content.decode()
    assert "80000001" in page and "张三丰" in page
    assert "80000009" not in page and "周其他" not in page and "987654.32" not in page
    assert "Only the clients you may see are counted and listed here." in page


def test_finance_sees_every_client_of_the_ib(client, world, finance_user, manager_b):
    theirs = f.AccountFactory(account_id="80000009",
                              client=f.ClientFactory(name="周其他", manager=manager_b))
    LinkFactory(account=theirs, broker=world["ib1"], valid_from=dt.date(2025, 1, 1))
    login(client, finance_user)
    page = client.get("/brokers/IB01/").content.decode()
    assert "80000001" in page and "80000009" in page and "周其他" in page
    assert "Only the clients you may see are counted and listed here." not in page


def test_a_month_that_does_not_exist_is_refused_on_the_queue_form(client, finance_user):
    login(client, finance_user)
    response = client.post("/brokers/queue/", {"month": "2026-13"})
    assert response.status_code == 200
    assert response.context["form"].errors["month"] == [
        "2026-13 is not a month: write YYYY-MM with a month from 01 to 12."]
    assert not CommissionStatement.objects.exists()


def test_the_queue_form_computes_a_real_month(client, world, finance_user):
    login(client, finance_user)
    response = client.post("/brokers/queue/", {"month": "2026-11"})
    assert (response.status_code, response.url) == (302, "/brokers/queue/?month=2026-11")


def test_api_refuses_to_pay_a_zero_statement(client, finance_user):
    ib = BrokerFactory(code="IB08")
    account = LinkFactory(broker=ib).account
    # 200.00 of fees: the payout 88.28 is below the minimum, so net pay is 0.00 (carried).
    f.TradeFactory(account=account, trading_day=dt.date(2026, 11, 3), fee=D("200.00"),
                   exchange_fee=D("0"))
    services.compute_commissions(month=NOV, user=finance_user)
    statement = CommissionStatement.objects.get(broker=ib)
    services.statement_approve(statement=statement, user=f.staff_user("finance2", roles.FINANCE))
    login(client, finance_user)
    response = client.post(f"/api/v1/statements/{statement.pk}/pay/",
                           {"paid_on": "2026-12-10", "bank_ref": "CMB-9"})
    assert response.status_code == 400
    assert response.json()["errors"]["net_pay"] == [
        "Nothing to pay: the net pay is 0.00. Only a statement with net pay above 0.00 is paid."]
    statement.refresh_from_db()
    assert (statement.state, statement.paid_on) == ("approved", None)
