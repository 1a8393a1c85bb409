import pytest

from libraries.catalog.services import (
    CatalogError,
    add_items,
    next_barcode,
    next_barcodes,
    save_item,
    save_record,
)
from libraries.models import BarcodeSequence, Item, Record, Role
from tests.factories import LibraryFactory, MembershipFactory
from tests.libraries.catalog.factories import ItemFactory, RecordFactory
from tests.threads import failures, run_together

pytestmark = pytest.mark.usefixtures("english")


@pytest.mark.django_db
def test_barcodes_come_from_the_library_code_and_are_never_reused():
    library = LibraryFactory(code="THCSA")
    assert next_barcode(library) == "THCSA0000001"
    assert next_barcodes(library, 2) == ["THCSA0000002", "THCSA0000003"]
    item = ItemFactory(library=library, barcode="THCSA0000003")
    item.delete()
    assert next_barcode(library) == "THCSA0000004"
    assert BarcodeSequence.objects.get(library=library).last_number == 4


@pytest.mark.django_db
def test_barcodes_already_taken_by_imported_items_are_skipped():
    library = LibraryFactory(code="THE")
    ItemFactory(library=library, barcode="THE0000001")
    ItemFactory(library=library, barcode="THE0000003")
    assert next_barcodes(library, 3) == ["THE0000002", "THE0000004", "THE0000005"]


@pytest.mark.django_db
def test_save_item_fills_barcode_location_and_call_number():
    library = LibraryFactory(code="THF")
    record = RecordFactory(call_number="372.6 T")
    item = save_item(Item(record=record, library=library))
    assert (item.barcode, item.location, item.call_number) == ("THF0000001", library, "372.6 T")
    items = add_items(record=record, library=library, count=2)
    assert [i.barcode for i in items] == ["THF0000002", "THF0000003"]


@pytest.mark.django_db
def test_save_item_refuses_a_used_barcode_and_an_unreachable_library():
    mine, other = LibraryFactory(code="THE"), LibraryFactory(code="THF")
    user = MembershipFactory(library=mine, role=Role.LIBRARIAN).user
    ItemFactory(library=other, barcode="THF0000001")
    record = RecordFactory()
    with pytest.raises(CatalogError, match="THF0000001 is already used by an item of THF"):
        save_item(Item(record=record, library=mine, barcode="thf0000001"), by=user)
    with pytest.raises(CatalogError, match="libraries you work for"):
        save_item(Item(record=record, library=other), by=user)
    assert save_item(Item(record=record, library=mine), by=user).barcode == "THE0000001"


@pytest.mark.django_db
def test_save_record_validates_and_normalises_isbn():
    library = LibraryFactory()
    record = save_record(Record(title="Toán 6", isbn="0-306-40615-2"), library=library)
    assert (record.isbn, record.source_library) == ("9780306406157", library)
    with pytest.raises(CatalogError, match="not a valid ISBN"):
        save_record(Record(title="X", isbn="1234"))
    with pytest.raises(CatalogError, match="needs a title"):
        save_record(Record(title="  "))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_barcode_requests_never_get_the_same_number():
    library = LibraryFactory(code="TVT")
    record = RecordFactory()

    def five_items():
        return [save_item(Item(record=record, library=library)).barcode for _ in range(5)]

    outcomes = run_together([five_items] * 8)
    assert failures(outcomes) == []
    results = [barcode for barcodes in outcomes for barcode in barcodes]
    assert sorted(results) == [f"TVT{n:07d}" for n in range(1, 41)]
    assert BarcodeSequence.objects.get(library=library).last_number == 40
