"""ZIP-based uploads pass one guard before anything parses them: an XLSX bomb is refused."""

import io
import zipfile

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from openpyxl import Workbook

from courses.models import ClassMembership
from tests.courses.classes.factories import make_class, network, teacher_at
from training_site.archives import ArchiveRefused, ZipLimits, open_zip

pytestmark = pytest.mark.django_db

LIMITS = ZipLimits(max_upload=1024 * 1024, max_entries=10, max_total=1024 * 1024, max_ratio=100)


def workbook_bytes(*names) -> bytes:
    book = Workbook()
    for name in ("Họ tên", *names):
        book.active.append([name])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def with_entry(xlsx: bytes, name: str, data: bytes) -> bytes:
    """The same workbook with one entry replaced (deflated)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsx)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            if info.filename != name:
                target.writestr(info, source.read(info), zipfile.ZIP_DEFLATED)
        target.writestr(name, data, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def bomb() -> bytes:
    """A valid-looking workbook whose shared strings unpack to 64 MB from about 64 KB."""
    huge = b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>'
    huge += b"A" * (64 * 1024 * 1024) + b"</t></si></sst>"
    return with_entry(workbook_bytes("Lê Văn An"), "xl/sharedStrings.xml", huge)


def upload(client, class_group, data: bytes):
    return client.post(
        reverse("courses:add_students", args=[class_group.pk]),
        {"upload": SimpleUploadedFile("lop-6a.xlsx", data)},
    )


def test_an_xlsx_bomb_is_refused_before_it_is_read_and_creates_no_account(client, settings):
    net = network()
    teacher = teacher_at(net.school)
    class_group = make_class(net.school, teacher)
    client.force_login(teacher)
    client.cookies["django_language"] = "en"
    data = bomb()
    assert len(data) < 2 * 1024 * 1024  # under the upload cap: only the guard stops it
    users, memberships = get_user_model().objects.count(), ClassMembership.objects.count()
    response = upload(client, class_group, data)
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "The file would unpack to 64.0\xa0MB; at most 20.0\xa0MB is allowed."
    ]
    assert get_user_model().objects.count() == users
    assert ClassMembership.objects.count() == memberships


def test_a_normal_xlsx_still_adds_its_students(client):
    net = network()
    teacher = teacher_at(net.school)
    class_group = make_class(net.school, teacher)
    client.force_login(teacher)
    response = upload(client, class_group, workbook_bytes("Lê Văn An", "Phạm Thị Bình"))
    assert response.status_code == 200
    assert sorted(class_group.students().values_list("display_name", flat=True)) == [
        "Lê Văn An",
        "Phạm Thị Bình",
    ]


def zip_of(*entries) -> io.BytesIO:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in entries:
            archive.writestr(name, data, zipfile.ZIP_DEFLATED)
    out.seek(0)
    return out


def symlink() -> io.BytesIO:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        info = zipfile.ZipInfo("link")
        info.external_attr = 0o120777 << 16
        archive.writestr(info, "/etc/passwd")
    out.seek(0)
    return out


CASES = {
    "not-zip": (
        lambda: io.BytesIO(b"PK\x03\x04 not really"),
        "The file is damaged: it is not a valid ZIP archive.",
    ),
    "entries": (
        lambda: zip_of(*[(f"f{i}.txt", b"x") for i in range(11)]),
        "The file holds too many entries (11; at most 10).",
    ),
    "total": (
        lambda: zip_of(("a.xml", b"A" * 2 * 1024 * 1024)),
        "The file would unpack to 2.0\xa0MB; at most 1.0\xa0MB is allowed.",
    ),
    "ratio": (
        lambda: zip_of(("a.xml", b"A" * 900 * 1024)),
        "The file is compressed suspiciously well (a ZIP bomb?); refused.",
    ),
    "dotdot": (lambda: zip_of(("../evil.txt", b"x")), "Unsafe path in the file: ../evil.txt"),
    "absolute": (lambda: zip_of(("/etc/evil", b"x")), "Unsafe path in the file: /etc/evil"),
    "drive": (lambda: zip_of(("C:/evil", b"x")), "Unsafe path in the file: C:/evil"),
    "backslash": (lambda: zip_of(("a\\b", b"x")), "Unsafe path in the file: a\\b"),
    "duplicate": (
        lambda: zip_of(("a.txt", b"x"), ("a.txt", b"y")),
        "The file contains a.txt twice.",
    ),
    "case-duplicate": (
        lambda: zip_of(("A.txt", b"x"), ("a.txt", b"y")),
        "The file contains both A.txt and a.txt (same name, other case).",
    ),
    "symlink": (symlink, "Symbolic links are not allowed in the file: link"),
}


@pytest.mark.filterwarnings("ignore:Duplicate name")
@pytest.mark.parametrize("case", sorted(CASES))
def test_the_guard_refuses_each_kind_of_hostile_zip(case):
    archive, message = CASES[case]
    with translation.override("en"), pytest.raises(ArchiveRefused) as refused:
        open_zip(archive(), LIMITS)
    assert refused.value.message == message
