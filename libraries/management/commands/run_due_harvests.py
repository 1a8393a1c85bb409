"""python manage.py run_due_harvests: the daily OAI-PMH harvests (run it from cron, hourly).

Gives up runs a stopped worker left open, then queues a harvest of every daily source not
harvested in the last day; the task worker (`manage.py db_worker`) runs them.
"""

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from libraries.harvest.tasks import queue_due_harvests


class Command(BaseCommand):
    help = "Queue the daily OAI-PMH harvests that are due (run from cron)."

    def handle(self, *args, **options):
        closed, queued = queue_due_harvests()
        if closed:
            self.stdout.write(_("Runs given up (no worker finished them): %(n)d") % {"n": closed})
        for run in queued:
            self.stdout.write(_("Queued: %(source)s") % {"source": run.source})
        self.stdout.write(_("Harvests queued: %(n)d") % {"n": len(queued)})
