"""The staff screens: upload several files at once into a library within reach, see what was
matched and change it; the permission matrix (role x own / child / sibling / parent)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from libraries.models import DigitalFile, Record, Role
from tests.libraries.catalog.factories import RecordFactory
from tests.libraries.conftest import ALL_ROLES, STAFF_ROLE_VALUES, TARGETS
from tests.libraries.digital import books
from tests.libraries.digital.conftest import add_book, stored_files


def upload(path_or_bytes, name=None):
    if isinstance(path_or_bytes, bytes):
        return SimpleUploadedFile(name, path_or_bytes)
    return SimpleUploadedFile(path_or_bytes.name, path_or_bytes.read_bytes())


def refused(response) -> bool:
    """Wagtail turns PermissionDenied into a redirect to the dashboard (or the login page)."""
    return response.status_code == 302 and (
        response.url == reverse("wagtailadmin_home") or "login" in response.url
    )


@pytest.mark.parametrize("role", ALL_ROLES)
@pytest.mark.parametrize("target", TARGETS)
def test_upload_permission_matrix(member_client, tree, role, target):
    client, _user = member_client(role)
    library = tree.target(target)
    before = (DigitalFile.objects.count(), Record.objects.count(), frozenset(stored_files()))
    response = client.post(
        reverse("digital_files:upload"),
        {"files": [upload(books.CHILDREN)], "library": library.pk, "access_level": "open"},
    )
    allowed = role in STAFF_ROLE_VALUES and target in ("own", "child")
    if allowed:
        assert response.status_code == 200
        file = DigitalFile.objects.get()
        assert (file.library, file.access) == (library, "open")
        assert "1 file added to" in response.content.decode()
    else:
        if role in STAFF_ROLE_VALUES:  # the library is not among the choices
            assert response.status_code == 200
            assert "Select a valid choice" in response.content.decode()
        else:
            assert refused(response)
        after = (DigitalFile.objects.count(), Record.objects.count(), frozenset(stored_files()))
        assert after == before


def test_several_files_at_once_each_reported(member_client, tree):
    client, _user = member_client(Role.LIBRARIAN)
    response = client.post(
        reverse("digital_files:upload"),
        {
            "files": [
                upload(books.CHILDREN),
                upload(books.traversal_epub(), "evil.epub"),
                upload(books.MOBY),
                upload(books.javascript_open_action_pdf(), "script.pdf"),
            ],
            "library": tree.own.pk,
            "access_level": "lending",
            "licences": 2,
        },
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "2 files added to HBT" in page and "2 files refused" in page
    assert "evil.epub</strong>: Unsafe path in the file: ../../etc/cron.d/evil" in page
    assert "script.pdf</strong>: This PDF contains JavaScript" in page
    assert "new record from the file" in page
    assert sorted(DigitalFile.objects.values_list("record__title", "licences")) == [
        ("Children's Literature", 2),
        ("Moby-Dick", 2),
    ]


def test_the_upload_form_works_without_script_and_names_its_field(member_client):
    client, _user = member_client(Role.LIBRARIAN)
    page = client.get(reverse("digital_files:upload")).content.decode()
    assert 'type="file" name="files"' in page and "multiple" in page
    assert 'accept=".epub,.pdf"' in page
    assert "<script>" not in page.split('class="digital-upload"')[1].split("</form>")[0]


def test_a_lending_upload_without_licences_is_a_form_error(member_client, tree):
    client, _user = member_client(Role.LIBRARIAN)
    response = client.post(
        reverse("digital_files:upload"),
        {
            "files": [upload(books.CHILDREN)],
            "library": tree.own.pk,
            "access_level": "lending",
            "licences": 0,
        },
    )
    assert "A lending file needs at least one licence." in response.content.decode()
    assert not DigitalFile.objects.exists()


def test_staff_see_what_was_matched_and_pick_another_record(member_client, tree):
    client, user = member_client(Role.LIBRARIAN)
    file = add_book(tree.child, books.CHILDREN, licences=1)
    same_title = RecordFactory(title="Children's Literature", authors="Curry")
    page = client.get(reverse("digital_files:edit", args=[file.pk])).content.decode()
    assert "new record from the file" in page
    assert "Charles Madison Curry; Erle Elsworth Clippinger" in page
    assert f"<td>{same_title.pk}</td>" in page  # offered as another record to choose
    response = client.post(
        reverse("digital_files:edit", args=[file.pk]),
        {"record": same_title.pk, "access_level": "lending", "licences": 3, "label": "Bản 2"},
    )
    assert response.status_code == 302
    file.refresh_from_db()
    assert (file.record, file.matched_by, file.licences, file.label) == (
        same_title,
        "chosen",
        3,
        "Bản 2",
    )


@pytest.mark.parametrize("target", TARGETS)
def test_files_are_listed_and_edited_within_reach(member_client, tree, target):
    client, _user = member_client(Role.LIBRARIAN)
    file = add_book(tree.target(target), books.CHILDREN, licences=1)
    listing = client.get(reverse("digital_files:list"))
    reachable = target in ("own", "child")
    assert ([f.pk for f in listing.context["files"]] == [file.pk]) is reachable
    edit = client.post(
        reverse("digital_files:edit", args=[file.pk]),
        {"record": file.record_id, "access_level": "lending", "licences": 9},
    )
    assert (edit.status_code == 302) is reachable
    if not reachable:
        assert edit.status_code == 404
    file.refresh_from_db()
    assert file.licences == (9 if reachable else 1)


@pytest.mark.parametrize(("role", "deleted"), [(Role.LIBRARIAN, False), (Role.LIBRARY_ADMIN, True)])
def test_only_administrators_delete(member_client, tree, role, deleted):
    client, _user = member_client(role)
    file = add_book(tree.own, books.CHILDREN, licences=1)
    client.post(reverse("digital_files:delete", args=[file.pk]))
    assert DigitalFile.objects.filter(pk=file.pk).exists() is not deleted
