import io
import json
import os
import stat
import zipfile

import pytest

from courses.h5p.validation import H5PValidationError, LibraryRef, validate_package
from tests.courses.h5p.support import (
    all_fixtures,
    edit_json,
    fixture,
    make_zip,
    media_files,
    read_entries,
    rebuild,
)

pytestmark = pytest.mark.usefixtures("english")
VALID = [p for p in all_fixtures() if not p.name.startswith("content-only")]


def refused(source) -> str:
    with pytest.raises(H5PValidationError) as caught:
        validate_package(source)
    assert "\n" not in caught.value.message
    return caught.value.message


def test_fixtures_are_all_present():
    assert len(all_fixtures()) == 7


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name.split("__")[0])
def test_every_fixture_package_validates(path):
    validated = validate_package(path)
    folders = {lib.ref.folder_name for lib in validated.libraries}
    with zipfile.ZipFile(path) as archive:
        expected = {
            n.split("/")[0] for n in archive.namelist() if "/" in n and not n.startswith("content/")
        }
    assert folders == expected
    assert "content.json" in validated.content_files
    assert validated.main_library.machine_name == validated.h5p_json["mainLibrary"]
    assert validated.upload_size == path.stat().st_size


def test_content_only_package_validates_without_libraries():
    validated = validate_package(fixture("content-only"))
    assert validated.libraries == []
    assert validated.main_library == LibraryRef("H5P.Blanks", 1, 14)
    assert set(validated.content_files) == {"content.json", "images/file-58449cb54c695.png"}


def test_stray_top_level_text_file_is_accepted_and_not_kept():
    validated = validate_package(fixture("truefalse"))
    assert "Ignored file: H5P_CONTENT_HERE.txt" in validated.warnings
    assert "H5P_CONTENT_HERE.txt" not in validated.content_files


def test_string_and_integer_versions_both_accepted():
    def to_ints(entries):
        def change(data):
            for dep in data["preloadedDependencies"]:
                dep["majorVersion"] = int(dep["majorVersion"])
                dep["minorVersion"] = int(dep["minorVersion"])

        edit_json(entries, "h5p.json", change)

    validated = validate_package(rebuild("truefalse", to_ints))
    assert validated.main_library == LibraryRef("H5P.TrueFalse", 1, 6)


def test_validation_writes_nothing(settings, tmp_path):
    validate_package(fixture("multichoice"))
    assert media_files(settings.MEDIA_ROOT) == []


def test_not_a_zip():
    assert refused(io.BytesIO(b"this is text, not a zip")) == (
        "The file is damaged: it is not a valid ZIP archive."
    )


def test_missing_h5p_json():
    message = refused(rebuild("truefalse", lambda e: e.pop("h5p.json") and None))
    assert message == "h5p.json is missing: this is not an H5P package."


def test_invalid_h5p_json():
    message = refused(rebuild("truefalse", lambda e: e.update({"h5p.json": b"{not json"})))
    assert message == "h5p.json is not valid JSON."


def test_h5p_json_without_main_library():
    message = refused(
        rebuild("truefalse", lambda e: edit_json(e, "h5p.json", lambda d: d.pop("mainLibrary")))
    )
    assert message == "h5p.json: mainLibrary is missing."


def test_invalid_library_json_names_the_folder():
    message = refused(
        rebuild("truefalse", lambda e: e.update({"H5P.Question-1.4/library.json": b"[oops"}))
    )
    assert message == "H5P.Question-1.4/library.json is not valid JSON."


def test_library_folder_without_library_json():
    message = refused(rebuild("truefalse", lambda e: e.pop("Tether-1.0/library.json") and None))
    assert message == "Library folder Tether-1.0 has no library.json."


def test_library_naming_a_file_it_lacks():
    message = refused(
        rebuild("truefalse", lambda e: e.pop("Tether-1.0/scripts/tether.min.js") and None)
    )
    assert message == (
        "Library Tether 1.0 names a file it does not contain: Tether-1.0/scripts/tether.min.js"
    )


def test_missing_content_json():
    message = refused(rebuild("truefalse", lambda e: e.pop("content/content.json") and None))
    assert message == "content/content.json is missing."


UNSAFE_PATHS = [
    "../evil.json",
    "/etc/evil.json",
    "content/../../evil.json",
    "content\\evil.json",
    "C:/evil.json",
    "content//evil.json",
]
OUTSIDE_WHITELIST = [
    "content/shell.php",
    "H5P.TrueFalse-1.6/run.exe",
    "content/page.html",
    "content/noextension",
    "content/drawing.svg",
]


@pytest.mark.parametrize(
    ("name", "data", "refusal"),
    [
        *[
            pytest.param(name, b"{}", "Unsafe path in the file", id=f"traversal:{name}")
            for name in UNSAFE_PATHS
        ],
        *[
            pytest.param(
                name, b"x", "File type not allowed in an H5P package", id=f"file-type:{name}"
            )
            for name in OUTSIDE_WHITELIST
        ],
    ],
)
def test_entry_with_a_refused_name(name, data, refusal):
    """Path traversal and files outside the whitelist are refused, naming the entry."""
    source = rebuild("truefalse", lambda e: e.update({name: data}))
    assert refused(source) == f"{refusal}: {name}"


def test_symlink_refused():
    link = zipfile.ZipInfo("content/link.json")
    link.create_system = 3
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    source = make_zip([*read_entries(fixture("truefalse")).items(), (link, b"/etc/passwd")])
    assert refused(source) == "Symbolic links are not allowed in the file: content/link.json"


def test_library_extras_allowed_only_in_library_folders():
    validated = validate_package(
        rebuild("truefalse", lambda e: e.update({"H5P.TrueFalse-1.6/extra.svg": b"<svg/>"}))
    )
    truefalse = next(lib for lib in validated.libraries if lib.ref.machine_name == "H5P.TrueFalse")
    assert truefalse.files["extra.svg"] == b"<svg/>"


def test_dot_and_underscore_names_are_ignored():
    extra = {
        "__MACOSX/content/._content.json": b"junk",
        "content/.DS_Store": b"x",
        "content/_notes/shell.php": b"<?php",
    }
    validated = validate_package(rebuild("truefalse", lambda e: e.update(extra)))
    assert set(validated.content_files) == {"content.json"}


def test_duplicate_entries_refused():
    entries = list(read_entries(fixture("truefalse")).items())
    entries.append(("content/content.json", b"{}"))
    with pytest.warns(UserWarning):
        source = make_zip(entries)
    assert refused(source) == "The file contains content/content.json twice."


def test_case_insensitive_duplicates_refused():
    source = rebuild("truefalse", lambda e: e.update({"content/Content.json": b"{}"}))
    assert refused(source) == (
        "The file contains both content/content.json and content/Content.json "
        "(same name, other case)."
    )


def test_zip_bomb_refused_from_the_directory_alone(settings):
    bomb = make_zip({"h5p.json": b"{}", "content/content.json": b"\0" * (20 * 1024 * 1024)})
    assert len(bomb.getvalue()) < 100_000
    assert refused(bomb) == ("The file is compressed suspiciously well (a ZIP bomb?); refused.")
    assert media_files(settings.MEDIA_ROOT) == []


def test_entry_ratio_checked_even_when_overall_ratio_is_fine(settings):
    settings.H5P_MAX_RATIO = 50
    noise = os.urandom(4 * 1024 * 1024)  # keeps the overall ratio low
    source = rebuild(
        "truefalse",
        lambda e: e.update({"content/noise.mp3": noise, "content/zeros.mp3": b"\0" * 4_000_000}),
    )
    assert refused(source) == (
        "content/zeros.mp3 is compressed suspiciously well (a ZIP bomb?); refused."
    )


def test_declared_size_cap(settings):
    settings.H5P_MAX_UNCOMPRESSED_BYTES = 1024 * 1024
    assert refused(fixture("truefalse")) == (
        "The file would unpack to 1.3\xa0MB; at most 1.0\xa0MB is allowed."
    )


def test_entry_count_cap(settings):
    settings.H5P_MAX_ENTRIES = 50
    assert refused(fixture("truefalse")) == "The file holds too many entries (133; at most 50)."


def test_upload_size_cap(settings):
    settings.H5P_MAX_UPLOAD_BYTES = 1024
    assert refused(fixture("greetingcard-minimal")) == (
        "The file is too large (34.9\xa0KB; at most 1.0\xa0KB)."
    )


def test_entry_larger_than_declared_refused():
    source = make_zip({"h5p.json": b"{}", "content/content.json": b"{" + b" " * 5000 + b"}"})
    data = bytearray(source.getvalue())
    # Lower the declared size of content/content.json in its central directory record.
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        info = archive.getinfo("content/content.json")
    central = data.rfind(b"PK\x01\x02", 0, data.rfind(b"content/content.json"))
    offset = central + 24  # uncompressed size field
    assert int.from_bytes(data[offset : offset + 4], "little") == info.file_size
    data[offset : offset + 4] = (10).to_bytes(4, "little")
    # zipfile stops at the declared size, and the CRC then fails: refused, nothing kept.
    assert refused(io.BytesIO(bytes(data))) == (
        "content/content.json cannot be read (damaged or encrypted)."
    )


def test_external_media_url_is_accepted():
    url = "https://www.youtube.com/watch?v=dQw4w9WgXcQ"

    def external(entries):
        edit_json(entries, "content/content.json", lambda d: d["image"].update(path=url))

    validated = validate_package(rebuild("greetingcard-minimal", external))
    assert json.loads(validated.content_files["content.json"])["image"]["path"] == url


def test_media_path_traversal_in_content_json_refused():
    def escape(entries):
        edit_json(entries, "content/content.json", lambda d: d["image"].update(path="../../x.jpg"))

    assert refused(rebuild("greetingcard-minimal", escape)) == (
        "content/content.json refers to an unsafe path: ../../x.jpg"
    )


def test_refusals_are_translated_to_vietnamese():
    from django.utils import translation

    with translation.override("vi"):
        message = refused(rebuild("truefalse", lambda e: e.update({"content/x.php": b"<?php"})))
    assert message == "Loại tệp không được phép trong gói H5P: content/x.php"
