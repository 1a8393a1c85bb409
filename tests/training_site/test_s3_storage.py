"""Uploaded files on S3-compatible object storage (training_site/object_storage.py), against
moto's S3 server over real HTTP on loopback, with the storages the production settings build
from MEDIA_STORAGE=s3 and its variables: an H5P package uploaded and played from the bucket,
a MARC file kept privately until its import, an e-book delivered by a presigned address that
nobody can replace by the bare object address, /healthz probing both buckets, and a backup that
says the files are in the buckets instead of writing empty tar files."""

import datetime
import io
import json
import logging
import re
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import boto3
import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage, storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.urls import reverse
from moto.server import ThreadedMotoServer

from courses.h5p.player import player_context
from courses.h5p.storage import delete_package, stored_params
from courses.models import H5PPackage
from libraries.models import DigitalFile, MarcImportJob, Record, Role
from tests.courses.h5p.support import upload_file
from tests.factories import LibraryFactory, MembershipFactory, UserFactory, member
from tests.fixture_files import FIXTURES
from tests.libraries.digital import books
from tests.libraries.digital.conftest import add_book
from tests.training_site.test_backup import manage, new_database  # noqa: F401 (a fixture)
from tests.training_site.test_production_settings import with_example_environment

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

PUBLIC_BUCKET = "kb-media-test"
PRIVATE_BUCKET = "kb-private-test"
KEYS = {"AWS_ACCESS_KEY_ID": "kb-test-key", "AWS_SECRET_ACCESS_KEY": "kb-test-secret"}
MARC = (FIXTURES / "marc" / "marc4j_brkrtest_UTF8.mrc").read_bytes()
READ_STORAGES = """
import json, django
django.setup()
from django.conf import settings as s
print(json.dumps({
    "storages": {alias: s.STORAGES[alias] for alias in ("default", "private")},
    "connect_src": s.CONTENT_SECURITY_POLICY["DIRECTIVES"]["connect-src"],
}))
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def endpoint():
    """moto's S3 server on a free loopback port, with the two buckets of the site."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    client = s3_client(url)
    for bucket in (PUBLIC_BUCKET, PRIVATE_BUCKET):
        client.create_bucket(Bucket=bucket)
    yield url
    server.stop()


def s3_client(url: str):
    return boto3.client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=KEYS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=KEYS["AWS_SECRET_ACCESS_KEY"],
    )


def production_settings(**env: str) -> subprocess.CompletedProcess:
    return with_example_environment([sys.executable, "-c", READ_STORAGES], **env)


@pytest.fixture(scope="module")
def production_storages(endpoint):
    """STORAGES as training_site/settings/production.py builds them from the environment."""
    result = production_settings(
        MEDIA_STORAGE="s3",
        AWS_STORAGE_BUCKET_NAME=PUBLIC_BUCKET,
        AWS_PRIVATE_STORAGE_BUCKET_NAME=PRIVATE_BUCKET,
        AWS_S3_ENDPOINT_URL=endpoint,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture
def s3(endpoint, production_storages, monkeypatch):
    """The site on object storage: both aliases, and the FileFields bound to the private one
    (a field takes its storage when its model is defined, as production does at start)."""
    for name, value in KEYS.items():
        monkeypatch.setenv(name, value)
    with override_settings(STORAGES={**settings.STORAGES, **production_storages["storages"]}):
        for model in (MarcImportJob, DigitalFile):
            monkeypatch.setattr(model._meta.get_field("file"), "storage", storages["private"])
        yield s3_client(endpoint)


def keys(client, bucket: str, prefix: str = "") -> list[str]:
    listed = client.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    return sorted(entry["Key"] for entry in listed)


def anonymous_get(url: str) -> tuple[int, dict, bytes]:
    """A GET with no credentials at all, as any browser or crawler could send."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback
            return (
                response.status,
                {k.lower(): v for k, v in response.headers.items()},
                (response.read()),
            )
    except urllib.error.HTTPError as error:
        return error.code, {}, b""


def bucket_url(endpoint: str, bucket: str, key: str) -> str:
    return f"{endpoint}/{bucket}/{quote(key)}"


def _files_on_disk() -> set[Path]:
    roots = (Path(settings.MEDIA_ROOT), Path(settings.PRIVATE_MEDIA_ROOT))
    return {path for root in roots if root.exists() for path in root.rglob("*") if path.is_file()}


_ON_DISK_BEFORE: set[Path] = set()


@pytest.fixture(autouse=True)
def _disk_before_the_test():
    """Other tests in this worker may have left files in the shared temporary folders:
    only files written during this test count."""
    _ON_DISK_BEFORE.clear()
    _ON_DISK_BEFORE.update(_files_on_disk())


def local_files() -> list[Path]:
    """Files written to this machine's media folders during the test."""
    return sorted(_files_on_disk() - _ON_DISK_BEFORE)


# --------------------------------------------------------------------------- settings


def test_production_builds_both_storages_from_the_environment(endpoint, production_storages):
    assert production_storages["storages"] == {
        "default": {
            "BACKEND": "training_site.object_storage.PublicMediaStorage",
            "OPTIONS": {
                "endpoint_url": endpoint,
                "region_name": "us-east-1",
                "addressing_style": "path",
                "signature_version": "s3v4",
                "file_overwrite": False,
                "bucket_name": PUBLIC_BUCKET,
                "location": "",
                "default_acl": "public-read",
                "querystring_auth": False,
                "custom_domain": None,
            },
        },
        "private": {
            "BACKEND": "training_site.object_storage.PrivateMediaStorage",
            "OPTIONS": {
                "endpoint_url": endpoint,
                "region_name": "us-east-1",
                "addressing_style": "path",
                "signature_version": "s3v4",
                "file_overwrite": False,
                "bucket_name": PRIVATE_BUCKET,
                "location": "",
                "default_acl": "private",
                "querystring_auth": True,
                "querystring_expire": 60,
            },
        },
    }
    # The browser's e-book reader may fetch from the private bucket's origin, nothing more.
    assert production_storages["connect_src"] == ["'self'", endpoint]


def test_one_bucket_keeps_private_files_under_their_own_prefix():
    result = production_settings(
        MEDIA_STORAGE="s3",
        AWS_STORAGE_BUCKET_NAME="kb-media",
        AWS_S3_ENDPOINT_URL="https://s3.example.vn",
        AWS_S3_ADDRESSING_STYLE="virtual",
        AWS_DEFAULT_ACL="",
    )
    assert result.returncode == 0, result.stderr
    read = json.loads(result.stdout)
    public, private = (read["storages"][a]["OPTIONS"] for a in ("default", "private"))
    assert (public["bucket_name"], public["location"], public["default_acl"]) == (
        "kb-media",
        "",
        None,  # readable by the bucket's policy, no ACL sent
    )
    assert (private["bucket_name"], private["location"]) == ("kb-media", "private")
    assert read["connect_src"] == ["'self'", "https://kb-media.s3.example.vn"]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"MEDIA_STORAGE": "s3"}, "MEDIA_STORAGE=s3 needs AWS_STORAGE_BUCKET_NAME"),
        (
            {"MEDIA_STORAGE": "s3", "AWS_STORAGE_BUCKET_NAME": "kb-media"},
            "MEDIA_STORAGE=s3 needs AWS_STORAGE_BUCKET_NAME",
        ),
        (
            {
                "MEDIA_STORAGE": "s3",
                "AWS_STORAGE_BUCKET_NAME": "kb-media",
                "AWS_S3_ENDPOINT_URL": "https://s3.example.vn",
                "AWS_LOCATION": "files",
                "AWS_PRIVATE_LOCATION": "files",
            },
            "AWS_PRIVATE_LOCATION must differ from AWS_LOCATION",
        ),
        ({"MEDIA_STORAGE": "ftp"}, "MEDIA_STORAGE must be filesystem (the default) or s3."),
    ],
)
def test_production_refuses_object_storage_it_cannot_use(env, message):
    result = production_settings(**env)
    assert result.returncode == 1
    assert message in result.stderr


# --------------------------------------------------------------------------- H5P


def test_an_h5p_package_is_uploaded_into_the_bucket_and_played_from_it(
    s3, endpoint, client, rf, django_capture_on_commit_callbacks
):
    client.force_login(MembershipFactory(role=Role.NETWORK_ADMIN).user)
    response = client.post(
        "/admin/h5p/new/",
        {"title": "Đúng hay sai?", "library": "", "file": upload_file("truefalse")},
    )
    assert response.status_code == 302
    package = H5PPackage.objects.get()
    content = f"h5p/content/{package.uuid}"
    stored = keys(s3, PUBLIC_BUCKET)
    assert f"{content}/h5p.json" in stored and f"{content}/content/content.json" in stored
    assert "h5p/libraries/H5P.TrueFalse-1.6/library.json" in stored
    assert local_files() == []  # nothing on this server's disk

    # The player's addresses stay on the site (/media/, which nginx passes to the bucket);
    # what the browser fetches there is what the storage holds, publicly readable.
    context = player_context(rf.get("/"), package)
    assert context["h5p_json_path"] == f"/media/{content}"
    assert context["content_json_path"] == f"/media/{content}/content"
    assert context["libraries_path"] == "/media/h5p/libraries"

    def play(address: str) -> tuple[int, dict, bytes]:
        assert address.startswith(settings.MEDIA_URL)
        return anonymous_get(
            bucket_url(endpoint, PUBLIC_BUCKET, address.removeprefix(settings.MEDIA_URL))
        )

    status, headers, body = play(f"{context['content_json_path']}/content.json")
    assert (status, headers["content-type"]) == (200, "application/json")
    assert json.loads(body) == stored_params(package)
    assert "content-disposition" not in headers
    status, headers, body = play(f"{context['h5p_json_path']}/h5p.json")
    assert json.loads(body) == package.h5p_json
    status, headers, body = play(f"{context['libraries_path']}/H5P.TrueFalse-1.6/library.json")
    assert json.loads(body)["machineName"] == "H5P.TrueFalse"
    status, headers, _body = play(
        f"{context['libraries_path']}/H5P.TrueFalse-1.6/scripts/h5p-true-false.js"
    )
    assert (status, headers["content-type"]) == (200, "text/javascript")
    assert "content-disposition" not in headers  # the player's code runs

    # A page or a script in a content folder is stored as a download, whatever serves it.
    for name, data in [("evil.html", b"<script>alert(1)</script>"), ("icon.svg", b"<svg/>")]:
        default_storage.save(f"{content}/content/{name}", ContentFile(data))
    _status, html, _body = play(f"/media/{content}/content/evil.html")
    assert (html["content-type"], html["content-disposition"]) == (
        "application/octet-stream",
        "attachment",
    )
    _status, svg, _body = play(f"/media/{content}/content/icon.svg")
    assert (svg["content-type"], svg["content-disposition"]) == ("image/svg+xml", "attachment")

    # Deleting the package removes its content objects; the shared libraries stay.
    with django_capture_on_commit_callbacks(execute=True):
        delete_package(package)
    assert keys(s3, PUBLIC_BUCKET, f"{content}/") == []
    assert "h5p/libraries/H5P.TrueFalse-1.6/library.json" in keys(s3, PUBLIC_BUCKET)


# --------------------------------------------------------------------------- MARC


def test_a_marc_upload_waits_in_the_private_bucket_until_its_import(
    s3, endpoint, client, django_capture_on_commit_callbacks
):
    library = LibraryFactory(code="THE")
    client.force_login(member(library, Role.LIBRARIAN))
    public_before = keys(s3, PUBLIC_BUCKET)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(
            reverse("catalog_marc:upload"),
            {"file": SimpleUploadedFile("Sách mới.mrc", MARC), "library": library.pk},
        )
    assert response.status_code == 302
    job = MarcImportJob.objects.get()
    assert re.fullmatch(r"marc-imports/[0-9a-f]{32}", job.file.name)
    assert keys(s3, PRIVATE_BUCKET, "marc-imports/") == [job.file.name]
    assert s3.get_object(Bucket=PRIVATE_BUCKET, Key=job.file.name)["Body"].read() == MARC
    grants = s3.get_object_acl(Bucket=PRIVATE_BUCKET, Key=job.file.name)["Grants"]
    assert [grant["Permission"] for grant in grants] == ["FULL_CONTROL"]  # the owner only
    assert anonymous_get(bucket_url(endpoint, PRIVATE_BUCKET, job.file.name))[0] == 403
    assert keys(s3, PUBLIC_BUCKET) == public_before
    assert local_files() == []

    for callback in callbacks:  # the background import reads it through the storage
        callback()
    job.refresh_from_db()
    assert (job.status, job.created_count, job.file.name) == ("done", 8, "")
    assert Record.objects.count() == 8
    assert keys(s3, PRIVATE_BUCKET, "marc-imports/") == []


# --------------------------------------------------------------------------- e-books


def presigned_again(endpoint: str, url: str, *, at: datetime.datetime, monkeypatch) -> str:
    """The presigned address boto3 makes for the same object, headers and lifetime at the
    moment `url` says it was signed: equal only if `url` is that SigV4 signature."""
    query = {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}
    bucket, key = urlsplit(url).path.lstrip("/").split("/", 1)
    monkeypatch.setattr("botocore.auth.get_current_datetime", lambda *a, **k: at)
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=KEYS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=KEYS["AWS_SECRET_ACCESS_KEY"],
        config=boto3.session.Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )
    return client.generate_presigned_url(
        "get_object",
        Params={
            "Bucket": bucket,
            "Key": key,
            "ResponseContentType": query["response-content-type"],
            "ResponseContentDisposition": query["response-content-disposition"],
            "ResponseCacheControl": query["response-cache-control"],
        },
        ExpiresIn=int(query["X-Amz-Expires"]),
    )


def test_an_e_book_is_delivered_by_a_presigned_address_that_expires(
    s3, endpoint, client, monkeypatch
):
    library = LibraryFactory(code="HBT")
    book = add_book(library, books.CHILDREN, access=DigitalFile.Access.OPEN)
    assert keys(s3, PRIVATE_BUCKET, "digital/") == [book.file.name]
    assert local_files() == []

    first = client.get(reverse("libraries:digital_file", args=[book.pk]))
    assert first.status_code == 302 and first["Location"].startswith("/digital/f/")
    second = client.get(first["Location"])  # the site's signed address, checked again
    assert second.status_code == 302
    assert second["Cache-Control"] == "no-store"
    presigned = second["Location"]
    parts = urlsplit(presigned)
    query = {name: values[0] for name, values in parse_qs(parts.query).items()}
    assert f"{parts.scheme}://{parts.netloc}" == endpoint
    assert parts.path == f"/{PRIVATE_BUCKET}/{book.file.name}"
    assert query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert query["X-Amz-Expires"] == "60"

    # It works: the bytes, with the headers the site would have sent.
    status, headers, body = anonymous_get(presigned)
    assert status == 200
    assert body == books.CHILDREN.read_bytes()
    assert headers["content-type"] == "application/epub+zip"
    assert headers["content-disposition"] == 'inline; filename="childrens-literature.epub"'
    assert headers["cache-control"] == "private, no-store"

    # It expires: the address is the SigV4 signature of this object, these headers and a
    # 60-second life from the moment it was made, which S3 checks on every request. (moto
    # itself checks neither signatures nor expiry, so the signature is recomputed here.)
    signed_at = datetime.datetime.strptime(query["X-Amz-Date"], "%Y%m%dT%H%M%SZ")
    assert presigned_again(endpoint, presigned, at=signed_at, monkeypatch=monkeypatch) == presigned
    longer = presigned.replace("X-Amz-Expires=60", "X-Amz-Expires=3600")
    assert presigned_again(endpoint, longer, at=signed_at, monkeypatch=monkeypatch) != longer

    # Without a signature the object is not readable, and it is not in the public bucket.
    assert anonymous_get(bucket_url(endpoint, PRIVATE_BUCKET, book.file.name))[0] == 403
    assert anonymous_get(bucket_url(endpoint, PUBLIC_BUCKET, book.file.name))[0] == 404
    # "Download" asks the bucket for an attachment (the name is signed too).
    signed = client.get(reverse("libraries:digital_file", args=[book.pk]), {"download": "1"})
    download = client.get(signed["Location"])["Location"]
    assert parse_qs(urlsplit(download).query)["response-content-disposition"] == [
        'attachment; filename="childrens-literature.epub"'
    ]
    assert anonymous_get(download)[1]["content-disposition"] == (
        'attachment; filename="childrens-literature.epub"'
    )


def test_a_lending_e_book_is_never_presigned_for_a_reader_without_a_loan(s3, client):
    library = LibraryFactory(code="HBT")
    book = add_book(library, books.MOBY, licences=1)
    client.force_login(UserFactory())
    refused = client.get(reverse("libraries:digital_file", args=[book.pk]))
    assert refused.status_code == 403
    assert not refused.has_header("Location")
    downloaded = client.get(reverse("libraries:digital_file", args=[book.pk]), {"download": "1"})
    assert downloaded.status_code == 403


# --------------------------------------------------------------------------- health, backup


def test_the_health_check_probes_both_buckets(s3, client):
    public_before, private_before = keys(s3, PUBLIC_BUCKET), keys(s3, PRIVATE_BUCKET)
    checks = client.get("/healthz").json()["checks"]
    assert checks["storage"] == {"ok": True}
    assert checks["private_storage"] == {"ok": True}
    assert (keys(s3, PUBLIC_BUCKET), keys(s3, PRIVATE_BUCKET)) == (public_before, private_before)

    gone = {
        alias: {**spec, "OPTIONS": {**spec["OPTIONS"], "bucket_name": "kb-no-such-bucket"}}
        for alias, spec in settings.STORAGES.items()
        if alias in ("default", "private")
    }
    with override_settings(STORAGES={**settings.STORAGES, **gone}):
        response = client.get("/healthz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["storage"] == {"ok": False, "error": "NoSuchBucket"}
    assert checks["private_storage"] == {"ok": False, "error": "NoSuchBucket"}
    assert checks["database"] == {"ok": True}


@pytest.mark.postgres
def test_a_backup_names_the_buckets_instead_of_writing_empty_tar_files(
    s3, endpoint, tmp_path, monkeypatch, request
):
    database = request.getfixturevalue("new_database")  # an empty one, dropped afterwards
    output = tmp_path / "backup"
    log = io.StringIO()
    call_command("backup", "--output", str(output), stdout=log)
    assert sorted(p.name for p in output.iterdir()) == ["database.dump", "manifest.json"]
    manifest = json.loads((output / "manifest.json").read_text())
    assert set(manifest["files"]) == {"database.dump"}
    assert manifest["object_storage"] == {
        "media.tar": f"s3://{PUBLIC_BUCKET}",
        "private.tar": f"s3://{PRIVATE_BUCKET}",
    }
    buckets = f"s3://{PUBLIC_BUCKET}, s3://{PRIVATE_BUCKET}"
    assert log.getvalue().startswith(
        f"The uploaded files are in object storage ({buckets}), not in this backup: the "
        "buckets' versioning and replication keep them (docs/SCALING.md).\n"
    )

    # The restore drill on a site on object storage: the database comes back, the files
    # stay where they are; a backup that holds files for folders is refused there.
    for name, value in {
        "MEDIA_STORAGE": "s3",
        "AWS_STORAGE_BUCKET_NAME": PUBLIC_BUCKET,
        "AWS_PRIVATE_STORAGE_BUCKET_NAME": PRIVATE_BUCKET,
        "AWS_S3_ENDPOINT_URL": endpoint,
    }.items():
        monkeypatch.setenv(name, value)
    folders = {"media": tmp_path / "media", "private": tmp_path / "private"}
    restored = manage("restore", str(output), database=database, **folders)
    assert restored.returncode == 0, restored.stderr
    assert f"Các tệp đã tải lên nằm trong kho lưu trữ đối tượng ({buckets})" in restored.stdout
    assert not folders["media"].exists() and not folders["private"].exists()

    # A backup of a site whose files are in folders holds them as tar files: not for this one.
    on_disk = tmp_path / "on-disk"
    monkeypatch.setenv("MEDIA_STORAGE", "filesystem")
    written = manage(
        "backup", "--output", str(on_disk), database=connection.settings_dict["NAME"], **folders
    )
    assert written.returncode == 0, written.stderr
    monkeypatch.setenv("MEDIA_STORAGE", "s3")
    refused = manage("restore", str(on_disk), database=database, **folders)
    assert refused.returncode == 1
    assert "nhưng trang này giữ tệp trong kho lưu trữ đối tượng" in refused.stderr
