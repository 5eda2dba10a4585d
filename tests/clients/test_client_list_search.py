"""The searched list: one scan for count + page ids, caseless queries without UPPER()."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import factories


def _nos(response) -> list[str]:
    assert response.status_code == 200
    return [c.client_no for c in response.context["clients"]]


def test_a_search_is_paginated_and_sorted_like_the_list(as_user, manager_a, branch_a):
    for n in range(30):
        factories.ClientFactory(client_no=f"C{5000 + n}", name=f"王{n:02d}", manager=manager_a,
                                branch=branch_a)
    factories.ClientFactory(client_no="C6000", name="李娜", manager=manager_a, branch=branch_a)
    http = as_user(manager_a)

    first = http.get("/clients/", {"q": "王", "sort": "-client_no"})
    second = http.get("/clients/", {"q": "王", "sort": "-client_no", "page": 2})

    assert _nos(first) == [f"C{5000 + n}" for n in range(29, 4, -1)]
    assert _nos(second) == [f"C{5000 + n}" for n in range(4, -1, -1)]
    assert "30 clients" in first.content.decode()
    assert b"Page 1 of 2" in first.content
    assert f'href="/clients/{first.context["clients"][0].pk}/"' in first.content.decode()


def test_a_search_finds_names_in_any_case(as_user, manager_a, branch_a):
    factories.ClientFactory(client_no="C7001", name="Acme Futures", manager=manager_a, branch=branch_a)
    http = as_user(manager_a)

    assert _nos(http.get("/clients/", {"q": "acme"})) == ["C7001"]
    assert _nos(http.get("/clients/", {"q": "FUTURES"})) == ["C7001"]
    assert _nos(http.get("/clients/", {"q": "c700"})) == ["C7001"]


def test_a_search_without_matches_shows_the_empty_list(as_user, manager_a, branch_a):
    factories.ClientFactory(client_no="C8001", name="张伟", manager=manager_a, branch=branch_a)
    http = as_user(manager_a)

    page = http.get("/clients/", {"q": "赵"})

    assert _nos(page) == []
    assert "No clients match." in page.content.decode()


def test_a_searched_page_is_one_scan_and_a_page_fetch(as_user, manager_a, branch_a):
    factories.ClientFactory.create_batch(3, manager=manager_a, branch=branch_a, name="王芳")
    http = as_user(manager_a)
    http.get("/clients/", {"q": "王"})

    with CaptureQueriesContext(connection) as ctx:
        http.get("/clients/", {"q": "王"})

    client_queries = [q["sql"] for q in ctx.captured_queries
                      if q["sql"].lstrip().startswith("SELECT") and 'FROM "clients_client"' in q["sql"]]
    assert not any("COUNT(" in sql for sql in client_queries)
