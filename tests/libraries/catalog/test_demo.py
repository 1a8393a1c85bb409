import io

import pytest

from libraries.catalog import demo as demo_catalog
from libraries.catalog.search import Query, search_records
from libraries.models import Item, Record
from tests.factories import LibraryFactory

pytestmark = pytest.mark.django_db


def test_demo_catalog_is_vietnamese_spread_over_demo_libraries_and_idempotent():
    libraries = [LibraryFactory(code=code) for code in ("TVT", "HBT", "THE", "THF")]
    out = io.StringIO()
    demo_catalog.load(stdout=out)
    records, items = Record.objects.count(), Item.objects.count()
    assert records == demo_catalog.TARGET_RECORDS
    assert items > records
    assert set(Item.objects.values_list("library__code", flat=True)) == {"TVT", "HBT", "THE", "THF"}
    assert not Item.objects.exclude(barcode__regex=r"^(TVT|HBT|THE|THF)\d{7}$").exists()
    assert not Item.objects.filter(status__in=["on_loan", "on_hold_shelf", "in_transit"]).exists()
    assert Record.objects.filter(title="Dế Mèn phiêu lưu ký", authors="Tô Hoài").exists()
    assert [r.title for r in search_records(Query(text="de men phieu luu"))] == [
        "Dế Mèn phiêu lưu ký"
    ]
    demo_catalog.load()
    assert (Record.objects.count(), Item.objects.count()) == (records, items)
    assert "records" in out.getvalue() and len(libraries) == 4


def test_demo_catalog_without_libraries_creates_records_only():
    demo_catalog.load()
    assert Record.objects.count() == demo_catalog.TARGET_RECORDS and Item.objects.count() == 0
