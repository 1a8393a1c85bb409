"""Harvests run by the task worker: "harvest now" in the staff area, and the daily schedule.

django-tasks has no clock of its own, so the schedule is `manage.py run_due_harvests`, run
by cron (hourly, or daily): it gives up runs a stopped worker left open, then queues one
run per daily source not harvested in the last day; the worker (`manage.py db_worker`)
harvests them.
"""

from django.db import transaction
from django_tasks import task

from libraries.harvest.services import (
    HarvestRefused,
    close_stale_runs,
    due_sources,
    queue_run,
    run_queued,
)
from libraries.models import HarvestRun, HarvestSource


@task()
def harvest_source(run_id: int) -> None:
    run_queued(run_id)


def enqueue_run(run: HarvestRun) -> None:
    transaction.on_commit(lambda: harvest_source.enqueue(run.pk))


def start_harvest(*, source: HarvestSource, by=None) -> HarvestRun:
    """Queue a harvest now for the worker (HarvestRefused while one waits or runs)."""
    run = queue_run(source=source, trigger=HarvestRun.Trigger.MANUAL, by=by)
    enqueue_run(run)
    return run


def queue_due_harvests() -> tuple[int, list[HarvestRun]]:
    """Close stale runs, then queue the daily sources that are due: (closed, queued)."""
    closed = close_stale_runs()
    queued = []
    for source in due_sources():
        try:
            run = queue_run(source=source, trigger=HarvestRun.Trigger.SCHEDULE)
        except HarvestRefused:
            continue  # a run was queued in the meantime
        enqueue_run(run)
        queued.append(run)
    return closed, queued
