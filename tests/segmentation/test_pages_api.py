"""Segmentation pages, the client-page and dashboard panels, list filters, and the API."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from segmentation import services
from segmentation.models import RunState, SegmentRun
from tests.factories import PASSWORD
from tests.segmentation.helpers import account_with_days, business_days

pytestmark = pytest.mark.django_db

T = dt.date(2026, 11, 20)
DAYS = business_days(T, 30)


@pytest.fixture
def segmented(manager_a, manager_b, branch_a, branch_b):
    mine = account_with_days(DAYS, equity=Decimal("6000000"), trades_on=DAYS[-1:],
                             manager=manager_a, branch=branch_a, client_no="A-LARGE").client
    account_with_days(DAYS, equity=Decimal("60000"), manager=manager_a, branch=branch_a,
                      client_no="A-DORMANT")
    theirs = account_with_days(DAYS, equity=Decimal("7000000"), trades_on=DAYS[-1:],
                               manager=manager_b, branch=branch_b, client_no="B-LARGE").client
    services.recompute(as_of=T)
    return mine, theirs


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)


def test_dashboard_shows_only_the_managers_clients(client, segmented, manager_a):
    login(client, manager_a)
    page = client.get(reverse("segmentation:dashboard"))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-tier="large"><td>Large 大型客户</td><td class="num">1</td>' in html
    assert "chart.umd.min.js" in html
    assert "A-LARGE" in html and "B-LARGE" not in html


def test_dashboard_in_chinese_has_chinese_labels(client, segmented, manager_a):
    login(client, manager_a)
    page = client.get(reverse("segmentation:dashboard"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "大型客户" in page.content.decode()
    assert "客户分类" in page.content.decode()


def test_run_history_page(client, segmented, admin_user_role):
    login(client, admin_user_role)
    page = client.get(reverse("segmentation:runs"))
    assert page.status_code == 200
    assert f'data-run="{SegmentRun.objects.get().pk}"' in page.content.decode()


def test_client_page_has_the_segment_panel(client, segmented, manager_a):
    mine, theirs = segmented
    login(client, manager_a)
    page = client.get(reverse("clients:detail", args=[mine.pk]))
    html = page.content.decode()
    assert 'id="segments"' in html and 'id="risk-metrics"' in html
    assert 'data-field="fund_tier">Large 大型客户' in html
    assert client.get(reverse("clients:detail", args=[theirs.pk])).status_code == 404


def test_my_dashboard_lists_dormant_clients_to_call(client, segmented, manager_a):
    login(client, manager_a)
    html = client.get(reverse("clients:dashboard")).content.decode()
    assert 'id="dormant-to-call"' in html and "A-DORMANT" in html


def test_client_list_filters_by_tier(client, segmented, admin_user_role):
    login(client, admin_user_role)
    html = client.get(reverse("clients:list"), {"tier": "large"}).content.decode()
    assert "A-LARGE" in html and "B-LARGE" in html and "A-DORMANT" not in html
    html = client.get(reverse("clients:list"), {"activity_class": "dormant"}).content.decode()
    assert "A-DORMANT" in html and "A-LARGE" not in html


def test_api_segments_are_filtered_by_visibility(segmented, manager_a):
    api = APIClient()
    api.force_authenticate(manager_a)
    data = api.get("/api/v1/segments/", {"as_of": T.isoformat()}).json()
    assert [row["client_no"] for row in data["results"]] == ["A-DORMANT", "A-LARGE"]
    large = data["results"][1]
    assert large["fund_tier"] == "large" and large["avg_equity"] == "6000000.00"
    assert api.get("/api/v1/segments/", {"as_of": "2026-01-01"}).json()["count"] == 0
    assert api.get("/api/v1/segments/", {"as_of": "nope"}).status_code == 400


def test_api_runs_and_trigger(segmented, admin_user_role, manager_a):
    api = APIClient()
    api.force_authenticate(manager_a)
    assert api.get("/api/v1/segments/runs/").json()["count"] == 1
    assert api.post("/api/v1/segments/runs/", {"as_of": T.isoformat()}).status_code == 403
    api.force_authenticate(admin_user_role)
    response = api.post("/api/v1/segments/runs/", {"as_of": T.isoformat()}, format="json")
    assert response.status_code == 202
    assert response.json()["state"] == RunState.DONE  # eager: already complete
    assert SegmentRun.objects.filter(as_of=T, is_current=True).get().pk == response.json()["id"]


def test_api_trigger_while_a_run_is_alive_answers_409(segmented, admin_user_role):
    services.run_start(as_of=T)
    api = APIClient()
    api.force_authenticate(admin_user_role)
    response = api.post("/api/v1/segments/runs/", {"as_of": T.isoformat()}, format="json")
    assert response.status_code == 409
