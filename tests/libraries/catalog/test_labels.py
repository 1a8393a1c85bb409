import re

import pytest
from django.urls import reverse

from libraries.catalog.labels import LAYOUTS, render_labels
from libraries.models import Role
from tests.factories import LibraryFactory, MembershipFactory
from tests.libraries.catalog.factories import ItemFactory
from tests.pdf_text import pdf_fonts, pdf_text

pytestmark = pytest.mark.django_db


def pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type /Page\b", pdf))


def test_layout_sizes_match_the_sheets():
    sizes = {key: tuple(round(v / 72 * 25.4, 1) for v in layout.size())
             for key, layout in LAYOUTS.items()}  # fmt: skip
    assert sizes == {"3x8": (70.0, 37.0), "2x7": (99.1, 38.1), "4x10": (48.5, 25.4)}


@pytest.mark.parametrize(("layout", "count", "start", "expected"),
                         [("3x8", 24, 1, 1), ("3x8", 25, 1, 2), ("3x8", 5, 21, 2),
                          ("2x7", 14, 1, 1), ("4x10", 41, 1, 2)])  # fmt: skip
def test_labels_fill_sheets_in_order(layout, count, start, expected):
    library = LibraryFactory(code="THE")
    items = [ItemFactory(library=library, barcode=f"THE{n:07d}") for n in range(count)]
    pdf = render_labels(items, layout=layout, start_at=start)
    assert pdf.startswith(b"%PDF") and pages(pdf) == expected


def test_label_view_prints_only_items_the_user_reaches(client):
    mine, other = LibraryFactory(code="THE"), LibraryFactory(code="THF")
    a = ItemFactory(library=mine, barcode="THE0000001", call_number="895.922 N")
    ItemFactory(library=other, barcode="THF0000001")
    client.force_login(MembershipFactory(library=mine, role=Role.LIBRARIAN).user)
    url = reverse("catalog_labels:print")
    assert client.get(url, {"item": [a.pk]}).context["form"].initial["barcodes"] == "THE0000001"
    response = client.post(
        url, {"barcodes": "the0000001\nTHE0000001", "layout": "3x8", "start_at": 1}
    )
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert pages(response.content) == 1
    response = client.post(
        url, {"barcodes": "THE0000001\nTHF0000001", "layout": "3x8", "start_at": 1}
    )
    assert response.status_code == 200
    assert "THF0000001" in str(response.context["form"].errors["barcodes"])


def test_items_listing_links_to_label_printing(client):
    library = LibraryFactory(code="THE")
    item = ItemFactory(library=library, barcode="THE0000009")
    client.force_login(MembershipFactory(library=library, role=Role.LIBRARIAN).user)
    html = client.get(reverse("catalog_items:index")).content.decode()
    assert f"{reverse('catalog_labels:print')}?item={item.pk}" in html


def test_labels_print_vietnamese_call_numbers_in_the_shipped_font():
    """A label holds the barcode digits, the call number (here the record's) and the library."""
    library = LibraryFactory(code="THE")
    item = ItemFactory(
        library=library,
        barcode="THE0000042",
        call_number="",
        record__call_number="895.9223 Đ108",
    )
    pdf = render_labels([item], layout="2x7")
    assert pdf_text(pdf) == "THE0000042\n895.9223 Đ108\nTHE\n"
    assert pdf_fonts(pdf) == {"DejaVuSans"}


def test_a_label_names_the_shelf_beside_the_library():
    from libraries.models import Shelf

    library = LibraryFactory(code="THE")
    shelf = Shelf.objects.create(library=library, code="TN-2", name="Truyện thiếu nhi")
    on_shelf = ItemFactory(library=library, barcode="THE0000001", call_number="895.922 N",
                           shelf=shelf)  # fmt: skip
    loose = ItemFactory(library=library, barcode="THE0000002", call_number="510 T")
    text = pdf_text(render_labels([on_shelf, loose]))
    assert "THE · TN-2" in text
    assert text.count("TN-2") == 1  # the copy without a shelf shows the library code alone
