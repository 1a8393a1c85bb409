from django.core.management.base import BaseCommand

from libraries.digital.services import expire


class Command(BaseCommand):
    help = (
        "End digital loans past their end, pass on licences not borrowed within 48 hours and "
        "offer free licences to the readers waiting. Run it every hour."
    )

    def handle(self, *args, **options):
        result = expire()
        self.stdout.write(
            f"Ended {result.loans_ended} digital loans; {result.offers_expired} offers passed on; "
            f"{result.offers_made} readers told a licence is free."
        )
