import datetime

import pytest
from django.urls import reverse

from libraries.models import Loan, Patron
from tests.factories import UserFactory
from tests.libraries.catalog.factories import ItemFactory
from tests.libraries.circulation.factories import PatronFactory, lend
from tests.pdf_text import pdf_fonts, pdf_text

pytestmark = pytest.mark.django_db
JSON = {"HTTP_ACCEPT": "application/json"}


def scan(client, library, code, mode="checkout", **extra):
    data = {"library": library.pk, "code": code, "mode": mode}
    return client.post(reverse("libraries:desk_scan"), data, **extra)


def test_desk_needs_a_staff_role(client, network):
    client.force_login(UserFactory())
    assert client.get(reverse("libraries:desk")).status_code == 403
    client.logout()
    assert client.get(reverse("libraries:desk")).status_code == 302


def test_desk_library_selector_lists_only_reachable_libraries(client, network):
    client.force_login(network.librarian_a)
    page = client.get(reverse("libraries:desk"), {"library": network.b.pk})
    assert page.context["library"] == network.a
    assert list(page.context["libraries"]) == [network.a]
    client.force_login(network.admin)
    page = client.get(reverse("libraries:desk"), {"library": network.b.pk})
    assert page.context["library"] == network.b
    assert set(page.context["libraries"]) == {network.district, network.a, network.b}
    assert b"autofocus" in page.content


def test_scan_card_then_items_by_json(client, network):
    patron = PatronFactory(home_library=network.a, full_name="Phạm Minh Châu")
    item = ItemFactory(library=network.a)
    client.force_login(network.librarian_a)
    answer = scan(client, network.a, patron.card_number.lower(), **JSON).json()
    assert answer["level"] == "success" and "Phạm Minh Châu" in answer["message"]
    answer = scan(client, network.a, item.barcode, **JSON).json()
    assert answer["ok"] and answer["message"].startswith("Checked out.")
    assert item.barcode in answer["panel"]
    again = scan(client, network.a, item.barcode, **JSON).json()
    assert again["level"] == "warning" and "Already on loan" in again["message"]
    refused = scan(client, network.a, "KHONGCO", **JSON).json()
    assert refused == {
        **refused,
        "ok": False,
        "level": "error",
        "message": "Unknown barcode: KHONGCO.",
    }
    back = scan(client, network.a, item.barcode, mode="checkin", **JSON).json()
    assert back["message"] == "Checked in. Put it back on the shelf."
    assert Loan.objects.get().returned_at is not None


def test_checkout_without_a_card_is_refused(client, network):
    item = ItemFactory(library=network.a)
    client.force_login(network.librarian_a)
    answer = scan(client, network.a, item.barcode, **JSON).json()
    assert answer["message"] == "Scan the reader's card first." and not answer["ok"]


def test_desk_works_without_javascript(client, network):
    patron = PatronFactory(home_library=network.a)
    item = ItemFactory(library=network.a)
    client.force_login(network.librarian_a)
    assert scan(client, network.a, patron.card_number).status_code == 302
    response = scan(client, network.a, item.barcode, follow=True)
    assert "Checked out." in response.content.decode()
    assert Loan.objects.filter(patron=patron, item=item).exists()


def test_a_librarian_never_sees_another_schools_readers(client, network):
    mine = PatronFactory(home_library=network.a, full_name="Học sinh A")
    theirs = PatronFactory(home_library=network.b, full_name="Học sinh B")
    client.force_login(network.librarian_a)
    listing = client.get(reverse("libraries:card_list")).content.decode()
    assert "Học sinh A" in listing and "Học sinh B" not in listing
    assert client.get(reverse("libraries:card_pdf", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("libraries:card_renew", args=[theirs.pk])).status_code == 404
    pdf = client.get(reverse("libraries:card_pdf", args=[mine.pk]))
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")


def test_staff_issue_a_card_at_the_desk(client, network):
    client.force_login(network.librarian_a)
    response = client.post(
        reverse("libraries:card_new"),
        {"home_library": network.a.pk, "full_name": "Đỗ Thu Hà", "category": "teacher"},
    )
    assert response.status_code == 302
    patron = Patron.objects.get()
    assert (patron.card_number, patron.category) == ("THCSA-000001", "teacher")
    child = client.post(
        reverse("libraries:card_new"),
        {
            "home_library": network.a.pk,
            "full_name": "Bé Bi",
            "category": "student",
            "date_of_birth": (datetime.date.today() - datetime.timedelta(days=9 * 365)).isoformat(),
        },
    )
    assert child.status_code == 200
    assert "guardian" in child.context["form"].errors["guardian_name"][0]
    refused = client.post(
        reverse("libraries:card_new"),
        {"home_library": network.b.pk, "full_name": "X", "category": "adult"},
    )
    assert "home_library" in refused.context["form"].errors
    assert Patron.objects.count() == 1


def test_overdue_list_is_per_library(client, network):
    from django.utils import timezone

    patron = PatronFactory(home_library=network.a, full_name="Người Trễ Hạn")
    item = ItemFactory(library=network.a)
    lend(item, patron, by=network.librarian_a, now=timezone.now() - datetime.timedelta(days=60))
    client.force_login(network.librarian_a)
    assert "Người Trễ Hạn" in client.get(reverse("libraries:overdue_list")).content.decode()
    client.force_login(network.librarian_b)
    assert "Người Trễ Hạn" not in client.get(reverse("libraries:overdue_list")).content.decode()


def test_block_unblock_and_link_an_account_from_the_card_list(client, network):
    patron = PatronFactory(home_library=network.a)
    reader = UserFactory(username="ban_doc_1", email="bandoc1@example.org")
    url = reverse("libraries:card_update", args=[patron.pk])
    client.force_login(network.librarian_a)
    client.post(url, {"action": "block", "reason": ""})
    patron.refresh_from_db()
    assert patron.status == "active"
    client.post(url, {"action": "block", "reason": "Mất sách chưa đền"})
    patron.refresh_from_db()
    assert (patron.status, patron.blocked_reason) == ("blocked", "Mất sách chưa đền")
    client.post(url, {"action": "unblock"})
    patron.refresh_from_db()
    assert (patron.status, patron.blocked_reason) == ("active", "")
    client.post(url, {"action": "link", "login": "BANDOC1@example.org"})
    patron.refresh_from_db()
    assert patron.user == reader
    other = PatronFactory(home_library=network.a)
    response = client.post(
        reverse("libraries:card_update", args=[other.pk]),
        {"action": "link", "login": "ban_doc_1"},
        follow=True,
    )
    assert "already linked" in response.content.decode()
    client.force_login(network.librarian_b)
    assert client.post(url, {"action": "unblock"}).status_code == 404


def test_reader_card_pdf_prints_the_vietnamese_name(client, network):
    patron = PatronFactory(
        home_library=network.a,
        full_name="Nguyễn Thị Hồng Đào",
        card_number="THCSA-000123",
        expires_on=datetime.date(2027, 5, 31),
    )
    client.force_login(network.librarian_a)
    response = client.get(reverse("libraries:card_pdf", args=[patron.pk]))
    assert response["Content-Disposition"] == 'inline; filename="card-THCSA-000123.pdf"'
    assert pdf_text(response.content) == (
        "Thư viện THCS A\nREADER CARD\nNguyễn Thị Hồng Đào\nCard number: THCSA-000123\n"
        "Valid until: 31/05/2027\nTHCSA-000123\n"
    )
    assert pdf_fonts(response.content) == {"DejaVuSans", "DejaVuSans-Bold"}


def test_the_desk_says_which_shelf_a_copy_belongs_on(client, network):
    from libraries.models import Shelf

    shelf = Shelf.objects.create(library=network.a, code="A1", name="Truyện thiếu nhi")
    on_shelf = ItemFactory(library=network.a, shelf=shelf)
    loose = ItemFactory(library=network.a)
    patron = PatronFactory(home_library=network.a)
    client.force_login(network.librarian_a)
    scan(client, network.a, patron.card_number, **JSON)
    out = scan(client, network.a, on_shelf.barcode, **JSON).json()
    assert out["ok"] and out["message"].endswith(" Shelf: A1 · Truyện thiếu nhi.")
    assert "Shelf:" not in scan(client, network.a, loose.barcode, **JSON).json()["message"]
    back = scan(client, network.a, on_shelf.barcode, mode="checkin", **JSON).json()
    assert back["message"] == "Checked in. Put it back on the shelf. Shelf: A1 · Truyện thiếu nhi."
    assert scan(client, network.a, loose.barcode, mode="checkin", **JSON).json()["message"] == (
        "Checked in. Put it back on the shelf."
    )


def test_a_copy_going_home_does_not_name_its_shelf(client, network):
    from libraries.models import Shelf

    shelf = Shelf.objects.create(library=network.a, code="A1")
    item = ItemFactory(library=network.a, shelf=shelf)
    patron = PatronFactory(home_library=network.a)
    lend(item, patron, by=network.librarian_a)
    client.force_login(network.admin)  # works at school B's desk too
    back = scan(client, network.b, item.barcode, mode="checkin", **JSON).json()
    assert back["ok"] and "Shelf:" not in back["message"]
