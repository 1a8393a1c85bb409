"""Children's names across libraries (issue 11, part 4).

Card numbers are sequential and unique across the network. Scanning THCSB-000001, -000002...
at the THCSA desk showed each reader's full name, so any librarian could list every school's
children. A desk now shows a reader only when its staff reach the reader's home library, or
when the reader is an adult of another library whom a circulation rule of the desk's library
lets borrow there. A child is never shown outside their home library and the libraries above
it. Every refusal reads exactly like an unknown card number, and changes nothing.
"""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from libraries.circulation import patrons
from libraries.models import (
    CirculationRule,
    Hold,
    InterLibraryLoan,
    Item,
    Library,
    Loan,
    Patron,
    PatronCategory,
    Role,
)
from tests.factories import LibraryFactory, UserFactory, member
from tests.libraries.catalog.factories import ItemFactory
from tests.libraries.circulation.factories import PatronFactory, lend

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]
JSON = {"HTTP_ACCEPT": "application/json"}

OWN_CHILD_NAME = "Bé Ngọc Ánh Trường A"
SIBLING_CHILD_NAME = "Bé Hoàng Yến Trường B"
SIBLING_ADULT_NAME = "Ông Lại Văn Khách"


class Network:
    """TVT (province) > HBT (district) > THCSA, THCSB (schools); TVT > DDA > THE."""

    def __init__(self):
        self.province = LibraryFactory(code="TVT", name="Thư viện tỉnh", kind="provincial")
        self.district = LibraryFactory(
            code="HBT", name="Thư viện Hai Bà Trưng", kind="district", parent=self.province
        )
        self.a = LibraryFactory(code="THCSA", name="Thư viện THCS A", parent=self.district)
        self.b = LibraryFactory(code="THCSB", name="Thư viện THCS B", parent=self.district)
        self.other_district = LibraryFactory(
            code="DDA", name="Thư viện Đống Đa", kind="district", parent=self.province
        )
        self.e = LibraryFactory(code="THE", name="Thư viện Trường E", parent=self.other_district)
        nine = timezone.localdate() - datetime.timedelta(days=9 * 365)
        self.own_child = PatronFactory(
            home_library=self.a,
            card_number="THCSA-000001",
            full_name=OWN_CHILD_NAME,
            category=PatronCategory.CHILD,
            date_of_birth=nine,
        )
        self.sibling_child = PatronFactory(
            home_library=self.b,
            card_number="THCSB-000001",
            full_name=SIBLING_CHILD_NAME,
            category=PatronCategory.CHILD,
            date_of_birth=nine,
        )
        self.sibling_adult = PatronFactory(
            home_library=self.b,
            card_number="THCSB-000002",
            full_name=SIBLING_ADULT_NAME,
            category=PatronCategory.ADULT,
        )
        self.reader_user = member(self.a, Role.READER, username="ban_doc_a")
        PatronFactory(home_library=self.a, card_number="THCSA-000099", user=self.reader_user)
        self.users = {
            "network_admin": member(self.province, Role.NETWORK_ADMIN, username="mang"),
            "district_admin": member(self.district, Role.LIBRARY_ADMIN, username="quanly_hbt"),
            "librarian": member(self.a, Role.LIBRARIAN, username="thuthu_a"),
            "sibling_librarian": member(self.b, Role.LIBRARIAN, username="thuthu_b"),
            "teacher": member(self.a, Role.TEACHER, username="giaovien_a"),
            "reader": self.reader_user,
            "anonymous": None,
        }

    def allow_adult_visitors_at_a(self):
        """THCSA's rule: adult readers of any library may borrow up to 3 items here."""
        return CirculationRule.objects.create(
            library=self.a, patron_category=PatronCategory.ADULT, loan_days=14, max_loans=3
        )

    def desk_of(self, role: str) -> Library:
        """Where the role works the desk: the sibling school's librarian at THCSB, others at A."""
        return self.b if role == "sibling_librarian" else self.a


@pytest.fixture
def net(db):
    return Network()


ROLES = [
    "network_admin",
    "district_admin",
    "librarian",
    "sibling_librarian",
    "teacher",
    "reader",
    "anonymous",
]
# visiting_adult: the sibling school's adult, with THCSA's rule letting adults borrow there.
TARGETS = ["own_child", "sibling_child", "sibling_adult", "visiting_adult"]
ALL = set(TARGETS)

# Who is named at the role's desk (and may be served there).
SEEN_AT_DESK = {
    "network_admin": ALL,
    "district_admin": ALL,
    "librarian": {"own_child", "visiting_adult"},
    # At THCSB the sibling school's readers are its own; THCSA's child is not.
    "sibling_librarian": {"sibling_child", "sibling_adult", "visiting_adult"},
}
# Whose card the role may list, print and manage: readers of libraries they reach.
CARD_HOLDERS = {
    "network_admin": ALL,
    "district_admin": ALL,
    "librarian": {"own_child"},
    "sibling_librarian": {"sibling_child", "sibling_adult", "visiting_adult"},
    "teacher": set(),
    "reader": set(),
}


def _target(net, target: str) -> Patron:
    if target == "visiting_adult":
        net.allow_adult_visitors_at_a()
        return net.sibling_adult
    return getattr(net, target)


def _login(client, net, role):
    user = net.users[role]
    if user is not None:
        client.force_login(user)
    return user


def _state():
    """Everything a refused desk action could have changed."""
    return (
        list(Loan.objects.order_by("pk").values_list("pk", "item_id", "patron_id")),
        list(Item.objects.order_by("pk").values_list("pk", "status", "location_id")),
        list(Patron.objects.order_by("pk").values_list("pk", "status", "expires_on")),
        list(Hold.objects.order_by("pk").values_list("pk", "status")),
    )


def _scan(client, library, code, mode="checkout"):
    return client.post(
        reverse("libraries:desk_scan"),
        {"library": library.pk, "code": code, "mode": mode},
        **JSON,
    )


def _assert_closed(response, role):
    """Non-staff are turned away from staff pages; anonymous visitors are sent to log in."""
    if role == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))
    else:
        assert response.status_code == 403


# --- the permission matrix -------------------------------------------------------------------


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("role", ROLES)
def test_desk_scan_of_a_card(client, net, role, target):
    patron = _target(net, target)
    _login(client, net, role)
    before = _state()
    response = _scan(client, net.desk_of(role), patron.card_number)
    if role not in SEEN_AT_DESK:
        _assert_closed(response, role)
        assert patron.full_name not in response.content.decode()
    elif target in SEEN_AT_DESK[role]:
        answer = response.json()
        assert (answer["level"], answer["message"]) == (
            "success",
            f"Reader: {patron.full_name} ({patron.card_number})",
        )
        assert patron.full_name in answer["panel"]
        assert client.session["desk_card"] == patron.card_number
    else:
        answer = response.json()
        assert (answer["ok"], answer["level"], answer["message"]) == (
            False,
            "error",
            f"Unknown card number: {patron.card_number}.",
        )
        assert patron.full_name not in response.content.decode()
        assert "desk_card" not in client.session
    assert _state() == before


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("role", ROLES)
def test_check_out_post_with_the_card_in_the_session(client, net, role, target):
    """The card is put into the desk's session by hand, as a forged or stale session would:
    the check-out service itself refuses a reader the desk may not serve."""
    patron = _target(net, target)
    desk = net.desk_of(role)
    item = ItemFactory(library=desk, barcode="SACH0001")
    _login(client, net, role)
    session = client.session
    session["desk_card"] = patron.card_number
    session.save()
    before = _state()
    response = _scan(client, desk, item.barcode)
    if role not in SEEN_AT_DESK:
        _assert_closed(response, role)
        assert _state() == before
    elif target in SEEN_AT_DESK[role]:
        answer = response.json()
        loan = Loan.objects.get()
        assert (loan.item, loan.patron, loan.library) == (item, patron, desk)
        due = timezone.localtime(loan.due_at).strftime("%d/%m/%Y")
        assert (answer["level"], answer["message"]) == ("success", f"Checked out. Due {due}.")
    else:
        answer = response.json()
        assert (answer["ok"], answer["message"]) == (
            False,
            f"Unknown card number: {patron.card_number}.",
        )
        assert patron.full_name not in response.content.decode()
        assert _state() == before
        assert not Loan.objects.exists()
        assert "desk_card" not in client.session


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("role", ROLES)
def test_card_pdf(client, net, role, target):
    patron = _target(net, target)
    _login(client, net, role)
    response = client.get(reverse("libraries:card_pdf", args=[patron.pk]))
    if role == "anonymous":
        _assert_closed(response, role)
    elif target in CARD_HOLDERS[role]:
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert response.content.startswith(b"%PDF")
    else:
        assert response.status_code == 404
        assert patron.full_name not in response.content.decode()


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("role", ROLES)
def test_card_list_search(client, net, role, target):
    patron = _target(net, target)
    _login(client, net, role)
    before = _state()
    response = client.get(reverse("libraries:card_list"), {"q": patron.card_number})
    if role not in CARD_HOLDERS or role in {"teacher", "reader"}:
        _assert_closed(response, role)
    elif target in CARD_HOLDERS[role]:
        assert response.status_code == 200
        assert [card.pk for card in response.context["cards"]] == [patron.pk]
        assert patron.full_name in response.content.decode()
    else:
        assert response.status_code == 200
        assert list(response.context["cards"]) == []
        assert patron.full_name not in response.content.decode()
        assert "No reader cards found." in response.content.decode()
    assert _state() == before


# --- the attack, replayed ---------------------------------------------------------------------


def test_scanning_sequential_numbers_lists_no_other_schools_children(client, net):
    """The attack: at THCSA's desk, scan THE-000001, THE-000002... A real child's card answers
    exactly as a number that was never issued: same status, same message, same panel."""
    admin_e = member(net.e, Role.LIBRARY_ADMIN)
    names = ["Lò Thị Mai", "Vàng A Páo", "Đinh Thị Hoa"]
    for name in names:
        patrons.create_card(
            by=admin_e,
            home_library=net.e,
            full_name=name,
            category=PatronCategory.CHILD,
            guardian_name="Phụ huynh",
        )
    assert sorted(Patron.objects.filter(home_library=net.e).values_list("card_number", flat=True))[
        :3
    ] == ["THE-000001", "THE-000002", "THE-000003"]
    client.force_login(net.users["librarian"])
    before = _state()
    for number in range(1, 6):  # three issued, two never issued
        code = f"THE-{number:06d}"
        response = _scan(client, net.a, code.lower())
        assert response.status_code == 200
        assert response.json() == {
            "ok": False,
            "level": "error",
            "message": f"Unknown card number: {code}.",
            "mode": "checkout",
            "panel": response.json()["panel"],
        }
        body = response.content.decode()
        assert not any(name in body for name in names)
    assert _state() == before
    issued = _scan(client, net.a, "THE-000001").json()
    never = _scan(client, net.a, "THE-000005").json()
    assert {**issued, "message": ""} == {**never, "message": ""}


@pytest.mark.parametrize("mode", ["checkout", "checkin", "renew"])
def test_a_hidden_card_is_unknown_in_every_desk_mode(client, net, mode):
    client.force_login(net.users["librarian"])
    answer = _scan(client, net.a, net.sibling_child.card_number, mode=mode).json()
    assert answer["message"] == "Unknown card number: THCSB-000001."
    assert SIBLING_CHILD_NAME not in answer["panel"]


def test_unknown_card_message_in_vietnamese(client, net):
    client.cookies["django_language"] = "vi"
    client.force_login(net.users["librarian"])
    answer = _scan(client, net.a, net.sibling_child.card_number).json()
    assert answer["message"] == "Không tìm thấy số thẻ: THCSB-000001."


def test_a_card_chosen_while_a_rule_allowed_it_is_dropped_when_the_rule_goes(client, net):
    rule = net.allow_adult_visitors_at_a()
    client.force_login(net.users["librarian"])
    assert _scan(client, net.a, net.sibling_adult.card_number).json()["level"] == "success"
    rule.delete()
    page = client.get(reverse("libraries:desk"), {"library": net.a.pk})
    assert page.context["patron"] is None
    assert SIBLING_ADULT_NAME not in page.content.decode()
    item = ItemFactory(library=net.a)
    answer = _scan(client, net.a, item.barcode).json()
    assert answer["message"] == "Scan the reader's card first."
    assert not Loan.objects.exists()


def test_a_visitor_borrows_only_the_item_types_the_rule_allows(client, net):
    CirculationRule.objects.create(library=net.a, patron_category="adult", max_loans=0)
    CirculationRule.objects.create(
        library=net.a, patron_category="adult", item_type="book", max_loans=2
    )
    book = ItemFactory(library=net.a, item_type="book")
    textbook = ItemFactory(library=net.a, item_type="textbook")
    client.force_login(net.users["librarian"])
    assert _scan(client, net.a, net.sibling_adult.card_number).json()["level"] == "success"
    before = _state()
    refused = _scan(client, net.a, textbook.barcode).json()
    assert refused["message"] == "Readers of other libraries may not borrow this kind of item here."
    assert _state() == before
    assert _scan(client, net.a, book.barcode).json()["message"].startswith("Checked out.")
    assert Loan.objects.get().item == book


def test_the_hold_shelf_slip_names_a_reader_only_where_the_desk_may_see_them(client, net):
    """A copy comes back at THCSA for a hold by THCSB's child (placed before this change, or
    while a rule allowed it): the slip says whose library, not whose name."""
    item = ItemFactory(library=net.a, barcode="SACH0001")
    lend(item, net.own_child, by=net.users["librarian"])
    Hold.objects.create(record=item.record, patron=net.sibling_child, pickup_library=net.a)
    client.force_login(net.users["librarian"])
    answer = _scan(client, net.a, item.barcode, mode="checkin").json()
    assert answer["message"] == "Put on the hold shelf for a reader of THCSB."
    assert SIBLING_CHILD_NAME not in answer["panel"]
    assert Hold.objects.get().status == Hold.Status.READY


def test_the_hold_shelf_slip_names_the_reader_for_staff_who_reach_them(client, net):
    item = ItemFactory(library=net.a, barcode="SACH0001")
    lend(item, net.own_child, by=net.users["librarian"])
    Hold.objects.create(record=item.record, patron=net.sibling_child, pickup_library=net.a)
    client.force_login(net.users["district_admin"])
    answer = _scan(client, net.a, item.barcode, mode="checkin").json()
    assert answer["message"] == f"Put on the hold shelf for {SIBLING_CHILD_NAME} (THCSB-000001)."


def test_an_inter_library_loan_cannot_be_asked_for_a_hidden_child(client, net):
    item = ItemFactory(library=net.e)
    client.force_login(net.users["librarian"])
    before = _state()
    response = client.post(
        reverse("libraries:ill_list"),
        {
            "library": net.a.pk,
            "item_barcode": item.barcode,
            "card_number": net.sibling_child.card_number,
        },
        follow=True,
    )
    body = response.content.decode()
    assert "Unknown card number: THCSB-000001." in body
    assert SIBLING_CHILD_NAME not in body
    assert not InterLibraryLoan.objects.exists()
    assert _state() == before


def test_overdue_list_names_only_readers_the_desk_may_see(client, net):
    """The district admin lent THCSA's copy to THCSB's child at THCSA's desk; THCSA's
    librarian sees the overdue loan, not the child's name."""
    item = ItemFactory(library=net.a)
    long_ago = timezone.now() - datetime.timedelta(days=60)
    lend(item, net.sibling_child, by=net.users["district_admin"], at=net.a, now=long_ago)
    lend(ItemFactory(library=net.a), net.own_child, by=net.users["librarian"], now=long_ago)
    client.force_login(net.users["librarian"])
    page = client.get(reverse("libraries:overdue_list"), {"library": net.a.pk}).content.decode()
    assert SIBLING_CHILD_NAME not in page and "THCSB-000001" not in page
    assert "a reader of THCSB" in page
    assert f"{OWN_CHILD_NAME} (THCSA-000001)" in page
    client.force_login(net.users["district_admin"])
    page = client.get(reverse("libraries:overdue_list"), {"library": net.a.pk}).content.decode()
    assert f"{SIBLING_CHILD_NAME} (THCSB-000001)" in page


def test_a_child_cannot_place_a_hold_to_collect_at_another_school(client, net):
    child_user = UserFactory()
    Patron.objects.filter(pk=net.sibling_child.pk).update(user=child_user)
    item = ItemFactory(library=net.a)
    client.force_login(child_user)
    response = client.post(
        reverse("libraries:place_hold", args=[item.record.pk]),
        {"pickup_library": net.a.pk},
        follow=True,
    )
    assert (
        "This reader cannot collect holds at Thư viện THCS A. Choose their own library."
        in response.content.decode()
    )
    assert not Hold.objects.exists()
    # The district library above the child's school is theirs too.
    client.post(
        reverse("libraries:place_hold", args=[item.record.pk]), {"pickup_library": net.district.pk}
    )
    assert Hold.objects.get().pickup_library == net.district
