import datetime

import factory
from django.utils import timezone

from libraries.circulation.services import check_out, place_hold
from libraries.models import Patron
from tests.factories import LibraryFactory


class PatronFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patron

    card_number = factory.Sequence(lambda n: f"CARD-{n:06d}")
    home_library = factory.SubFactory(LibraryFactory)
    full_name = factory.Sequence(lambda n: f"Trần Thị Bạn Đọc {n}")
    category = Patron.Category.ADULT
    expires_on = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=365))
    status = Patron.Status.ACTIVE
    email = factory.Sequence(lambda n: f"reader{n}@example.org")


def lend(item, patron, *, by, at=None, now=None):
    """Check `item` out to `patron` at `at`'s desk (the item's own library unless told)."""
    return check_out(
        item_barcode=item.barcode,
        card_number=patron.card_number,
        by=by,
        at=at or item.library,
        now=now,
    )


def hold(item, patron, *, by, pickup=None, now=None):
    """Place a hold on `item`'s title for `patron`, to collect at `pickup` (the item's library
    unless told)."""
    return place_hold(
        record=item.record,
        card_number=patron.card_number,
        pickup_library=pickup or item.library,
        by=by,
        now=now,
    )
