from django.core.management.base import BaseCommand

from libraries.circulation.services import expire_holds


class Command(BaseCommand):
    help = "Close holds not collected in time and pass their copies to the next reader."

    def handle(self, *args, **options):
        self.stdout.write(f"Expired {expire_holds()} holds.")
