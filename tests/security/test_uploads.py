"""Uploaded files never become pages of the site (issue 11, part 2).

A librarian uploaded `evil.html` as a MARC file: it was accepted (its first byte is `<`),
kept under its own name in /media/marc-imports/ and served as text/html to anyone. SVG and
XML in H5P folders were served inline too. These tests replay that over HTTP.
"""

import importlib
import re
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage, storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from libraries.models import MarcImportJob, Record, Role
from tests.factories import LibraryFactory, member
from tests.fixture_files import FIXTURES

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

EVIL_HTML = b"<html><body><script>fetch('/admin/')</script></body></html>"
WEB_PAGE = "This file is a web page or an image (HTML, SVG), not a MARC file."
MARC = (FIXTURES / "marc" / "marc4j_brkrtest_UTF8.mrc").read_bytes()


def files_under(root) -> list[str]:
    root = Path(root)
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def stored_files() -> tuple[list[str], list[str]]:
    return files_under(settings.MEDIA_ROOT), files_under(settings.PRIVATE_MEDIA_ROOT)


def put_media(name: str, data: bytes) -> str:
    path = Path(settings.MEDIA_ROOT) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return f"{settings.MEDIA_URL}{name}"


def directives(response) -> list[str]:
    """The CSP directives (the site's middleware may add frame-ancestors after ours)."""
    return [part.strip() for part in response["Content-Security-Policy"].split(";")]


@pytest.fixture
def librarian(client):
    library = LibraryFactory(code="THE")
    client.force_login(member(library, Role.LIBRARIAN))
    return library


# --------------------------------------------------------------------------- MARC uploads


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("evil.html", EVIL_HTML, WEB_PAGE),
        ("evil.mrc", b"<!DOCTYPE html>\n<p onclick=alert(1)>x</p>", WEB_PAGE),
        ("evil.xml", b'<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>', WEB_PAGE),
        (
            "feed.xml",
            b'<?xml version="1.0"?>\n<rss version="2.0"></rss>',
            "This XML file is not MARCXML: its root element is <rss>, "
            "not <collection> or <record>.",
        ),
        (
            "entities.xml",
            b'<?xml version="1.0"?><!DOCTYPE c [<!ENTITY a "aaaa">]><collection>&a;</collection>',
            "This XML file declares a document type (DTD); MARCXML files have none.",
        ),
    ],
)
def test_marc_upload_of_a_web_page_is_refused_and_nothing_is_stored(
    client, librarian, django_capture_on_commit_callbacks, name, data, message
):
    before = stored_files()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(
            reverse("catalog_marc:upload"),
            {"file": SimpleUploadedFile(name, data, content_type="text/html"),
             "library": librarian.pk},
        )  # fmt: skip
    assert response.status_code == 200
    assert response.context["form"].errors == {"file": [message]}
    assert message.replace("<", "&lt;").replace(">", "&gt;") in response.content.decode()
    assert MarcImportJob.objects.count() == 0 and callbacks == []
    assert stored_files() == before


def test_marc_upload_is_kept_privately_under_a_generated_name_until_its_job_has_run(
    client, librarian, django_capture_on_commit_callbacks
):
    media_before = files_under(settings.MEDIA_ROOT)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(
            reverse("catalog_marc:upload"),
            {"file": SimpleUploadedFile("Sách mới <b>.mrc", MARC), "library": librarian.pk},
        )
    job = MarcImportJob.objects.get()
    assert response.status_code == 302
    assert job.original_name == "Sách mới <b>.mrc" and job.status == "pending"
    assert re.fullmatch(r"marc-imports/[0-9a-f]{32}", job.file.name)
    private_copy = Path(settings.PRIVATE_MEDIA_ROOT) / job.file.name
    assert private_copy.read_bytes() == MARC
    assert not private_copy.is_relative_to(settings.MEDIA_ROOT)
    assert files_under(settings.MEDIA_ROOT) == media_before
    # Nobody reaches it by URL, logged in or not.
    assert client.get(f"/media/{job.file.name}").status_code == 404
    client.logout()
    assert client.get(f"/media/{job.file.name}").status_code == 404

    for callback in callbacks:  # the background import
        callback()
    job.refresh_from_db()
    assert (job.status, job.created_count, job.file.name) == ("done", 8, "")
    assert job.original_name == "Sách mới <b>.mrc"
    assert not private_copy.exists()
    assert files_under(settings.MEDIA_ROOT) == media_before
    assert Record.objects.count() == 8


def test_a_failed_import_deletes_its_file_and_keeps_the_report(
    client, librarian, django_capture_on_commit_callbacks
):
    # The import refuses the file (here it was overwritten between upload and import).
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.post(
            reverse("catalog_marc:upload"),
            {"file": SimpleUploadedFile("a.mrc", MARC), "library": librarian.pk},
        )
    job = MarcImportJob.objects.get()
    private_copy = Path(settings.PRIVATE_MEDIA_ROOT) / job.file.name
    private_copy.write_bytes(b"not marc at all, changed after the upload")
    for callback in callbacks:
        callback()
    job.refresh_from_db()
    assert job.status == "failed" and job.file.name == ""
    assert job.message == (
        "This is not a MARC21 file: a MARC record starts with a 24-character leader."
    )
    assert not private_copy.exists()


def test_old_public_marc_uploads_are_not_served(client):
    url = put_media("marc-imports/2025/06/evil.html", EVIL_HTML)
    assert client.get(url).status_code == 404
    assert client.get("/media/h5p/libraries/%2e%2e/%2e%2e/marc-imports/2025/06/evil.html")\
        .status_code == 404  # fmt: skip


def test_migration_moves_old_uploads_out_of_media():
    migration = importlib.import_module("libraries.migrations.0006_marc_import_files_private")
    library = LibraryFactory()
    done_name = default_storage.save("marc-imports/2025/06/evil.html", ContentFile(EVIL_HTML))
    waiting_name = default_storage.save("marc-imports/2025/06/new.mrc", ContentFile(MARC))
    done = MarcImportJob.objects.create(
        library=library, file=done_name, original_name="evil.html", status="done"
    )
    waiting = MarcImportJob.objects.create(
        library=library, file=waiting_name, original_name="new.mrc", status="pending"
    )
    migration.move_out_of_media(apps, None)
    done.refresh_from_db()
    waiting.refresh_from_db()
    assert done.file.name == "" and not default_storage.exists(done_name)
    assert not default_storage.exists(waiting_name)
    assert re.fullmatch(r"marc-imports/[0-9a-f]{32}", waiting.file.name)
    with storages["private"].open(waiting.file.name) as stream:
        assert stream.read() == MARC
    storages["private"].delete(waiting.file.name)


# --------------------------------------------------------------------------- /media/


@pytest.mark.parametrize(
    "name",
    [
        "h5p/libraries/H5P.Evil-1.0/evil.html",
        "h5p/libraries/H5P.Evil-1.0/evil.xhtml",
        "h5p/libraries/H5P.Evil-1.0/icon.svg",
        "h5p/libraries/H5P.Evil-1.0/data.xml",
        "h5p/content/0c5a2b0e5f6a4f0d9c1e2d3f4a5b6c7d/content/images/evil.svg",
        "h5p/content/0c5a2b0e5f6a4f0d9c1e2d3f4a5b6c7d/content/evil.html",
        "h5p/content/0c5a2b0e5f6a4f0d9c1e2d3f4a5b6c7d/content/evil.xml",
        "h5p/content/0c5a2b0e5f6a4f0d9c1e2d3f4a5b6c7d/content/evil.js",
        "documents/evil.js",
        "documents/evil.css",
        "documents/evil",
        "original_images/evil.HTM",
    ],
)
def test_media_never_serves_a_page_or_script_inline(client, name):
    url = put_media(name, b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>")
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"] == "attachment"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert directives(response)[:3] == [
        "sandbox",
        "default-src 'none'",
        "style-src 'unsafe-inline'",
    ]
    expected = "image/svg+xml" if name.endswith(".svg") else "application/octet-stream"
    assert response["Content-Type"] == expected


def test_media_path_tricks_do_not_reach_the_player_code_rule(client):
    put_media("documents/evil.js", b"alert(1)")
    response = client.get("/media/h5p/libraries/%2e%2e/%2e%2e/documents/evil.js")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"] == "attachment"


def test_media_serves_player_code_and_embedded_media_inline(client):
    script = put_media("h5p/libraries/H5P.Test-1.0/test.js", b"var H5P = H5P || {};")
    style = put_media("h5p/libraries/H5P.Test-1.0/test.css", b".h5p{color:red}")
    image = put_media("h5p/content/abc/content/images/a.png", b"\x89PNG\r\n\x1a\n")
    data = put_media("h5p/content/abc/content/content.json", b"{}")
    for url, content_type in [(script, "text/javascript"), (style, "text/css")]:
        response = client.get(url)
        assert response["Content-Type"] == content_type
        assert response["Content-Disposition"].startswith("inline")
        assert response["X-Content-Type-Options"] == "nosniff"
    for url, content_type in [(image, "image/png"), (data, "application/json")]:
        response = client.get(url)
        assert response["Content-Type"] == content_type
        assert response["Content-Disposition"].startswith("inline")
        assert directives(response)[0] == "sandbox"
        assert response["X-Content-Type-Options"] == "nosniff"
