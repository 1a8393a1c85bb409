"""Load the demo network, accounts and content. Safe to run again: nothing is duplicated."""

import inspect
from importlib import import_module
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

# Each step is a module with `load(stdout=None)`, idempotent, building on the ones before.
# Add one line per area.
DEMO_STEPS = [
    "libraries.network.demo",
    "libraries.catalog.demo",
    "courses.training.demo",
    "courses.classes.demo",
    "libraries.circulation.demo",
    "libraries.digital.demo",
]


class Command(BaseCommand):
    help = "Load a fictional provincial library network with demo accounts for every role."

    def add_arguments(self, parser):
        parser.add_argument(
            "--h5p-dir",
            type=Path,
            help="A folder of .h5p packages to import into the demo lessons.",
        )

    def handle(self, *args, **options):
        h5p_dir = options.get("h5p_dir")
        if h5p_dir is not None and not h5p_dir.is_dir():
            raise CommandError(f"--h5p-dir {h5p_dir} is not a folder.")
        for step in DEMO_STEPS:
            load = import_module(step).load
            extra = {"h5p_dir": h5p_dir} if "h5p_dir" in inspect.signature(load).parameters else {}
            with transaction.atomic():
                load(stdout=self.stdout, **extra)
        self.stdout.write(self.style.SUCCESS("Demo data loaded. Logins are listed in README.md."))
