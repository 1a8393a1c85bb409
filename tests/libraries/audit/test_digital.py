"""E-books and documents in the staff audit log: upload, change and deletion are one entry each,
on the owning library, with the values before and after; a refused change writes nothing."""

import pytest
from django.urls import reverse
from django.utils import translation
from wagtail.models import ModelLogEntry

from libraries.models import DigitalFile, Role
from tests.factories import member
from tests.libraries.digital import books
from tests.libraries.digital.conftest import add_book


@pytest.fixture(autouse=True)
def _english(english_site):
    """Messages are read in English."""


def entries(file_pk) -> list[tuple]:
    return list(
        ModelLogEntry.objects.filter(object_id=str(file_pk))
        .order_by("pk")
        .values_list("action", "user_id", "data")
    )


def test_upload_change_and_delete_are_logged_on_the_owning_library(client, tree):
    admin = member(tree.own, Role.LIBRARY_ADMIN)
    file = add_book(tree.own, books.CHILDREN, licences=1, by=admin)
    record_pk, sha256 = file.record_id, file.sha256
    client.force_login(admin)

    response = client.post(
        reverse("digital_files:edit", args=[file.pk]),
        {"record": record_pk, "access_level": "lending", "licences": 3, "label": "Bản 2"},
    )
    assert response.status_code == 302
    response = client.post(reverse("digital_files:delete", args=[file.pk]))
    assert response.status_code == 302
    assert not DigitalFile.objects.filter(pk=file.pk).exists()

    library = tree.own.pk
    assert entries(file.pk) == [
        (
            "libraries.digital_file.create",
            admin.pk,
            {
                "before": {},
                "after": {
                    "record": record_pk,
                    "library": library,
                    "access": "lending",
                    "licences": 1,
                    "label": "",
                    "original_name": books.CHILDREN.name,
                    "sha256": sha256,
                    "cardholder_libraries": [],
                },
                "library": library,
            },
        ),
        (
            "libraries.digital_file.edit",
            admin.pk,
            {
                "before": {"licences": 1, "label": ""},
                "after": {"licences": 3, "label": "Bản 2"},
                "library": library,
            },
        ),
        (
            "libraries.digital_file.delete",
            admin.pk,
            {
                "before": {
                    "record": record_pk,
                    "library": library,
                    "access": "lending",
                    "licences": 3,
                    "label": "Bản 2",
                    "original_name": books.CHILDREN.name,
                    "sha256": sha256,
                    "cardholder_libraries": [],
                },
                "after": {},
                "library": library,
            },
        ),
    ]
    change = ModelLogEntry.objects.get(object_id=str(file.pk), action__endswith=".edit")
    assert change.message == "E-book or document changed: label: — → Bản 2; licences: 1 → 3"


def test_a_refused_change_from_another_library_writes_nothing(client, tree):
    file = add_book(tree.own, books.CHILDREN, licences=1)
    before = (entries(file.pk), DigitalFile.objects.filter(pk=file.pk).values().get())
    client.force_login(member(tree.sibling, Role.LIBRARY_ADMIN))

    edit = client.post(
        reverse("digital_files:edit", args=[file.pk]),
        {"record": file.record_id, "access_level": "open", "licences": 0, "label": "x"},
    )
    delete = client.post(reverse("digital_files:delete", args=[file.pk]))

    assert (edit.status_code, delete.status_code) == (404, 404)
    assert (entries(file.pk), DigitalFile.objects.filter(pk=file.pk).values().get()) == before


def test_site_history_shows_the_upload_to_its_library_only(client, tree):
    file = add_book(tree.child, books.CHILDREN, licences=1, by=member(tree.child, Role.LIBRARIAN))
    url = reverse("wagtailadmin_reports:site_history")
    seen = {}
    for name, library in (("own", tree.own), ("child", tree.child), ("sibling", tree.sibling)):
        client.force_login(member(library, Role.LIBRARIAN))
        page = client.get(url, {"action": "libraries.digital_file.create"})
        assert page.status_code == 200
        seen[name] = "E-book or document added" in page.content.decode()
    assert seen == {"own": True, "child": True, "sibling": False}
    assert entries(file.pk)[0][0] == "libraries.digital_file.create"


def test_the_entry_reads_in_vietnamese(tree):
    file = add_book(tree.own, books.CHILDREN, licences=1)
    entry = ModelLogEntry.objects.get(object_id=str(file.pk))
    with translation.override("vi"):
        assert str(entry.formatter.label) == "Thêm sách điện tử hoặc tài liệu"
        assert entry.message.startswith("Đã thêm sách điện tử hoặc tài liệu")
