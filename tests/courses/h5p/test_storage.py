import json

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from courses.h5p import storage
from courses.h5p.storage import (
    OPERATOR,
    MissingLibrariesError,
    filter_h5p_json,
    install_package,
)
from courses.h5p.validation import validate_package
from courses.models import H5PLibrary, H5PPackage
from tests.courses.h5p.support import (
    all_fixtures,
    blanks_library_package,
    fixture,
    media_files,
)
from tests.threads import failures, run_together

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

VALID = [p for p in all_fixtures() if not p.name.startswith("content-only")]


def install(source, **kwargs):
    return install_package(validate_package(source), **{"by": OPERATOR, **kwargs})


def library_json(folder: str) -> dict:
    with default_storage.open(f"h5p/libraries/{folder}/library.json") as handle:
        return json.load(handle)


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name.split("__")[0])
def test_every_valid_fixture_installs_in_the_player_layout(path):
    validated = validate_package(path)
    package = install_package(validated, by=OPERATOR, title="Bài 1")
    root = f"h5p/content/{package.uuid}"
    assert package.title == "Bài 1"
    assert package.main_library.machine_name == validated.h5p_json["mainLibrary"]
    # h5p.json as stored and played: its metadata filtered (H5P's metadata semantics).
    stored_h5p = json.loads(default_storage.open(f"{root}/h5p.json").read())
    assert stored_h5p == package.h5p_json == filter_h5p_json(validated.h5p_json)
    assert stored_h5p["title"] == validated.h5p_json["title"]
    # Content H5P itself wrote passes its libraries' semantics unchanged.
    stored_content = json.loads(default_storage.open(f"{root}/content/content.json").read())
    assert stored_content == json.loads(validated.content_files["content.json"])
    for name in validated.content_files:
        assert default_storage.exists(f"{root}/content/{name}")
    for lib in validated.libraries:
        assert library_json(lib.ref.folder_name)["machineName"] == lib.ref.machine_name
    # The package is linked to its whole dependency closure, all of it installed.
    names = set(package.libraries.values_list("machine_name", flat=True))
    assert validated.h5p_json["mainLibrary"] in names
    assert H5PLibrary.objects.count() == len(validated.libraries)


def test_title_defaults_to_h5p_json_title():
    assert install(fixture("truefalse")).title == "Hello World"


def test_content_only_package_refused_naming_the_missing_library(settings):
    with pytest.raises(MissingLibrariesError) as caught:
        install(fixture("content-only"))
    assert caught.value.message == (
        "Missing H5P libraries (upload a package that contains them first): H5P.Blanks 1.14"
    )
    assert H5PPackage.objects.count() == 0
    assert H5PLibrary.objects.count() == 0
    assert media_files(settings.MEDIA_ROOT) == []


def test_no_fixture_provides_blanks_1_14():
    provided = {
        (lib.ref.machine_name, lib.ref.major, lib.ref.minor)
        for path in VALID
        for lib in validate_package(path).libraries
    }
    assert ("H5P.Blanks", 1, 12) in provided
    assert ("H5P.Blanks", 1, 14) not in provided


def test_content_only_package_accepted_once_its_libraries_are_installed():
    install(blanks_library_package())
    package = install(fixture("content-only"))
    assert str(package.main_library) == "H5P.Blanks 1.14.11"
    assert default_storage.exists(
        f"h5p/content/{package.uuid}/content/images/file-58449cb54c695.png"
    )
    names = set(package.libraries.values_list("machine_name", flat=True))
    assert {"H5P.Blanks", "H5P.Question", "H5P.JoubelUI", "FontAwesome", "Tether"} <= names


def test_missing_dependency_of_a_packaged_library_is_named():
    from tests.courses.h5p.support import rebuild

    def drop_tether(entries):
        for name in [n for n in entries if n.startswith("Tether-1.0/")]:
            del entries[name]

    with pytest.raises(MissingLibrariesError) as caught:
        install(rebuild("truefalse", drop_tether))
    assert caught.value.missing[0].folder_name == "Tether-1.0"
    assert "Tether 1.0" in caught.value.message


def test_libraries_are_stored_once_and_shared(settings):
    first = install(fixture("truefalse"))
    second = install(fixture("dragtext"))
    assert H5PLibrary.objects.filter(machine_name="FontAwesome").count() == 1
    folders = {p.name for p in (settings.MEDIA_ROOT / "h5p" / "libraries").iterdir()}
    assert "FontAwesome-4.5" in folders
    font = H5PLibrary.objects.get(machine_name="FontAwesome")
    assert set(font.packages.all()) == {first, second}
    assert first.content_path != second.content_path


def test_newer_patch_replaces_older_after_commit(django_capture_on_commit_callbacks):
    install(fixture("truefalse"))  # H5P.JoubelUI 1.3.9
    assert library_json("H5P.JoubelUI-1.3")["patchVersion"] == 9
    with django_capture_on_commit_callbacks(execute=True):
        install(fixture("multichoice"))  # H5P.JoubelUI 1.3.12
    joubel = H5PLibrary.objects.get(machine_name="H5P.JoubelUI")
    assert joubel.patch_version == 12
    assert library_json("H5P.JoubelUI-1.3")["patchVersion"] == 12
    newer = next(
        lib
        for lib in validate_package(fixture("multichoice")).libraries
        if lib.ref.machine_name == "H5P.JoubelUI"
    )
    # Exactly the new patch's files: those only in the old patch are gone.
    assert sorted(storage.list_tree("h5p/libraries/H5P.JoubelUI-1.3")) == sorted(newer.files)
    assert H5PLibrary.objects.filter(machine_name="H5P.JoubelUI").count() == 1


def test_older_patch_never_overwrites_newer(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        install(fixture("multichoice"))  # 1.3.12
        install(fixture("dragtext"))  # 1.3.9
    assert H5PLibrary.objects.get(machine_name="H5P.JoubelUI").patch_version == 12
    assert library_json("H5P.JoubelUI-1.3")["patchVersion"] == 12


def test_failure_after_writing_removes_every_file_and_row(settings, monkeypatch):
    install(fixture("greetingcard-minimal"))
    before = media_files(settings.MEDIA_ROOT)
    real_write = storage._write
    calls = {"n": 0}

    def disk_full_after_40_files(name, data, written):
        calls["n"] += 1
        if calls["n"] > 40:
            raise OSError("No space left on device")
        real_write(name, data, written)

    monkeypatch.setattr(storage, "_write", disk_full_after_40_files)
    with pytest.raises(OSError, match="No space left"):
        install(fixture("truefalse"))
    assert calls["n"] == 41
    assert media_files(settings.MEDIA_ROOT) == before
    assert sorted(p.name for p in (settings.MEDIA_ROOT / "h5p" / "libraries").iterdir()) == [
        "H5P.GreetingCard1-1.0"
    ]
    assert H5PPackage.objects.count() == 1
    assert H5PLibrary.objects.count() == 1


def test_delete_removes_the_content_folder_and_keeps_libraries(
    settings, django_capture_on_commit_callbacks
):
    package = install(fixture("truefalse"))
    content = settings.MEDIA_ROOT / package.content_path
    assert (content / "content" / "content.json").is_file()
    with django_capture_on_commit_callbacks(execute=True):
        storage.delete_package(package)
    assert not content.exists()
    assert H5PPackage.objects.count() == 0
    assert (settings.MEDIA_ROOT / "h5p/libraries/H5P.TrueFalse-1.6/library.json").is_file()
    assert H5PLibrary.objects.filter(machine_name="H5P.TrueFalse").exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_installs_of_the_same_libraries_leave_one_copy(settings):
    validated = [validate_package(fixture(prefix)) for prefix in ("truefalse", "dragtext")]
    outcomes = run_together([lambda v=v: install_package(v, by=OPERATOR) for v in validated])
    # The loser of the race on a shared library row retries and reuses the winner's copy.
    assert failures(outcomes) == []
    packages = list(H5PPackage.objects.all())
    assert len(packages) == 2
    assert H5PLibrary.objects.filter(machine_name="FontAwesome").count() == 1
    for lib in H5PLibrary.objects.all():
        assert (settings.MEDIA_ROOT / "h5p/libraries" / lib.folder_name / "library.json").is_file()
    content = settings.MEDIA_ROOT / "h5p/content"
    assert sorted(p.name for p in content.iterdir()) == sorted(str(p.uuid) for p in packages)


def test_patch_upgrade_removes_files_only_the_old_patch_had(django_capture_on_commit_callbacks):
    from tests.courses.h5p.support import rebuild

    old = rebuild("truefalse", lambda e: e.update({"H5P.JoubelUI-1.3/css/old.css": b"a{}"}))
    install(old)  # H5P.JoubelUI 1.3.9 with an extra file
    assert default_storage.exists("h5p/libraries/H5P.JoubelUI-1.3/css/old.css")
    with django_capture_on_commit_callbacks(execute=True):
        install(fixture("multichoice"))  # 1.3.12
    assert not default_storage.exists("h5p/libraries/H5P.JoubelUI-1.3/css/old.css")
    assert library_json("H5P.JoubelUI-1.3")["patchVersion"] == 12


def test_a_library_admin_installs_content_for_installed_libraries_even_older_patches():
    from tests.courses.h5p.support import h5p_network

    net = h5p_network()
    install(fixture("multichoice"))  # H5P.JoubelUI 1.3.12 among others
    install(fixture("truefalse"))  # adds H5P.TrueFalse, H5P.Question 1.4…
    rows_before = list(H5PLibrary.objects.values_list("pk", "patch_version", "updated_at"))
    # The true/false package carries H5P.JoubelUI 1.3.9: older, ignored, so nothing to install.
    package = install(fixture("truefalse"), by=net.school_admin, library=net.school)
    assert package.library == net.school
    assert package.uploaded_by == net.school_admin
    assert list(H5PLibrary.objects.values_list("pk", "patch_version", "updated_at")) == (
        rows_before
    )
    assert library_json("H5P.JoubelUI-1.3")["patchVersion"] == 12


def test_a_package_belongs_only_to_a_library_its_uploader_administers(settings):
    from courses.h5p.storage import PackageOwnerRefused
    from tests.courses.h5p.support import h5p_network

    net = h5p_network()
    install(fixture("truefalse"))
    before = (H5PPackage.objects.count(), media_files(settings.MEDIA_ROOT))
    with pytest.raises(PackageOwnerRefused) as caught:
        install(fixture("truefalse"), by=net.school_admin, library=net.other_school)
    assert caught.value.message == f"You cannot add H5P activities for {net.other_school}."
    with pytest.raises(PackageOwnerRefused) as caught:
        install(fixture("truefalse"), by=net.school_admin, library=None)
    assert caught.value.message == "Choose the library this H5P activity belongs to."
    with pytest.raises(PackageOwnerRefused):
        install(fixture("truefalse"), by=net.librarian, library=net.school)
    assert (H5PPackage.objects.count(), media_files(settings.MEDIA_ROOT)) == before


def test_save_content_filters_what_it_writes():
    from courses.h5p.storage import save_content, stored_params
    from tests.courses.h5p.support import h5p_network

    net = h5p_network()
    package = install(fixture("truefalse"), library=net.school)
    params = stored_params(package)
    params["question"] = "<p>Mới <em>nhé</em></p><img src=x onerror=alert(1)>"
    saved = save_content(package=package, params=params, by=net.school_admin)
    assert saved["question"] == "<p>Mới <em>nhé</em></p>"
    assert stored_params(package) == saved
    with pytest.raises(storage.PackageOwnerRefused):
        save_content(package=package, params={"question": "x"}, by=net.other_school_admin)
    assert stored_params(package) == saved


def test_refilter_cleans_packages_stored_before_filtering():
    from courses.h5p.storage import refilter_stored_content, stored_params

    package = install(fixture("truefalse"))
    clean = stored_params(package)
    # As a package stored by the earlier version could be: unfiltered on disk.
    dirty = {**clean, "question": "<p>Q</p><script>alert(1)</script>", "extra": "<b>"}
    name = f"h5p/content/{package.uuid}/content/content.json"
    default_storage.delete(name)
    default_storage.save(name, ContentFile(json.dumps(dirty).encode()))
    assert [p.pk for p in refilter_stored_content()] == [package.pk]
    assert stored_params(package) == {**clean, "question": "<p>Q</p>alert(1)"}
    assert refilter_stored_content() == []  # filtering again changes nothing
