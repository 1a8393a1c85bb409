"""Races in real threads, for the concurrency tests (they run on PostgreSQL only)."""

import threading

from django.db import connection


def run_together(jobs) -> list:
    """Run each job in its own thread, all released at the same moment. Returns, in the order
    of `jobs`, what each job returned or the exception it raised; every thread closes its own
    database connection."""
    barrier = threading.Barrier(len(jobs))
    outcomes = [None] * len(jobs)

    def worker(index, job):
        try:
            barrier.wait()
            outcomes[index] = job()
        except Exception as error:  # noqa: BLE001 - handed to the test as an outcome
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def failures(outcomes) -> list[Exception]:
    """The exceptions among `run_together`'s outcomes."""
    return [outcome for outcome in outcomes if isinstance(outcome, Exception)]
