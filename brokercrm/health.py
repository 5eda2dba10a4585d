"""/healthz: database, broker and worker, each ok / error / not configured."""

from django.conf import settings
from django.db import connection
from django.http import JsonResponse


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except Exception as exc:  # noqa: BLE001 - any failure is reported, not raised
        return f"error: {exc.__class__.__name__}"


def _broker_and_worker(timeout: float) -> tuple[str, str]:
    if not settings.CELERY_BROKER_URL:
        return "eager", "eager"
    from brokercrm.celery import app, ping

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=timeout)
    except Exception as exc:  # noqa: BLE001
        return f"error: {exc.__class__.__name__}", "unknown"
    try:
        # A real round-trip: a worker must take the task and answer.
        answer = ping.apply_async(expires=timeout).get(timeout=timeout)
        return "ok", "ok" if answer == "pong" else "error: bad answer"
    except Exception as exc:  # noqa: BLE001
        return "ok", f"error: {exc.__class__.__name__}"


def healthz(request) -> JsonResponse:
    timeout = float(request.GET.get("timeout", 3))
    database = _database()
    broker, worker = _broker_and_worker(min(timeout, 10.0))
    checks = {"database": database, "broker": broker, "worker": worker}
    healthy = all(value in {"ok", "eager"} for value in checks.values())
    return JsonResponse({"status": "ok" if healthy else "error", **checks}, status=200 if healthy else 503)
