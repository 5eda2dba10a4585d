"""REST API: lists through the selectors, writes through services, 400s with field errors."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from clients.models import Client, Interaction, Prospect, Task
from clients.models.core import ProspectStage, TaskStatus
from tests import factories


def _api(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def test_token_auth_lists_own_clients_with_masked_ids_and_accounts(book, manager_a):
    token = Token.objects.create(user=manager_a)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

    body = api.get("/api/v1/clients/").json()

    assert body["count"] == 2
    first = body["results"][0]
    assert (first["client_no"], first["id_number"], first["accounts"], first["branch"],
            first["manager"]) == ("C1001", "110***********6632", ["80001001"], "B01", "am_a")


def test_client_filters_search_and_ordering(book, admin_user_role):
    api = _api(admin_user_role)

    def nos(params):
        return [r["client_no"] for r in api.get("/api/v1/clients/", params).json()["results"]]

    assert nos({"branch": "B02"}) == ["C2001"]
    assert nos({"manager": "am_a"}) == ["C1001", "C1002"]
    assert nos({"q": "80001002"}) == ["C1002"]
    assert nos({"q": "110101199003076632"}) == ["C1001"]
    assert nos({"ordering": "-client_no"}) == ["C2001", "C1002", "C1001"]


def test_patch_contact_details_and_bad_input_changes_nothing(book, manager_a):
    api = _api(manager_a)
    url = f"/api/v1/clients/{book['a1'].pk}/"

    bad = api.patch(url, {"email": "nope", "phone": "1"}, format="json")
    forbidden_field = api.patch(url, {"name": "Renamed"}, format="json")
    good = api.patch(url, {"email": "zw@example.com"}, format="json")

    assert bad.status_code == 400
    assert list(bad.json()["errors"]) == ["email"]
    assert forbidden_field.status_code == 400
    assert list(forbidden_field.json()["errors"]) == ["name"]
    assert good.status_code == 200
    client = Client.objects.get(pk=book["a1"].pk)
    assert (client.name, client.phone, client.email) == ("张伟", "13800001001", "zw@example.com")


def test_clients_cannot_be_created_or_deleted_through_the_api(book, admin_user_role):
    api = _api(admin_user_role)
    assert api.delete(f"/api/v1/clients/{book['a1'].pk}/").status_code == 405
    assert api.post("/api/v1/clients/", {"client_no": "X"}).status_code == 405
    assert Client.objects.count() == 3


def test_create_interaction_and_bad_interaction(book, manager_a):
    api = _api(manager_a)

    created = api.post("/api/v1/interactions/", {"client": book["a1"].pk, "kind": "call",
                                                 "summary": "Margin call explained"})
    bad = api.post("/api/v1/interactions/", {"client": book["a1"].pk, "kind": "shout",
                                             "summary": ""})

    assert created.status_code == 201
    assert created.json()["staff"] == "am_a"
    assert bad.status_code == 400
    assert set(bad.json()["errors"]) == {"kind", "summary"}
    assert Interaction.objects.count() == 1


def test_finance_may_read_but_not_write_interactions(book, finance_user):
    api = _api(finance_user)
    response = api.post("/api/v1/interactions/", {"client": book["a1"].pk, "kind": "call",
                                                  "summary": "x"})
    assert response.status_code == 403
    assert Interaction.objects.count() == 0


def test_tasks_create_complete_and_visibility(book, manager_a, manager_b):
    api = _api(manager_a)
    other = factories.TaskFactory(client=book["b1"], assignee=manager_b)

    created = api.post("/api/v1/tasks/", {"client": book["a1"].pk, "kind": "follow_up",
                                          "title": "Call", "due_on": "2026-12-01"})
    task_id = created.json()["id"]
    completed = api.post(f"/api/v1/tasks/{task_id}/complete/", {"outcome": "Done"})
    bad = api.post("/api/v1/tasks/", {"client": book["a1"].pk, "kind": "x", "title": "",
                                      "due_on": "not a date"})

    assert created.status_code == 201
    assert created.json()["assignee"] == manager_a.pk
    assert completed.json()["status"] == "done"
    assert bad.status_code == 400
    assert set(bad.json()["errors"]) == {"kind", "title", "due_on"}
    assert [t["id"] for t in api.get("/api/v1/tasks/").json()["results"]] == [task_id]
    assert api.post(f"/api/v1/tasks/{other.pk}/complete/").status_code == 404
    assert Task.objects.get(pk=other.pk).status == TaskStatus.OPEN


def test_prospect_create_move_convert(manager_a, branch_a):
    api = _api(manager_a)

    created = api.post("/api/v1/prospects/", {"name": "周九", "source": "Web"}).json()
    moved = api.post(f"/api/v1/prospects/{created['id']}/move/", {"stage": "contacted"})
    skipped = api.post(f"/api/v1/prospects/{created['id']}/move/", {"stage": "converted"})
    bad = api.post(f"/api/v1/prospects/{created['id']}/convert/",
                   {"client_no": "C6001", "account_id": "86006001", "id_number": "123"})
    converted = api.post(f"/api/v1/prospects/{created['id']}/convert/",
                         {"client_no": "C6001", "account_id": "86006001",
                          "id_number": "310104198512121237"})

    assert (created["branch"], created["stage"]) == ("B01", "lead")
    assert moved.json()["stage"] == "contacted"
    assert skipped.status_code == 400
    assert bad.status_code == 400
    assert set(bad.json()["errors"]) == {"id_number"}
    assert converted.status_code == 201
    assert converted.json()["accounts"] == ["86006001"]
    assert Prospect.objects.get().stage == ProspectStage.CONVERTED


def test_api_list_query_count_is_constant(manager_a, branch_a):
    api = _api(manager_a)
    for _ in range(3):
        factories.AccountFactory(client=factories.ClientFactory(manager=manager_a, branch=branch_a))

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert api.get("/api/v1/clients/").status_code == 200
        return len(ctx.captured_queries)

    count()  # warm up: the user's roles are cached on the user object
    few = count()
    for _ in range(30):
        factories.AccountFactory(client=factories.ClientFactory(manager=manager_a, branch=branch_a))
    assert count() == few


def test_openapi_schema_and_docs_page_without_cdn(admin_user_role, client):
    client.force_login(admin_user_role)
    schema = client.get("/api/schema/")
    docs = client.get("/api/docs/")
    html = docs.content.decode()

    assert schema.status_code == 200
    assert b"/api/v1/clients/" in schema.content
    assert docs.status_code == 200
    assert "swagger-ui" in html
    assert "cdn" not in html.lower()
    assert "https://" not in html.replace("https://swagger.io", "")
    static_js = [part.split('"')[0] for part in html.split('src="')[1:]]
    assert static_js and all(src.startswith("/static/") for src in static_js)
    for src in static_js:
        assert client.get(src).status_code == 200
