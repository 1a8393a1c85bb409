import factory

from libraries.models import Item, Record
from tests.factories import LibraryFactory


class RecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Record

    title = factory.Sequence(lambda n: f"Sách số {n}")
    authors = "Nguyễn Văn A"
    year = 2020
    language = "vie"


class ItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Item

    record = factory.SubFactory(RecordFactory)
    library = factory.SubFactory(LibraryFactory)
    location = factory.SelfAttribute("library")
    barcode = factory.Sequence(lambda n: f"T{n:07d}")
    item_type = Item.Type.BOOK
    status = Item.Status.AVAILABLE
