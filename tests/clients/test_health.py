"""/healthz: database, broker and a real worker round-trip."""

import pytest


def test_embedded_mode_reports_eager(client, db, settings):
    settings.CELERY_BROKER_URL = ""

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "eager",
                               "worker": "eager"}


@pytest.mark.worker
def test_a_real_worker_answers_through_the_broker(celery_worker_factory, client):
    celery_worker_factory(name="health1")

    response = client.get("/healthz?timeout=10")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok", "worker": "ok"}


@pytest.mark.worker
def test_no_worker_running_is_reported_as_an_error(transactional_db, client, settings):
    if not settings.CELERY_BROKER_URL:
        pytest.skip("no CELERY_BROKER_URL: needs Redis")
    from brokercrm.celery import app

    app.control.purge()
    if app.control.ping(timeout=0.5):
        pytest.skip("another worker is listening on this broker")

    response = client.get("/healthz?timeout=1")

    assert response.status_code == 503
    body = response.json()
    assert (body["status"], body["broker"]) == ("error", "ok")
    assert body["worker"].startswith("error")
    app.control.purge()
