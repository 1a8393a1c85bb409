import io
import uuid
import zipfile

import pytest
from allauth.account.models import EmailAddress
from django.core.files import File
from django.core.files.images import ImageFile
from wagtail.documents.models import Document
from wagtail.images.models import Image

from courses.training.progress import enrol
from libraries.models import Role
from tests.courses.training.factories import (
    h5p_block,
    h5p_package,
    make_course,
    make_lesson,
    quiz_block,
    text_block,
)
from tests.factories import PASSWORD, LibraryFactory, MembershipFactory, UserFactory
from tests.fixture_files import FIXTURES
from tests.libraries.catalog.factories import ItemFactory, RecordFactory
from tests.libraries.circulation.factories import PatronFactory, lend

LOGIN_URL = "/_allauth/app/v1/auth/login"
# Real files: the photo inside an H5P greeting card, a MARCXML file (tests/fixtures/).
EARTH = (FIXTURES / "h5p" / "greetingcard-minimal__lumi_greetingcard1.h5p", "content/earth.jpg")
MARC_XML = FIXTURES / "marc" / "traject_test_data.utf8.marc.xml"


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


class Lessons:
    """A students' course of three lessons, the reader enrolled; the second lesson holds one
    block of each kind: text with links, an image, a video, a document, an H5P activity and a
    native quiz. A second course's lesson, to ask for under the wrong course."""

    def __init__(self, world):
        self.image = Image.objects.create(
            title="Trái Đất", file=ImageFile(io.BytesIO(_zip_entry(EARTH)), name="earth.jpg")
        )
        self.document = Document.objects.create(
            title="Hồ sơ MARC mẫu", file=File(MARC_XML.open("rb"), name="mau.marc.xml")
        )
        self.course = make_course(title="Em học thư viện số", audience="students")
        self.text = text_block(
            f'<p>Xem <a linktype="page" id="{self.course.pk}">khoá học</a>, '
            f'<a linktype="document" id="{self.document.pk}">tài liệu</a>, '
            '<a href="/catalog/?q=truyen&amp;available=on">mục lục</a> và '
            '<a href="https://vi.wikipedia.org/wiki/Th%C6%B0_vi%E1%BB%87n" title="a &quot;b&gt;">'
            'Wikipedia</a>.</p><hr/><script>alert(1)</script><p onclick="x()">Hết.</p>'
        )
        self.h5p = h5p_block(package=h5p_package("Đúng hay sai"), pass_mark=50)
        self.quiz = quiz_block(required=False)
        blocks = [
            self.text,
            {"type": "image", "id": str(uuid.uuid4()),
             "value": {"image": self.image.pk, "alt_text": "Quả địa cầu", "decorative": False}},
            {"type": "video", "id": str(uuid.uuid4()),
             "value": "https://www.youtube.com/watch?v=dQw4w9WgXcQ"},
            {"type": "document", "id": str(uuid.uuid4()),
             "value": {"document": self.document.pk, "title": "Tải hồ sơ mẫu"}},
            self.h5p,
            self.quiz,
        ]  # fmt: skip
        self.first = make_lesson(self.course, title="Bài 1")
        self.lesson = make_lesson(self.course, title="Bài 2", intro="Mọi loại khối", blocks=blocks)
        self.last = make_lesson(self.course, title="Bài 3")
        enrol(user=world.reader, course=self.course)
        self.other_course = make_course(title="Khoá khác")
        self.other_lesson = make_lesson(self.other_course, title="Bài khác")

    def url(self, lesson=None, course=None):
        lesson, course = lesson or self.lesson, course or self.course
        return f"/api/v1/courses/{course.pk}/lessons/{lesson.pk}"


def _zip_entry(source) -> bytes:
    archive, name = source
    with zipfile.ZipFile(archive) as package:
        return package.read(name)


@pytest.fixture
def lessons(world):
    return Lessons(world)
