"""Each role sees exactly its clients — through the list, the page, search, the CSV
export and the API — and gets 404 for anything else."""

import csv
import io

import pytest

from clients import roles
from tests import factories

# role fixture → the client numbers of the `book` fixture it may see
MATRIX = [
    ("manager_a", {"C1001", "C1002"}),
    ("manager_b", {"C2001"}),
    ("branch_manager_a", {"C1001", "C1002"}),
    ("compliance_user", {"C1001", "C1002", "C2001"}),
    ("finance_user", {"C1001", "C1002", "C2001"}),
    ("admin_user_role", {"C1001", "C1002", "C2001"}),
    ("ib_user", set()),
    ("no_role_user", set()),
]
ALL = {"C1001", "C1002", "C2001"}


@pytest.fixture
def ib_user(db):
    return factories.staff_user("ib_x", roles.INTRODUCING_BROKER)


@pytest.fixture
def no_role_user(db):
    return factories.UserFactory(username="nobody")


def _list_client_nos(http, params="") -> set[str]:
    response = http.get(f"/clients/?{params}")
    assert response.status_code == 200
    return {c.client_no for c in response.context["clients"]}


def _export_client_nos(http, params="") -> set[str]:
    response = http.get(f"/clients/export.csv?{params}")
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return {row["client_no"] for row in csv.DictReader(io.StringIO(text))}


@pytest.mark.parametrize(("role", "visible"), MATRIX)
def test_each_role_sees_exactly_its_clients_everywhere(role, visible, request, book, as_user):
    user = request.getfixturevalue(role)
    http = as_user(user)

    assert _list_client_nos(http) == visible
    assert _export_client_nos(http) == visible
    # search for a name of each client: hits only when visible
    for key, client in book.items():
        found = _list_client_nos(http, f"q={client.name}")
        assert (client.client_no in found) is (client.client_no in visible), key
    api = http.get("/api/v1/clients/?page_size=100").json()
    assert {row["client_no"] for row in api["results"]} == visible
    api_accounts = http.get("/api/v1/accounts/").json()
    assert {row["client_no"] for row in api_accounts["results"]} == visible
    for client in book.values():
        expected = 200 if client.client_no in visible else 404
        assert http.get(f"/clients/{client.pk}/").status_code == expected
        assert http.get(f"/api/v1/clients/{client.pk}/").status_code == expected


def test_account_manager_reaching_for_another_managers_client_by_id_gets_404(book, as_user, manager_a):
    http = as_user(manager_a)
    other = book["b1"]

    page = http.get(f"/clients/{other.pk}/")
    api = http.get(f"/api/v1/clients/{other.pk}/")
    post = http.post(f"/clients/{other.pk}/interactions/", {"kind": "call", "summary": "x"})
    api_post = http.post("/api/v1/interactions/", {"client": other.pk, "kind": "call",
                                                   "summary": "x"})

    assert page.status_code == 404
    assert other.name.encode() not in page.content
    assert api.status_code == 404
    assert post.status_code == 404
    assert api_post.status_code == 400
    assert "client" in api_post.json()["errors"]
    assert other.interactions.count() == 0


def test_search_by_id_number_or_account_never_reveals_other_managers_clients(book, as_user, manager_a):
    http = as_user(manager_a)

    assert _list_client_nos(http, "q=80002001") == set()
    assert _list_client_nos(http, "q=80001001") == {"C1001"}
    assert _list_client_nos(http, "q=110101199003076632") == {"C1001"}


def test_unauthenticated_users_are_sent_to_login(book, client):
    assert client.get("/clients/").status_code == 302
    assert client.get("/clients/export.csv").status_code == 302
    assert client.get(f"/clients/{book['a1'].pk}/").status_code == 302
    assert client.get("/api/v1/clients/").status_code in (401, 403)


def test_introducing_broker_sees_only_linked_clients_masked(book, as_user, ib_user):
    from tests.brokers.factories import BrokerFactory, LinkFactory

    broker = BrokerFactory(code="IB900", portal_user=ib_user)
    LinkFactory(broker=broker, account=book["a1"].accounts.get())
    http = as_user(ib_user)

    rows = http.get("/clients/").context["clients"]
    api = http.get("/api/v1/clients/").json()["results"]
    export = b"".join(http.get("/clients/export.csv").streaming_content).decode("utf-8-sig")

    assert [(c.client_no, c.name) for c in rows] == [("C1001", "张*")]
    assert [(r["client_no"], r["name"]) for r in api] == [("C1001", "张*")]
    assert export.splitlines()[1].startswith("C1001,张*,")
    assert "张伟" not in http.get(f"/clients/{book['a1'].pk}/").content.decode()
    assert http.get(f"/clients/{book['a2'].pk}/").status_code == 404
