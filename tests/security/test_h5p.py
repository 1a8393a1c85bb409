"""Issue 11, part 1: H5P code ran as the site.

Replayed over HTTP with the admin upload form:

(a) a school admin uploaded a package carrying a new library (its JavaScript later ran in the
    network admin's browser and made the school admin a network admin);
(b) a higher patch of an installed library replaced its code for every lesson;
(c) a package with no JavaScript at all, only <img onerror=…> in a content.json text field,
    ran in the admin preview;
(d) a school admin deleted the network's package used in a demo lesson;
(e) what stays allowed: network admins install and upgrade libraries.
"""

import json

import pytest
from django.core.files.storage import default_storage

from courses.h5p.storage import OPERATOR, LibraryInstallRefused, install_package
from courses.h5p.validation import validate_package
from courses.models import H5PLibrary, H5PPackage
from tests.courses.h5p.support import (
    edit_json,
    fixture,
    h5p_network,
    make_zip,
    media_files,
    read_entries,
    rebuild,
    upload_file,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]
ADD_URL = "/admin/h5p/new/"
EVIL_JS = b"fetch('/admin/memberships/new/', {method: 'POST'});"


def evil_library_package():
    """A package whose main library is new code: H5P.Evil 1.0.0 with one script."""
    library = {
        "title": "Evil",
        "machineName": "H5P.Evil",
        "majorVersion": 1,
        "minorVersion": 0,
        "patchVersion": 0,
        "runnable": 1,
        "preloadedJs": [{"path": "evil.js"}],
    }
    h5p = {
        "title": "Bài tập vui",
        "language": "vi",
        "mainLibrary": "H5P.Evil",
        "embedTypes": ["div"],
        "preloadedDependencies": [
            {"machineName": "H5P.Evil", "majorVersion": 1, "minorVersion": 0}
        ],
    }
    return make_zip(
        {
            "h5p.json": json.dumps(h5p).encode(),
            "content/content.json": b"{}",
            "H5P.Evil-1.0/library.json": json.dumps(library).encode(),
            "H5P.Evil-1.0/evil.js": EVIL_JS,
        }
    )


def joubel_patch_10():
    """The true/false fixture with H5P.JoubelUI 1.3.9 turned into a 1.3.10 with other code."""

    def bump(entries):
        edit_json(entries, "H5P.JoubelUI-1.3/library.json", lambda d: d.update(patchVersion=10))
        entries["H5P.JoubelUI-1.3/js/joubel-ui.js"] += b"\n" + EVIL_JS

    return rebuild("truefalse", bump)


XSS_QUESTION = (
    "<p><strong>Đúng</strong> hay sai?</p><img src=x onerror=alert(1)><script>alert(2)</script>"
)


def content_only_xss_package():
    """No library, no JavaScript: only content for the installed H5P.TrueFalse 1.6."""
    content = json.loads(read_entries(fixture("truefalse"))["content/content.json"])
    content["question"] = XSS_QUESTION
    content["l10n"]["checkAnswer"] = "<img src=x onerror=alert(3)>"
    content["media"]["onerror"] = "alert(4)"
    h5p = {
        "title": "Câu hỏi",
        "language": "vi",
        "mainLibrary": "H5P.TrueFalse",
        "embedTypes": ["div"],
        "preloadedDependencies": [
            {"machineName": "H5P.TrueFalse", "majorVersion": 1, "minorVersion": 6}
        ],
    }
    return make_zip(
        {"h5p.json": json.dumps(h5p).encode(), "content/content.json": json.dumps(content).encode()}
    )


def post_upload(client, package, library, title=""):
    data = {"title": title, "library": library.pk if library else "", "file": upload_file(package)}
    return client.post(ADD_URL, data)


def stored_state(settings):
    return (
        H5PPackage.objects.count(),
        list(H5PLibrary.objects.values_list("machine_name", "patch_version", "metadata")),
        media_files(settings.MEDIA_ROOT),
    )


def library_files(settings, folder):
    root = settings.MEDIA_ROOT / "h5p" / "libraries" / folder
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_a_school_admin_cannot_install_a_new_library(client, settings):
    net = h5p_network()
    install_package(validate_package(fixture("truefalse")), by=OPERATOR)
    before = stored_state(settings)
    client.force_login(net.school_admin)

    response = post_upload(client, evil_library_package(), net.school)

    assert response.status_code == 200
    assert response.context["form"].errors["file"] == [
        "This package would install the H5P library H5P.Evil 1.0.0, which is not on the site "
        "yet. Only a network administrator can install or upgrade H5P libraries: ask one to "
        "upload this package first."
    ]
    assert stored_state(settings) == before
    assert not H5PLibrary.objects.filter(machine_name="H5P.Evil").exists()
    assert not (settings.MEDIA_ROOT / "h5p/libraries/H5P.Evil-1.0").exists()


def test_a_school_admin_cannot_upgrade_an_installed_library(
    client, settings, django_capture_on_commit_callbacks
):
    net = h5p_network()
    install_package(validate_package(fixture("truefalse")), by=OPERATOR)
    before = stored_state(settings)
    code_before = library_files(settings, "H5P.JoubelUI-1.3")
    client.force_login(net.school_admin)

    with django_capture_on_commit_callbacks(execute=True):
        response = post_upload(client, joubel_patch_10(), net.school)

    assert response.status_code == 200
    assert response.context["form"].errors["file"] == [
        "This package would upgrade the H5P library H5P.JoubelUI 1.3.9 to 1.3.10. Only a "
        "network administrator can install or upgrade H5P libraries: ask one to upload this "
        "package first."
    ]
    assert stored_state(settings) == before
    assert library_files(settings, "H5P.JoubelUI-1.3") == code_before


def test_the_refusal_holds_in_the_service_too(settings):
    """A caller that skips the form's check meets the same refusal, before any write."""
    net = h5p_network()
    before = stored_state(settings)
    with pytest.raises(LibraryInstallRefused) as caught:
        install_package(
            validate_package(evil_library_package()), by=net.school_admin, library=net.school
        )
    assert caught.value.library.ref.machine_name == "H5P.Evil"
    assert stored_state(settings) == before


def test_content_parameters_are_filtered_before_anyone_plays_them(client, settings):
    net = h5p_network()
    install_package(validate_package(fixture("truefalse")), by=OPERATOR)
    client.force_login(net.school_admin)

    response = post_upload(client, content_only_xss_package(), net.school, title="Câu hỏi")

    assert response.status_code == 302
    package = H5PPackage.objects.get(title="Câu hỏi")
    assert package.library == net.school
    path = f"{package.content_path}/content/content.json"
    with default_storage.open(path) as handle:
        stored = json.load(handle)
    # The question's semantics allow strong, em, sub, sup, h2, h3 (plus p, div, span, br).
    assert stored["question"] == "<p><strong>Đúng</strong> hay sai?</p>alert(2)"
    # A plain text field keeps no markup at all.
    assert stored["l10n"]["checkAnswer"] == "&lt;img src=x onerror=alert(3)&gt;"
    assert "onerror" not in stored["media"]
    # What the player fetches is the stored, filtered file.
    served = client.get(f"/media/{path}")
    assert served.status_code == 200
    assert json.loads(b"".join(served.streaming_content)) == stored
    # The admin preview plays that file.
    client.force_login(net.network_admin)
    preview = client.get(f"/admin/h5p/inspect/{package.pk}/")
    assert preview.status_code == 200
    assert f'data-content-json-path="/media/{package.content_path}/content"' in (
        preview.content.decode()
    )


def test_a_school_admin_cannot_edit_or_delete_the_networks_package(client, settings):
    net = h5p_network()
    package = install_package(
        validate_package(fixture("truefalse")), by=OPERATOR, title="Bài mẫu của mạng lưới"
    )
    before = stored_state(settings)
    client.force_login(net.school_admin)

    # The network's package is listed for them (they may use it), never offered to change.
    index = client.get("/admin/h5p/").content.decode()
    assert "Bài mẫu của mạng lưới" in index
    assert f"/admin/h5p/edit/{package.pk}/" not in index
    assert f"/admin/h5p/delete/{package.pk}/" not in index
    assert client.get(f"/admin/h5p/edit/{package.pk}/").status_code == 404
    edit = client.post(f"/admin/h5p/edit/{package.pk}/", {"title": "Đã chiếm"})
    assert edit.status_code == 404
    assert client.get(f"/admin/h5p/delete/{package.pk}/").status_code == 404
    delete = client.post(f"/admin/h5p/delete/{package.pk}/")
    assert delete.status_code == 404

    package.refresh_from_db()
    assert package.title == "Bài mẫu của mạng lưới"
    assert stored_state(settings) == before


def test_a_school_admin_cannot_reach_another_schools_package(client, settings):
    net = h5p_network()
    package = install_package(
        validate_package(fixture("truefalse")), by=OPERATOR, library=net.other_school
    )
    before = stored_state(settings)
    client.force_login(net.school_admin)

    for url in (
        f"/admin/h5p/inspect/{package.pk}/",
        f"/admin/h5p/edit/{package.pk}/",
        f"/admin/h5p/delete/{package.pk}/",
    ):
        assert client.get(url).status_code == 404
    assert client.post(f"/admin/h5p/delete/{package.pk}/").status_code == 404
    assert stored_state(settings) == before


def test_a_network_admin_installs_and_upgrades_libraries(
    client, settings, django_capture_on_commit_callbacks
):
    net = h5p_network()
    client.force_login(net.network_admin)

    first = post_upload(client, "truefalse", None)
    assert first.status_code == 302
    assert H5PLibrary.objects.get(machine_name="H5P.JoubelUI").patch_version == 9

    with django_capture_on_commit_callbacks(execute=True):
        second = post_upload(client, joubel_patch_10(), None, title="Bản vá")
    assert second.status_code == 302
    assert H5PLibrary.objects.get(machine_name="H5P.JoubelUI").patch_version == 10
    code = library_files(settings, "H5P.JoubelUI-1.3")
    assert json.loads(code["library.json"])["patchVersion"] == 10
    assert code["js/joubel-ui.js"].endswith(EVIL_JS)
    assert H5PPackage.objects.filter(library=None).count() == 2
