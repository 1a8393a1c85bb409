import json

import pytest
from django.core.files.storage import default_storage

from courses.h5p import storage
from courses.h5p.storage import MissingLibrariesError, install_package
from courses.h5p.validation import validate_package
from courses.models import H5PLibrary, H5PPackage
from tests.courses.h5p.support import (
    all_fixtures,
    blanks_library_package,
    english,  # noqa: F401
    fixture,
    media_files,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

VALID = [p for p in all_fixtures() if not p.name.startswith("content-only")]


def install(source, **kwargs):
    return install_package(validate_package(source), **kwargs)


def library_json(folder: str) -> dict:
    with default_storage.open(f"h5p/libraries/{folder}/library.json") as handle:
        return json.load(handle)


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name.split("__")[0])
def test_every_valid_fixture_installs_in_the_player_layout(path):
    validated = validate_package(path)
    package = install_package(validated, title="Bài 1")
    root = f"h5p/content/{package.uuid}"
    assert package.title == "Bài 1"
    assert package.main_library.machine_name == validated.h5p_json["mainLibrary"]
    assert json.loads(default_storage.open(f"{root}/h5p.json").read()) == validated.h5p_json
    assert default_storage.exists(f"{root}/content/content.json")
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
    import threading

    from django.db import connection

    errors = []
    barrier = threading.Barrier(2)

    def worker(prefix):
        try:
            validated = validate_package(fixture(prefix))
            barrier.wait()
            install_package(validated)
        except Exception as exc:  # noqa: BLE001 (collected and asserted below)
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(p,)) for p in ("truefalse", "dragtext")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # The loser of the race on a shared library row retries and reuses the winner's copy.
    assert errors == []
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
