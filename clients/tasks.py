"""Celery tasks: another door to the import service (HackSoft style: take ids, call
the service)."""

from __future__ import annotations

from celery import shared_task
from django.utils import translation


@shared_task(name="clients.import_drop_folder")
def import_drop_folder_task(drop_dir: str | None = None) -> list[int]:
    from clients.importers.drop import import_drop_folder

    return import_drop_folder(drop_dir=drop_dir)


@shared_task(name="clients.run_import_batch")
def run_import_batch(batch_id: int, path: str, language: str = "en") -> str:
    """Run the import of an uploaded file whose batch the page or API created."""
    from clients.importers.pipeline import import_file
    from clients.models import ImportBatch

    batch = ImportBatch.objects.get(pk=batch_id)
    with translation.override(language):
        batch = import_file(kind=batch.kind, path_or_file=path, file_name=batch.file_name,
                            correction=batch.correction, source=batch.source,
                            user=batch.uploaded_by, batch=batch)
    return batch.status
