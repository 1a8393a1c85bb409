import datetime

import factory
from django.utils import timezone

from libraries.models import Item, Patron, Record
from tests.factories import LibraryFactory


class RecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Record

    title = factory.Sequence(lambda n: f"Truyện Kiều tập {n}")
    authors = "Nguyễn Du"


class ItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Item

    record = factory.SubFactory(RecordFactory)
    library = factory.SubFactory(LibraryFactory)
    location = factory.SelfAttribute("library")
    barcode = factory.Sequence(lambda n: f"IT{n:08d}")
    item_type = Item.Type.BOOK


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
