import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "brokercrm.settings")

app = Celery("brokercrm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="brokercrm.ping")
def ping() -> str:
    """Answered by a worker: /healthz uses it for a real round-trip."""
    return "pong"
