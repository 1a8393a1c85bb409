import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from libraries.models import Item, MarcImportJob, Record, Role
from tests.factories import LibraryFactory, MembershipFactory
from tests.libraries.catalog.factories import ItemFactory, RecordFactory
from tests.libraries.catalog.marc_builders import FIXTURES

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


@pytest.fixture
def network():
    district = LibraryFactory(code="HBT", kind="district")
    school = LibraryFactory(code="THE", parent=district)
    other = LibraryFactory(code="THF", parent=district)
    return district, school, other


def staff(library, role=Role.LIBRARIAN):
    return MembershipFactory(library=library, role=role).user


def refused(response) -> bool:
    """Wagtail turns PermissionDenied into a redirect to the dashboard with a message."""
    return response.status_code == 302 and response.url == reverse("wagtailadmin_home")


def test_librarian_lists_only_items_of_their_school(client, network):
    district, school, other = network
    mine = ItemFactory(library=school, barcode="THE0000001")
    ItemFactory(library=other, barcode="THF0000001")
    client.force_login(staff(school))
    response = client.get(reverse("catalog_items:index"))
    assert response.status_code == 200
    assert [i.pk for i in response.context["object_list"]] == [mine.pk]
    # A district librarian reaches both schools.
    client.force_login(staff(district))
    response = client.get(reverse("catalog_items:index"))
    assert {i.barcode for i in response.context["object_list"]} == {"THE0000001", "THF0000001"}


def test_librarian_cannot_open_or_change_another_schools_item(client, network):
    _district, school, other = network
    theirs = ItemFactory(library=other, call_number="A")
    client.force_login(staff(school))
    url = reverse("catalog_items:edit", args=[theirs.pk])
    assert refused(client.get(url))
    data = {"record": theirs.record_id, "library": school.pk, "item_type": "book",
            "status": "lost", "call_number": "B"}  # fmt: skip
    response = client.post(url, data)
    assert refused(response)
    theirs.refresh_from_db()
    assert (theirs.status, theirs.call_number, theirs.library) == ("available", "A", other)
    assert refused(client.post(reverse("catalog_items:delete", args=[theirs.pk])))
    assert Item.objects.filter(pk=theirs.pk).exists()


def test_new_item_gets_the_next_barcode_and_only_reachable_libraries(client, network):
    _district, school, other = network
    record = RecordFactory(call_number="895.922 N")
    client.force_login(staff(school))
    add = reverse("catalog_items:add")
    form = client.get(add).context["form"]
    assert list(form.fields["library"].queryset) == [school]
    data = {"record": record.pk, "library": school.pk, "item_type": "book", "status": "available"}
    response = client.post(add, data)
    assert response.status_code == 302
    item = Item.objects.get()
    assert (item.barcode, item.location, item.call_number) == ("THE0000001", school, "895.922 N")
    response = client.post(add, {**data, "library": other.pk})
    assert response.status_code == 200 and "library" in response.context["form"].errors
    response = client.post(add, {**data, "barcode": "the0000001"})
    assert "barcode" in response.context["form"].errors
    assert Item.objects.count() == 1


def test_librarian_edits_any_record_and_isbn_is_normalised(client, network):
    _district, school, other = network
    record = RecordFactory(title="Cũ")
    ItemFactory(record=record, library=other)
    client.force_login(staff(school))
    url = reverse("catalog_records:edit", args=[record.pk])
    data = {"title": "Đất rừng phương Nam", "authors": "Đoàn Giỏi", "isbn": "0-306-40615-2",
            "year": 1957, "language": "vie", "subjects": "Văn học\nThiếu nhi"}  # fmt: skip
    assert client.post(url, data).status_code == 302
    record.refresh_from_db()
    assert (record.title, record.isbn) == ("Đất rừng phương Nam", "9780306406157")
    assert record.search_folded == " dat rung phuong nam doan gioi van hoc thieu nhi 9780306406157 "
    response = client.post(url, {**data, "isbn": "978-0-306-40615-8"})
    assert "isbn" in response.context["form"].errors
    # Deleting records is for administrators, and never while copies exist.
    assert refused(client.post(reverse("catalog_records:delete", args=[record.pk])))
    assert Record.objects.filter(pk=record.pk).exists()


def test_admin_cannot_delete_a_record_with_items(client, network):
    district, school, _other = network
    record = RecordFactory()
    ItemFactory(record=record, library=school)
    client.force_login(staff(district, Role.LIBRARY_ADMIN))
    assert refused(client.post(reverse("catalog_records:delete", args=[record.pk])))
    assert Record.objects.filter(pk=record.pk).exists()
    lonely = RecordFactory()
    assert client.post(reverse("catalog_records:delete", args=[lonely.pk])).status_code == 302
    assert not Record.objects.filter(pk=lonely.pk).exists()


def test_teacher_and_reader_cannot_reach_catalog_screens(client, network):
    _district, school, _other = network
    client.force_login(staff(school, Role.TEACHER))
    for name in ("catalog_items:index", "catalog_marc:upload", "catalog_labels:print"):
        response = client.get(reverse(name))
        # No admin access at all: Wagtail sends them to log in as someone else.
        assert response.status_code == 302 and response.url.startswith("/accounts/login/")


def test_marc_upload_runs_in_the_background_and_reports(
    client, network, django_capture_on_commit_callbacks
):
    _district, school, _other = network
    client.force_login(staff(school))
    data = (FIXTURES / "marc4j_brkrtest_UTF8.mrc").read_bytes()
    upload = SimpleUploadedFile("brkrtest.mrc", data[: len(data) - 200])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("catalog_marc:upload"),
                               {"file": upload, "library": school.pk})  # fmt: skip
    job = MarcImportJob.objects.get()
    assert response.status_code == 302 and response.url == reverse(
        "catalog_marc:job", args=[job.pk]
    )
    job.refresh_from_db()
    assert (job.status, job.progress, job.created_count, job.failed_count) == ("done", 100, 7, 1)
    # The reason is written in the uploader's language; it names the announced length.
    last_length = int(data[data.rfind(b"\x1d", 0, len(data) - 1) + 1 :][:5])
    assert job.errors[0]["position"] == 8 and str(last_length) in job.errors[0]["reason"]
    assert Record.objects.filter(source_library=school).count() == 7
    status = client.get(reverse("catalog_marc:status", args=[job.pk])).json()
    assert status["progress"] == 100 and status["finished"] and status["failed"] == 1
    page = client.get(reverse("catalog_marc:job", args=[job.pk])).content.decode()
    assert str(last_length) in page


def test_marc_upload_refuses_non_marc_and_unreachable_library(client, network):
    _district, school, other = network
    client.force_login(staff(school))
    url = reverse("catalog_marc:upload")
    response = client.post(url, {"file": SimpleUploadedFile("a.mrc", b"hello world " * 10),
                                 "library": school.pk})  # fmt: skip
    assert "file" in response.context["form"].errors
    response = client.post(url, {"file": SimpleUploadedFile("a.mrc", b""), "library": school.pk})
    assert "file" in response.context["form"].errors
    response = client.post(url, {"file": SimpleUploadedFile("a.mrc", b"00000"),
                                 "library": other.pk})  # fmt: skip
    assert "library" in response.context["form"].errors
    assert MarcImportJob.objects.count() == 0


def test_job_of_another_library_is_hidden(client, network):
    _district, school, other = network
    job = MarcImportJob.objects.create(library=other, file="x.mrc", original_name="x.mrc")
    client.force_login(staff(school))
    assert client.get(reverse("catalog_marc:job", args=[job.pk])).status_code == 404
    assert client.get(reverse("catalog_marc:status", args=[job.pk])).status_code == 404
