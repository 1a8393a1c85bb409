"""The staff audit log of H5P (courses/h5p/storage.py): library installs and upgrades (network
admins only: entries without a library), package uploads, renames, content replacements and
deletions (on the package's owner library). The edit and delete screens write these entries
instead of Wagtail's generic wagtail.edit / wagtail.delete. Refusals write nothing."""

import hashlib
import json

import pytest
from django.core.files.storage import default_storage
from django.test import Client
from wagtail.models import ModelLogEntry

from courses.h5p import storage
from courses.h5p.storage import (
    LIBRARY_INSTALL_ACTION,
    LIBRARY_UPGRADE_ACTION,
    OPERATOR,
    PACKAGE_CONTENT_ACTION,
    PACKAGE_DELETE_ACTION,
    PACKAGE_EDIT_ACTION,
    PACKAGE_UPLOAD_ACTION,
    PackageOwnerRefused,
    install_package,
)
from courses.h5p.validation import validate_package
from courses.models import H5PLibrary, H5PPackage
from tests.courses.audit.support import entries_since, mark, rows_since
from tests.courses.h5p.support import edit_json, fixture, h5p_network, rebuild, upload_file

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

ADD_URL = "/admin/h5p/new/"


def operator_install(source, **kwargs):
    return install_package(validate_package(source), by=OPERATOR, **kwargs)


def upload(client, source, title="", library=""):
    return client.post(ADD_URL, {"title": title, "library": library, "file": upload_file(source)})


def truefalse_patch(patch: int):
    """The true/false fixture with H5P.TrueFalse 1.6 at another patch version."""
    return rebuild(
        "truefalse",
        lambda entries: edit_json(
            entries, "H5P.TrueFalse-1.6/library.json", lambda d: d.update(patchVersion=patch)
        ),
    )


def package_state():
    return sorted(H5PPackage.objects.values_list("pk", "title", "library_id", "updated_at"))


def library_state():
    return sorted(H5PLibrary.objects.values_list("pk", "patch_version", "updated_at"))


def test_a_network_admin_upload_logs_each_library_installed_and_the_package(client):
    net = h5p_network()
    client.force_login(net.network_admin)
    marker = mark()
    assert upload(client, "truefalse", title="Đúng hay sai?").status_code == 302
    package = H5PPackage.objects.get()
    libraries = H5PLibrary.objects.order_by("pk")
    installs = [
        (LIBRARY_INSTALL_ACTION, net.network_admin.pk, H5PLibrary, row.pk,
         {"before": {},
          "after": {"machine_name": row.machine_name, "major_version": row.major_version,
                    "minor_version": row.minor_version, "patch_version": row.patch_version}})
        for row in libraries
    ]  # fmt: skip
    # Library code is the network admins' matter: no library, so only they read these.
    assert len(installs) == 10
    assert rows_since(marker) == [
        *installs,
        (PACKAGE_UPLOAD_ACTION, net.network_admin.pk, H5PPackage, package.pk,
         {"before": {},
          "after": {"title": "Đúng hay sai?", "uuid": str(package.uuid),
                    "main_library": package.main_library_id, "library": None}}),
    ]  # fmt: skip


def test_an_upgrade_logs_the_patch_before_and_after(client):
    net = h5p_network()
    operator_install(fixture("truefalse"))
    row = H5PLibrary.objects.get(machine_name="H5P.TrueFalse")
    client.force_login(net.network_admin)
    marker = mark()
    assert upload(client, truefalse_patch(2), library=net.school.pk).status_code == 302
    package = H5PPackage.objects.get(library=net.school)
    assert rows_since(marker) == [
        (LIBRARY_UPGRADE_ACTION, net.network_admin.pk, H5PLibrary, row.pk,
         {"before": {"patch_version": 1}, "after": {"patch_version": 2}}),
        (PACKAGE_UPLOAD_ACTION, net.network_admin.pk, H5PPackage, package.pk,
         {"before": {},
          "after": {"title": "Hello World", "uuid": str(package.uuid),
                    "main_library": row.pk, "library": net.school.pk},
          "library": net.school.pk}),
    ]  # fmt: skip


def test_a_school_admin_upload_is_logged_on_the_school(client):
    net = h5p_network()
    operator_install(fixture("truefalse"))
    client.force_login(net.school_admin)
    marker = mark()
    response = upload(client, "truefalse", title="Bài của trường", library=net.school.pk)
    assert response.status_code == 302
    package = H5PPackage.objects.get(library=net.school)
    assert rows_since(marker) == [
        (PACKAGE_UPLOAD_ACTION, net.school_admin.pk, H5PPackage, package.pk,
         {"before": {},
          "after": {"title": "Bài của trường", "uuid": str(package.uuid),
                    "main_library": package.main_library_id, "library": net.school.pk},
          "library": net.school.pk}),
    ]  # fmt: skip


def test_a_refused_upgrade_writes_nothing(client):
    net = h5p_network()
    operator_install(fixture("truefalse"))
    client.force_login(net.school_admin)
    marker, packages, libraries = mark(), package_state(), library_state()
    response = upload(client, truefalse_patch(2), library=net.school.pk)
    assert response.status_code == 200
    assert response.context["form"].errors["file"]
    assert (package_state(), library_state()) == (packages, libraries)
    assert entries_since(marker) == []


def test_an_upload_out_of_reach_writes_nothing(client):
    net = h5p_network()
    operator_install(fixture("truefalse"))
    client.force_login(net.school_admin)
    marker, packages = mark(), package_state()
    response = upload(client, "truefalse", library=net.other_school.pk)
    assert response.status_code == 200
    assert response.context["form"].errors["library"]
    assert package_state() == packages
    assert entries_since(marker) == []


def test_the_edit_screen_logs_the_rename_instead_of_wagtail_edit(client):
    net = h5p_network()
    package = operator_install(fixture("truefalse"), title="Cũ", library=net.school)
    client.force_login(net.district_admin)
    marker = mark()
    response = client.post(f"/admin/h5p/edit/{package.pk}/", {"title": "Mới"})
    assert response.status_code == 302
    assert H5PPackage.objects.get(pk=package.pk).title == "Mới"
    assert rows_since(marker) == [
        (PACKAGE_EDIT_ACTION, net.district_admin.pk, H5PPackage, package.pk,
         {"before": {"title": "Cũ"}, "after": {"title": "Mới"}, "library": net.school.pk}),
    ]  # fmt: skip
    # Saved again unchanged: nothing changed, nothing logged.
    marker = mark()
    assert client.post(f"/admin/h5p/edit/{package.pk}/", {"title": "Mới"}).status_code == 302
    assert entries_since(marker) == []
    assert not ModelLogEntry.objects.filter(action="wagtail.edit").exists()


def test_the_delete_screen_logs_the_deletion_instead_of_wagtail_delete(
    client, django_capture_on_commit_callbacks
):
    net = h5p_network()
    package = operator_install(fixture("truefalse"), title="Xoá tôi", library=net.school)
    values = {"title": "Xoá tôi", "uuid": str(package.uuid),
              "main_library": package.main_library_id, "library": net.school.pk}  # fmt: skip
    client.force_login(net.school_admin)
    marker = mark()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/admin/h5p/delete/{package.pk}/")
    assert response.status_code == 302
    assert not H5PPackage.objects.filter(pk=package.pk).exists()
    assert rows_since(marker) == [
        (PACKAGE_DELETE_ACTION, net.school_admin.pk, H5PPackage, package.pk,
         {"before": values, "after": {}, "library": net.school.pk}),
    ]  # fmt: skip
    assert not ModelLogEntry.objects.filter(action="wagtail.delete").exists()


@pytest.mark.parametrize("verb", ["edit", "delete"])
def test_a_school_admin_cannot_change_its_districts_package_and_nothing_is_logged(client, verb):
    net = h5p_network()
    package = operator_install(fixture("truefalse"), title="Của huyện", library=net.district)
    client.force_login(net.school_admin)
    marker, packages = mark(), package_state()
    response = client.post(f"/admin/h5p/{verb}/{package.pk}/", {"title": "Đổi"})
    assert response.status_code == 404
    assert package_state() == packages
    assert entries_since(marker) == []


def test_deleting_without_the_csrf_token_writes_nothing():
    net = h5p_network()
    package = operator_install(fixture("truefalse"), library=net.school)
    client = Client(enforce_csrf_checks=True)
    client.force_login(net.school_admin)
    marker, packages = mark(), package_state()
    assert client.post(f"/admin/h5p/delete/{package.pk}/").status_code == 403
    assert package_state() == packages
    assert entries_since(marker) == []


def test_replacing_the_content_logs_the_digests_before_and_after():
    net = h5p_network()
    package = operator_install(fixture("truefalse"), library=net.school)
    name = f"{package.content_path}/content/content.json"
    with default_storage.open(name) as handle:
        old = hashlib.sha256(handle.read()).hexdigest()
    params = storage.stored_params(package)
    params["question"] = "<p>Câu hỏi mới</p>"
    marker = mark()
    saved = storage.save_content(package=package, params=params, by=net.school_admin)
    new = hashlib.sha256(json.dumps(saved, ensure_ascii=False).encode()).hexdigest()
    assert old != new
    assert rows_since(marker) == [
        (PACKAGE_CONTENT_ACTION, net.school_admin.pk, H5PPackage, package.pk,
         {"before": {"content_sha256": old}, "after": {"content_sha256": new},
          "library": net.school.pk}),
    ]  # fmt: skip


def test_a_refused_content_replacement_writes_nothing():
    net = h5p_network()
    package = operator_install(fixture("truefalse"), library=net.school)
    before = storage.stored_params(package)
    marker = mark()
    with pytest.raises(PackageOwnerRefused):
        storage.save_content(package=package, params={"question": "x"}, by=net.other_school_admin)
    assert storage.stored_params(package) == before
    assert entries_since(marker) == []
