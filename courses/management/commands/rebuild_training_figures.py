from django.core.management.base import BaseCommand

from courses.training.figures import rebuild


class Command(BaseCommand):
    help = "Recompute the per-library training totals of the network dashboard."

    def handle(self, *args, **options):
        self.stdout.write(f"{rebuild()} rows of training figures")
