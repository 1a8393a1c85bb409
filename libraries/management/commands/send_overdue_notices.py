from django.core.management.base import BaseCommand

from libraries.circulation.notices import send_overdue_notices


class Command(BaseCommand):
    help = "Email readers about overdue loans; at most one notice per loan per day."

    def handle(self, *args, **options):
        count = send_overdue_notices()
        self.stdout.write(f"Sent {count} overdue notices.")
