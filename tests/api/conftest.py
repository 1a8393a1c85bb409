import pytest
from allauth.account.models import EmailAddress

from libraries.models import Role
from tests.factories import PASSWORD, LibraryFactory, MembershipFactory, UserFactory
from tests.libraries.catalog.factories import ItemFactory, RecordFactory
from tests.libraries.circulation.factories import PatronFactory, lend

LOGIN_URL = "/_allauth/app/v1/auth/login"


def verified(user):
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


def login_token(client, username, password=PASSWORD):
    """Log in as the mobile app does; return the session token (None if refused)."""
    response = client.post(
        LOGIN_URL, {"username": username, "password": password}, content_type="application/json"
    )
    if response.status_code != 200:
        return None
    return response.json()["meta"]["session_token"]


class World:
    """Two schools under a district; a reader with a card (one loan), a reader without a card,
    a student, a librarian of school A, and another library's reader with their own loan."""

    def __init__(self):
        self.district = LibraryFactory(code="HBT", name="Thư viện Hai Bà Trưng", kind="district")
        self.a = LibraryFactory(code="THCSA", name="Thư viện THCS A", parent=self.district)
        self.b = LibraryFactory(code="THCSB", name="Thư viện THCS B", parent=self.district)
        self.librarian = verified(UserFactory(username="thuthu_a"))
        MembershipFactory(user=self.librarian, library=self.a, role=Role.LIBRARIAN)
        self.student = verified(UserFactory(username="hocsinh"))
        MembershipFactory(user=self.student, library=self.a, role=Role.STUDENT)
        self.reader = verified(UserFactory(username="bandoc"))
        MembershipFactory(user=self.reader, library=self.a, role=Role.READER)
        self.patron = PatronFactory(home_library=self.a, user=self.reader, card_number="A000001")
        self.no_card = verified(UserFactory(username="chuacothe"))
        self.other = verified(UserFactory(username="bandoc_b"))
        self.other_patron = PatronFactory(home_library=self.b, user=self.other)
        self.record = RecordFactory(title="Truyện Kiều", authors="Nguyễn Du")
        self.item = ItemFactory(record=self.record, library=self.a, barcode="A0000001")
        self.shelf = ItemFactory(record=self.record, library=self.b, barcode="B0000001")
        self.other_record = RecordFactory(title="Dế Mèn phiêu lưu ký", authors="Tô Hoài")
        self.other_item = ItemFactory(record=self.other_record, library=self.b, barcode="B2")
        self.loan = lend(self.item, self.patron, by=self.librarian).loan
        librarian_b = UserFactory(username="thuthu_b")
        MembershipFactory(user=librarian_b, library=self.b, role=Role.LIBRARIAN)
        self.other_loan = lend(self.other_item, self.other_patron, by=librarian_b).loan


@pytest.fixture
def world(db):
    return World()


@pytest.fixture
def token_client(client):
    """`make(user)`: headers that send `user`'s session token (None: anonymous)."""

    def make(user):
        if user is None:
            return {}
        token = login_token(client, user.username)
        assert token, user.username
        return {"HTTP_X_SESSION_TOKEN": token}

    return make
