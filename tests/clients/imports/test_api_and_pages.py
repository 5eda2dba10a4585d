"""The upload page, history and report pages, and the REST API: one service behind them."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from clients.models import ImportBatch, Trade

from .conftest import BAD, SAMPLES


def upload_file(path, name=None):
    return SimpleUploadedFile(name or path.name, path.read_bytes(), content_type="text/csv")


@pytest.fixture
def admin_client(client, admin_user_role, celery_eager):
    """An admin's browser; the import task runs in-process (no worker in these tests)."""
    client.force_login(admin_user_role)
    return client


def test_api_post_imports_and_get_lists_and_details(admin_client, sample_clients,
                                                    django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post("/api/v1/imports/", {
            "kind": "trades", "file": upload_file(SAMPLES / "trades_cfmmc.csv")})
    assert response.status_code in (201, 202)
    batch_id = response.json()["id"]
    detail = admin_client.get(f"/api/v1/imports/{batch_id}/").json()
    assert (detail["status"], detail["source"], detail["rows"], detail["created"]) == (
        "imported", "api", 51, 51)
    assert detail["uploaded_by"] == "admin1"
    listing = admin_client.get("/api/v1/imports/?kind=trades").json()
    assert [b["id"] for b in listing["results"]] == [batch_id]
    assert Trade.objects.count() == 51


def test_api_reports_every_error_of_a_refused_file(admin_client, sample_clients,
                                                   django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post("/api/v1/imports/", {
            "kind": "trades", "file": upload_file(BAD / "trades_many_errors.csv")})
    detail = admin_client.get(f"/api/v1/imports/{response.json()['id']}/").json()
    assert detail["status"] == "refused" and detail["errors"] == 4
    assert [e["line"] for e in detail["report"]["errors"]] == [2, 4, 5, 6]


def test_api_rejects_an_unknown_kind(admin_client):
    response = admin_client.post("/api/v1/imports/", {
        "kind": "nonsense", "file": upload_file(SAMPLES / "branches.csv")})
    assert response.status_code == 400
    assert "kind" in response.json()["errors"]


@pytest.mark.parametrize("who", ["manager_a", "finance_user", "compliance_user"])
def test_only_admins_may_import(client, request, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get("/api/v1/imports/").status_code == 403
    assert client.post("/api/v1/imports/", {
        "kind": "branches", "file": upload_file(SAMPLES / "branches.csv")}).status_code == 403
    assert client.get(reverse("imports:list")).status_code == 403
    assert client.get(reverse("imports:upload")).status_code == 403


def test_anonymous_is_sent_to_login(client, db):
    response = client.get(reverse("imports:list"))
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert client.get("/api/v1/imports/").status_code in (401, 403)


def test_upload_page_runs_the_import_and_shows_the_report(admin_client, sample_clients,
                                                          django_capture_on_commit_callbacks):
    page = admin_client.get(reverse("imports:upload"))
    assert page.status_code == 200 and b'name="correction"' in page.content
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("imports:upload"), {
            "kind": "trades", "file": upload_file(BAD / "trades_negative_volume.csv")})
    batch = ImportBatch.objects.get(source="upload")
    assert response.status_code == 302
    assert response["Location"] == reverse("imports:detail", args=[batch.pk])
    status = admin_client.get(response["Location"] + "?format=json").json()
    assert status == {"id": batch.pk, "status": "refused", "running": False, "rows": 5,
                      "errors": 1}
    report = admin_client.get(response["Location"]).content.decode()
    assert "must be a whole number greater than zero" in report
    assert "trades_negative_volume.csv" in admin_client.get(reverse("imports:list")).content.decode()


def test_report_page_in_chinese(admin_client, sample_clients, django_capture_on_commit_callbacks):
    admin_client.cookies["django_language"] = "zh-hans"
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("imports:upload"), {
            "kind": "trades", "file": upload_file(BAD / "trades_negative_volume.csv")},
            HTTP_ACCEPT_LANGUAGE="zh-hans")
    report = admin_client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "必须是大于零的整数" in report


def test_pending_batch_page_polls(admin_client):
    batch = ImportBatch.objects.create(kind="trades", file_name="big.csv", status="pending")
    page = admin_client.get(reverse("imports:detail", args=[batch.pk])).content.decode()
    assert "data-poll=" in page and "imports/progress.js" in page
