"""Background jobs on one queue that several workers share (docs/SCALING.md): two
`manage.py db_worker` processes, started as production starts them, take tasks from the same
PostgreSQL queue and no task runs twice (django-tasks-db claims each with SELECT ... FOR UPDATE
SKIP LOCKED)."""

import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.db import transaction
from django.test import override_settings
from django_tasks import task
from django_tasks_db.models import DBTaskResult

from tests.training_site.test_backup import url_of

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
DATABASE_QUEUE = {"default": {"BACKEND": "django_tasks_db.backend.DatabaseBackend"}}
TASKS = 40
WORKERS = ("kb-worker-1", "kb-worker-2")


@task()
def record_run(log: str, number: int) -> int:
    """Append this run to `log` (O_APPEND: lines of several processes never mix), then work a
    little so that both workers hold tasks at the same time."""
    with open(log, "a", encoding="utf-8") as file:
        file.write(f"{number} {os.getpid()}\n")
    time.sleep(0.05)
    return number


class Worker:
    """`manage.py db_worker` in a process of its own, with the production settings."""

    def __init__(self, worker_id: str):
        from django.db import connection

        environ = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
        environ.update(
            DJANGO_SETTINGS_MODULE="training_site.settings.production",
            SECRET_KEY=secrets.token_urlsafe(50),
            DATABASE_URL=url_of(connection.settings_dict["NAME"]),
            LOG_LEVEL="INFO",
            REDIS_URL="",
            SENTRY_DSN="",
        )
        self.process = subprocess.Popen(  # noqa: S603 - our own manage.py
            [
                sys.executable,
                "manage.py",
                "db_worker",
                "--worker-id",
                worker_id,
                "--interval",
                "0.05",
                "--no-startup-delay",
            ],
            cwd=ROOT,
            env=environ,
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
        )
        self.started = threading.Event()
        self.output: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.process.stderr:
            self.output.append(line)
            if "Starting worker" in line:
                self.started.set()

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # graceful: ends the task it runs
        code = self.process.wait(timeout=60)
        self.reader.join(timeout=10)
        return code


def wait_for(condition, *, seconds: float, what: str, workers) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        for worker in workers:
            assert worker.process.poll() is None, "".join(worker.output)[-3000:]
        assert time.monotonic() < deadline, f"{what} did not happen within {seconds} s"
        time.sleep(0.1)


def test_two_worker_processes_share_the_queue_and_run_each_task_once(tmp_path):
    log = tmp_path / "runs.log"
    log.touch()
    workers = []
    try:
        workers = [Worker(worker_id) for worker_id in WORKERS]
        wait_for(
            lambda: all(w.started.is_set() for w in workers),
            seconds=180,
            what="both workers starting",
            workers=workers,
        )
        with override_settings(TASKS=DATABASE_QUEUE), transaction.atomic():
            results = [record_run.enqueue(str(log), number) for number in range(TASKS)]
        ids = [result.id for result in results]
        queue = DBTaskResult.objects.filter(id__in=ids)

        wait_for(
            lambda: queue.filter(status="SUCCESSFUL").count() == TASKS,
            seconds=180,
            what=f"{TASKS} tasks running",
            workers=workers,
        )
    finally:
        codes = [worker.stop() for worker in workers]
    assert codes == [0, 0]

    runs = [line.split() for line in log.read_text().splitlines()]
    assert sorted(int(number) for number, _pid in runs) == list(range(TASKS))  # each once
    pids = {int(pid) for _number, pid in runs}
    assert pids == {worker.process.pid for worker in workers}  # both took their share
    claimed = list(queue.values_list("worker_ids", flat=True))
    assert all(len(ids) == 1 for ids in claimed)  # claimed by one worker, never re-claimed
    assert {ids[0] for ids in claimed} == set(WORKERS)
    assert sorted(queue.values_list("return_value", flat=True)) == list(range(TASKS))
