from django.conf import settings
from django.core.management.base import BaseCommand

from libraries.circulation.patrons import anonymise_child_loans
from libraries.digital.services import anonymise_child_digital_loans


class Command(BaseCommand):
    help = "Remove the reader from children's returned loans after a number of days."

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=getattr(settings, "CIRCULATION_ANONYMISE_CHILD_LOANS_AFTER_DAYS", 30),
        )

    def handle(self, *args, days, **options):
        count = anonymise_child_loans(older_than_days=days)
        count += anonymise_child_digital_loans(older_than_days=days)
        self.stdout.write(f"Anonymised {count} returned loans of children older than {days} days.")
