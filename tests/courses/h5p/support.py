"""Fixture packages from tests/fixtures/h5p and crafted zips for the H5P tests."""

import io
import json
import zipfile
from pathlib import Path

from tests.fixture_files import FIXTURES as FIXTURE_ROOT

FIXTURES = FIXTURE_ROOT / "h5p"


def fixture(prefix: str) -> Path:
    """The fixture package whose file name starts with `prefix` (e.g. "truefalse")."""
    (path,) = FIXTURES.glob(f"{prefix}__*.h5p")
    return path


def all_fixtures() -> list[Path]:
    return sorted(FIXTURES.glob("*.h5p"))


def read_entries(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {i.filename: archive.read(i) for i in archive.infolist() if not i.is_dir()}


def make_zip(entries, *, compression=zipfile.ZIP_DEFLATED) -> io.BytesIO:
    """A zip from {name: bytes} or a list of (name or ZipInfo, bytes); duplicates allowed."""
    items = entries.items() if isinstance(entries, dict) else entries
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, data in items:
            archive.writestr(name, data)
    buffer.seek(0)
    return buffer


def rebuild(prefix: str, change) -> io.BytesIO:
    """A fixture package with its entries passed through change(entries) -> entries."""
    entries = read_entries(fixture(prefix))
    return make_zip(change(entries) or entries)


def edit_json(entries: dict, name: str, change) -> None:
    data = json.loads(entries[name])
    change(data)
    entries[name] = json.dumps(data).encode()


def blanks_library_package() -> io.BytesIO:
    """A package providing H5P.Blanks 1.14 (the column fixture's Blanks 1.12 renumbered).

    No fixture carries H5P.Blanks 1.14, which the content-only fixture needs; this stands in
    for an h5p.org package of that version.
    """
    source = read_entries(fixture("column-mc-tf-blanks"))
    keep = (
        "H5P.Blanks-1.12/",
        "FontAwesome-4.5/",
        "H5P.Question-1.4/",
        "H5P.JoubelUI-1.3/",
        "H5P.TextUtilities-1.3/",
        "H5P.Transition-1.0/",
        "Drop-1.0/",
        "Tether-1.0/",
        "H5P.FontIcons-1.0/",
    )
    entries = {}
    for name, data in source.items():
        if name.startswith(keep):
            entries[name.replace("H5P.Blanks-1.12/", "H5P.Blanks-1.14/")] = data
    edit_json(entries, "H5P.Blanks-1.14/library.json", lambda d: d.update(minorVersion=14))
    entries["h5p.json"] = json.dumps(
        {
            "title": "Blanks 1.14",
            "language": "und",
            "mainLibrary": "H5P.Blanks",
            "embedTypes": ["div"],
            "preloadedDependencies": [
                {"machineName": "H5P.Blanks", "majorVersion": 1, "minorVersion": 14}
            ],
        }
    ).encode()
    entries["content/content.json"] = json.dumps({"text": "Fill in", "questions": ["*a*"]}).encode()
    return make_zip(entries)


def media_files(media_root: Path) -> list[str]:
    """Every file under MEDIA_ROOT, as sorted relative paths."""
    if not media_root.exists():
        return []
    return sorted(str(p.relative_to(media_root)) for p in media_root.rglob("*") if p.is_file())


def upload_file(prefix_or_buffer, name="activity.h5p"):
    """An uploaded .h5p for the admin form: a fixture by prefix, or a crafted zip buffer."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    if isinstance(prefix_or_buffer, str):
        path = fixture(prefix_or_buffer)
        return SimpleUploadedFile(path.name, path.read_bytes(), "application/zip")
    return SimpleUploadedFile(name, prefix_or_buffer.getvalue(), "application/zip")


def h5p_network():
    """A province above a district above two schools, with an admin at each level and a
    librarian at the first school (the staff the H5P permission tests need)."""
    from types import SimpleNamespace

    from libraries.models import Library, Role
    from tests.factories import LibraryFactory, member

    province = LibraryFactory(name="Thư viện tỉnh", kind=Library.Kind.PROVINCIAL)
    district = LibraryFactory(name="Thư viện huyện", kind=Library.Kind.DISTRICT, parent=province)
    school = LibraryFactory(name="Trường A", parent=district)
    other_school = LibraryFactory(name="Trường B", parent=district)
    return SimpleNamespace(
        province=province,
        district=district,
        school=school,
        other_school=other_school,
        network_admin=member(province, Role.NETWORK_ADMIN),
        district_admin=member(district, Role.LIBRARY_ADMIN),
        school_admin=member(school, Role.LIBRARY_ADMIN),
        other_school_admin=member(other_school, Role.LIBRARY_ADMIN),
        librarian=member(school, Role.LIBRARIAN),
    )
