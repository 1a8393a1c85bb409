"""A MARC import is one audit entry (by the uploader, on the library) with what it did; an
upload refused before the job starts writes none."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from wagtail.models import ModelLogEntry

from libraries.models import MarcImportJob, Record, Role
from tests.factories import member
from tests.libraries.catalog.marc_builders import FIXTURES

pytestmark = pytest.mark.usefixtures("english")


def test_an_import_is_one_entry_with_its_counts(client, tree, django_capture_on_commit_callbacks):
    librarian = member(tree.child, Role.LIBRARIAN)
    client.force_login(librarian)
    upload = SimpleUploadedFile(
        "brkrtest.mrc", (FIXTURES / "marc4j_brkrtest_UTF8.mrc").read_bytes()
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("catalog_marc:upload"), {"file": upload, "library": tree.child.pk}
        )
    assert response.status_code == 302
    job = MarcImportJob.objects.get()
    assert job.status == "done"

    (entry,) = ModelLogEntry.objects.filter(action="libraries.marc_import")
    assert (entry.object_id, entry.user_id) == (str(job.pk), librarian.pk)
    assert entry.data == {
        "before": {},
        "after": {
            "original_name": "brkrtest.mrc",
            "status": "done",
            "created_count": Record.objects.filter(source_library=tree.child).count(),
            "updated_count": job.updated_count,
            "failed_count": job.failed_count,
            "items_count": job.items_count,
        },
        "library": tree.child.pk,
    }
    assert entry.data["after"]["created_count"] == job.created_count > 0
    assert entry.message.startswith("MARC file imported: ")


def test_a_refused_upload_writes_no_entry(client, tree):
    client.force_login(member(tree.child, Role.LIBRARIAN))
    before = (ModelLogEntry.objects.count(), MarcImportJob.objects.count(), Record.objects.count())
    response = client.post(
        reverse("catalog_marc:upload"),
        {"file": SimpleUploadedFile("notes.mrc", b"not a MARC file"), "library": tree.child.pk},
    )
    assert response.status_code == 200
    after = (ModelLogEntry.objects.count(), MarcImportJob.objects.count(), Record.objects.count())
    assert after == before
