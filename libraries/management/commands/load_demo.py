"""Load the demo network, accounts and content. Safe to run again: nothing is duplicated."""

from importlib import import_module

from django.core.management.base import BaseCommand
from django.db import transaction

# Each step is a module with `load(stdout=None)`, idempotent, building on the ones before.
# Add one line per area.
DEMO_STEPS = [
    "libraries.demo_network",
]


class Command(BaseCommand):
    help = "Load a fictional provincial library network with demo accounts for every role."

    def handle(self, *args, **options):
        for step in DEMO_STEPS:
            with transaction.atomic():
                import_module(step).load(stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS("Demo data loaded. Logins are listed in README.md."))
