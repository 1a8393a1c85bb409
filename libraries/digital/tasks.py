"""Background work of the digital collection: loans that end by themselves.

Run `expire_digital_loans` every hour or so (cron: `manage.py expire_digital_loans`, or enqueue
the task from a scheduler). Nothing depends on it being punctual: an ended loan gives no access
after its end (libraries/access.py), and borrowing settles the file's ended loans and offers
first; the run frees the licences and tells the next readers waiting.
"""

from django_tasks import task

from libraries.digital.services import expire


@task()
def expire_digital_loans() -> dict:
    result = expire()
    return {
        "loans_ended": result.loans_ended,
        "offers_expired": result.offers_expired,
        "offers_made": result.offers_made,
    }
