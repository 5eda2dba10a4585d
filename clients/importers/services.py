"""Uploads (page and API): keep the file, record a pending batch, queue the import.

With a broker the import runs in a worker and the page polls the batch; in the
embedded mode (eager Celery) it has finished when this returns.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import translation

from clients import roles
from clients.models import ImportBatch
from clients.models.activity import ImportStatus


def can_import(user) -> bool:
    """Imports change master data and money for every client: admins only."""
    return roles.is_admin(user)


def upload_dir() -> Path:
    folder = Path(settings.MEDIA_ROOT) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def import_upload(*, kind: str, uploaded_file, correction: bool, source: str, user) -> ImportBatch:
    from clients.tasks import run_import_batch

    name = Path(uploaded_file.name).name[:200]
    path = upload_dir() / f"{uuid.uuid4().hex}_{name}"
    with path.open("wb") as out:
        for chunk in uploaded_file.chunks():
            out.write(chunk)
    batch = ImportBatch.objects.create(
        kind=kind, file_name=name, source=source, correction=correction,
        status=ImportStatus.PENDING, uploaded_by=user if getattr(user, "pk", None) else None,
    )
    language = translation.get_language() or settings.LANGUAGE_CODE
    transaction.on_commit(lambda: run_import_batch.delay(batch.pk, str(path), language))
    batch.refresh_from_db()
    return batch
