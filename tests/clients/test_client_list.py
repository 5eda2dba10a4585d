"""The client list: search, filters, sort, pagination, CSV export and constant query counts."""

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clients.models.core import ClientType
from tests import factories


def _nos(response) -> list[str]:
    assert response.status_code == 200
    return [c.client_no for c in response.context["clients"]]


@pytest.mark.parametrize(("query", "expected"), [
    ("张", ["C1001"]),                      # name contains
    ("c100", ["C1001", "C1002"]),           # client no. prefix, any case
    ("80001002", ["C1002"]),                # account no.
    ("110101199003076632", ["C1001"]),      # exact ID number, via its keyed hash
    (" 110101199003076632 ", ["C1001"]),
    ("1101011990", []),                      # a fragment of an ID number finds nothing
    ("nobody", []),
])
def test_search(query, expected, book, as_user, admin_user_role):
    http = as_user(admin_user_role)
    assert _nos(http.get("/clients/", {"q": query})) == expected


def test_filters_by_branch_manager_type_and_status(book, as_user, admin_user_role, branch_b, manager_a):
    factories.ClientFactory(client_no="C3001", branch=branch_b, client_type=ClientType.INSTITUTION,
                            closed_on="2025-01-01")
    http = as_user(admin_user_role)

    assert _nos(http.get("/clients/", {"branch": branch_b.pk})) == ["C2001", "C3001"]
    assert _nos(http.get("/clients/", {"manager": manager_a.pk})) == ["C1001", "C1002"]
    assert _nos(http.get("/clients/", {"client_type": "institution"})) == ["C3001"]
    assert _nos(http.get("/clients/", {"status": "closed"})) == ["C3001"]
    assert _nos(http.get("/clients/", {"status": "open"})) == ["C1001", "C1002", "C2001"]
    assert _nos(http.get("/clients/", {"client_type": "bogus", "branch": "x"})) == [
        "C1001", "C1002", "C2001", "C3001"]


def test_sorting(book, as_user, admin_user_role):
    http = as_user(admin_user_role)
    assert _nos(http.get("/clients/", {"sort": "-client_no"})) == ["C2001", "C1002", "C1001"]
    # pinyin order is not promised; code-point order of 张 李 王 is
    assert _nos(http.get("/clients/", {"sort": "name"})) == ["C1001", "C1002", "C2001"]
    assert _nos(http.get("/clients/", {"sort": "-branch"}))[0] == "C2001"
    assert _nos(http.get("/clients/", {"sort": "nonsense"})) == ["C1001", "C1002", "C2001"]


def test_pagination_25_per_page(as_user, manager_a, branch_a):
    factories.ClientFactory.create_batch(30, manager=manager_a, branch=branch_a)
    http = as_user(manager_a)

    first = http.get("/clients/")
    second = http.get("/clients/", {"page": 2})

    assert len(_nos(first)) == 25
    assert len(_nos(second)) == 5
    assert b"Page 1 of 2" in first.content
    assert set(_nos(first)).isdisjoint(_nos(second))


def test_export_honours_search_and_filters_and_masks_id_numbers(book, as_user, admin_user_role, branch_a):
    http = as_user(admin_user_role)
    response = http.get("/clients/export.csv", {"branch": branch_a.pk, "sort": "-client_no"})
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert [r["client_no"] for r in rows] == ["C1002", "C1001"]
    assert rows[1]["id_number"] == "110***********6632"
    assert "110101199003076632" not in text
    assert rows[1]["name"] == "张伟"
    assert rows[1]["manager"] == "am_a"


def test_export_honours_plugged_in_filters(book, as_user, admin_user_role, monkeypatch):
    from clients import selectors

    monkeypatch.setattr(selectors, "app_client_list_filters", lambda request: [{
        "name": "initial", "label": "Initial", "choices": [("张", "张"), ("王", "王")],
        "apply": lambda qs, value: qs.filter(name__startswith=value),
    }])
    http = as_user(admin_user_role)

    page = http.get("/clients/", {"initial": "王"})
    export = b"".join(http.get("/clients/export.csv", {"initial": "王"}).streaming_content)

    assert _nos(page) == ["C2001"]
    assert b'name="initial"' in page.content
    assert export.decode("utf-8-sig").splitlines()[1].startswith("C2001,")


def _list_queries(http, params=None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert http.get("/clients/", params or {}).status_code == 200
    return len(ctx.captured_queries)


def test_query_count_of_the_list_does_not_grow_with_the_number_of_clients(as_user, manager_a, branch_a):
    http = as_user(manager_a)
    factories.AccountFactory.create_batch(5, client__manager=manager_a, client__branch=branch_a)
    few = _list_queries(http)
    few_searched = _list_queries(http, {"q": "C", "sort": "-name"})
    for client in factories.ClientFactory.create_batch(45, manager=manager_a, branch=branch_a):
        factories.AccountFactory.create_batch(2, client=client)
    many = _list_queries(http)
    many_searched = _list_queries(http, {"q": "C", "sort": "-name"})

    assert many == few
    assert many_searched == few_searched
    assert many <= 12


def test_a_very_long_list_says_more_than_the_cap_instead_of_counting_it(as_user, manager_a, branch_a,
                                                                        monkeypatch):
    from clients import views

    monkeypatch.setattr(views, "COUNT_CAP", 3)
    factories.ClientFactory.create_batch(5, manager=manager_a, branch=branch_a)
    page = as_user(manager_a).get("/clients/")

    assert page.context["page"].paginator.capped is True
    assert "More than 3 clients" in page.content.decode()
    assert len(_nos(page)) == 4  # pages stop at the cap + 1 row
