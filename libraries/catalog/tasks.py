"""Background work of the catalog: MARC imports uploaded in the admin.

The uploaded file lives in private storage only until its job has run: it is deleted when
the job finishes, imported or failed, and the job row keeps the report.
"""

import logging

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from libraries.catalog.marc import MarcFileRefused, import_marc
from libraries.models import MarcImportJob
from libraries.network.audit import log_change

IMPORT_ACTION = "libraries.marc_import"
# One audit entry per import (not one per record: a file holds up to tens of thousands),
# with what it did; the job page lists the problems.
LOGGED_COUNTS = ("original_name", "status", "created_count", "updated_count", "failed_count",
                 "items_count")  # fmt: skip

MAX_REPORTED_PROBLEMS = 500

logger = logging.getLogger(__name__)


def _save_progress(job: MarcImportJob, done: int, total: int, result) -> None:
    job.progress = min(99, int(done * 100 / total)) if total else 0
    job.created_count = result.created
    job.updated_count = result.updated + result.unchanged
    job.failed_count = result.failed
    job.items_count = result.items_created
    MarcImportJob.objects.filter(pk=job.pk).update(
        progress=job.progress,
        created_count=job.created_count,
        updated_count=job.updated_count,
        failed_count=job.failed_count,
        items_count=job.items_count,
    )


def run_import_job(job_id: int) -> MarcImportJob:
    """Import the job's file, recording progress as it goes and the problems at the end."""
    job = MarcImportJob.objects.select_related("library").get(pk=job_id)
    if job.status != MarcImportJob.Status.PENDING:
        return job  # already run (a retried task must not import twice)
    job.status = MarcImportJob.Status.RUNNING
    job.save(update_fields=["status"])
    try:
        with job.file.open("rb") as stream:
            result = import_marc(
                stream,
                library=job.library,
                file_format=job.file_format,
                encoding=job.encoding or None,
                total_bytes=job.file.size,
                progress=lambda done, total, res: _save_progress(job, done, total, res),
            )
    except MarcFileRefused as exc:
        job.status = MarcImportJob.Status.FAILED
        job.message = str(exc)
    except Exception as exc:  # noqa: BLE001 - the job page must say what went wrong
        job.status = MarcImportJob.Status.FAILED
        job.message = _("The import stopped: %(e)s") % {"e": exc}
    else:
        job.status = MarcImportJob.Status.DONE
        job.progress = 100
        job.created_count = result.created
        job.updated_count = result.updated + result.unchanged
        job.failed_count = result.failed
        job.items_count = result.items_created
        job.errors = [p.as_dict() for p in result.problems[:MAX_REPORTED_PROBLEMS]]
        job.message = "\n".join(result.warnings[:MAX_REPORTED_PROBLEMS])
    job.finished_at = timezone.now()
    _discard_file(job)
    job.save()
    log_change(
        job,
        IMPORT_ACTION,
        by=job.uploaded_by,
        before={},
        after={name: getattr(job, name) for name in LOGGED_COUNTS},
        library=job.library,
    )
    return job


def _discard_file(job: MarcImportJob) -> None:
    """Delete the imported file; the job keeps its original name and report."""
    if not job.file:
        return
    try:
        job.file.delete(save=False)
    except OSError:
        logger.exception("MARC import %s: could not delete %s", job.pk, job.file.name)


@task()
def import_marc_file(job_id: int) -> None:
    run_import_job(job_id)


def enqueue_import(job: MarcImportJob) -> None:
    transaction.on_commit(lambda: import_marc_file.enqueue(job.pk))
