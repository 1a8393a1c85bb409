"""Validate an uploaded .h5p file before anything is written. Pure: reads, never writes.

`validate_package(fileobj_or_path)` returns a `ValidatedPackage` (the files to store, already
read with caps) or raises `H5PValidationError` with one translated line naming the file or
library at fault.

Order of checks, cheapest and most dangerous first:

1. The one ZIP guard of every upload (training_site/archives.py) with the H5P caps: upload
   size (``H5P_MAX_UPLOAD_BYTES``), a real ZIP, then from the central directory only (nothing
   decompressed) entry count (``H5P_MAX_ENTRIES``), declared uncompressed total
   (``H5P_MAX_UNCOMPRESSED_BYTES``), compression ratio per entry (entries over 64 KiB) and
   overall (``H5P_MAX_RATIO``), path traversal (absolute paths, ``..``, backslashes, drive
   letters, NUL), symlinks, duplicate names (also case-insensitive duplicates).
2. The official H5P file whitelist by location (``content/`` and top-level files: content list;
   library folders: content list plus js, css, svg, xml). Names with a path part starting with
   ``.`` or ``_`` are ignored as H5P does (``__MACOSX/``, ``.DS_Store``); they are never read.
3. Reading: each kept entry is read with a cap (its declared size, never more than what is
   left of the total budget); a lying header or a bad CRC is refused.
4. Meaning: pyh5p parses h5p.json, library.json and semantics.json, then our policy judges
   each of its findings (below).

Policy on pyh5p's findings (real packages that H5P itself accepts must be accepted):

- h5p.json missing, not JSON, or missing/mistyped title, language, mainLibrary,
  preloadedDependencies, embedTypes (H5P core requires all five): fatal.
- content/content.json missing or not a JSON object: fatal.
- "unexpected top-level package file" (e.g. H5P_CONTENT_HERE.txt): accepted, as H5P does; the
  file must still be on the whitelist, and it is not stored.
- "media path is unsafe": an absolute http(s) URL is external media (a YouTube link) and is
  accepted; any other unsafe path (``..``, absolute, backslash) is fatal.
- "referenced media is not packaged": a warning (H5P does not check it; the player shows a
  broken image at worst).
- "main library is not included": not judged here; storage accepts it only when the missing
  libraries are already installed, and refuses naming each one otherwise.
- A library folder without library.json, with invalid JSON, missing a field H5P core requires
  (title, machineName, majorVersion, minorVersion, patchVersion, runnable), with a machine
  name H5P would refuse, in a folder not named after it, defined twice, or whose
  preloadedJs/preloadedCss names a file not in the folder: fatal.
- pyh5p refuses machine names containing ``_``; H5P core allows them, so we use H5P's rule.
- semantics.json that is not JSON: fatal (H5P core refuses it). Semantics that pyh5p cannot
  model, and content that does not match the semantics: warnings. H5P core does not check
  content against semantics on upload (it filters parameters when it renders), and real
  packages often differ (a group with one field is stored unwrapped, for instance).

Versions in h5p.json and library.json may be strings ("1") or integers (1).
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from django.conf import settings
from django.utils.translation import gettext as _
from pyh5p.content import H5PContent
from pyh5p.errors import H5PError
from pyh5p.library import LibraryId, LibraryStore
from pyh5p.package import H5PPackage as PyH5PPackage
from pyh5p.package import PackagedLibrary

from training_site.archives import ArchiveRefused, Entry, ZipLimits, open_zip, read_entries

CONTENT_EXTENSIONS = frozenset(
    [
        "json",
        "png",
        "jpg",
        "jpeg",
        "gif",
        "bmp",
        "tif",
        "tiff",
        "eot",
        "ttf",
        "woff",
        "woff2",
        "otf",
        "webm",
        "mp4",
        "ogg",
        "mp3",
        "m4a",
        "wav",
        "txt",
        "pdf",
        "rtf",
        "doc",
        "docx",
        "xls",
        "xlsx",
        "ppt",
        "pptx",
        "odt",
        "ods",
        "odp",
        "csv",
        "diff",
        "patch",
        "swf",
        "md",
        "textile",
        "vtt",
        "webvtt",
        "gltf",
        "glb",
    ]
)
LIBRARY_EXTENSIONS = CONTENT_EXTENSIONS | {"js", "css", "svg", "xml"}

DEFAULT_MAX_UPLOAD_BYTES = 100 * 1024 * 1024
DEFAULT_MAX_ENTRIES = 5000
DEFAULT_MAX_UNCOMPRESSED_BYTES = 300 * 1024 * 1024
DEFAULT_MAX_RATIO = 100

# H5P core's rule for machine names (h5p.classes.php, $libraryRequired).
MACHINE_NAME_RE = re.compile(r"^[\w.\-]{1,255}$", re.ASCII)
URL_RE = re.compile(r"^https?://", re.IGNORECASE)
H5P_REQUIRED = ("title", "language", "mainLibrary", "preloadedDependencies", "embedTypes")
LIBRARY_REQUIRED = ("title", "machineName", "majorVersion", "minorVersion", "patchVersion")


class H5PValidationError(Exception):
    """The package is refused. `message` is one translated line naming what is wrong."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class LibraryRef:
    """A library as a dependency names it: machine name and major.minor."""

    machine_name: str
    major: int
    minor: int

    def __str__(self) -> str:
        return f"{self.machine_name} {self.major}.{self.minor}"

    @property
    def folder_name(self) -> str:
        return f"{self.machine_name}-{self.major}.{self.minor}"


@dataclass
class PackagedLibraryFiles:
    """One library folder of the package, read and checked."""

    ref: LibraryRef
    patch: int
    metadata: dict[str, Any]
    files: dict[str, bytes]  # path inside the library folder -> bytes

    @property
    def dependencies(self) -> list[LibraryRef]:
        return parse_dependencies(
            self.metadata.get("preloadedDependencies"), where=f"{self.ref.folder_name}/library.json"
        )


@dataclass
class ValidatedPackage:
    """Everything needed to install a package, already read from the archive."""

    h5p_json: dict[str, Any]
    content_files: dict[str, bytes]  # path inside content/ -> bytes (content.json included)
    libraries: list[PackagedLibraryFiles]
    upload_size: int
    warnings: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        return str(self.h5p_json.get("title", "")).strip()

    @property
    def main_library_name(self) -> str:
        return self.h5p_json["mainLibrary"]

    @property
    def preloaded(self) -> list[LibraryRef]:
        return parse_dependencies(self.h5p_json.get("preloadedDependencies"), where="h5p.json")

    @property
    def main_library(self) -> LibraryRef:
        for ref in self.preloaded:
            if ref.machine_name == self.main_library_name:
                return ref
        raise H5PValidationError(  # checked in validate_package; kept for direct callers
            _("h5p.json: the main library %(name)s is not among preloadedDependencies.")
            % {"name": self.main_library_name}
        )

    @property
    def h5p_json_bytes(self) -> bytes:
        return json.dumps(self.h5p_json, ensure_ascii=False).encode("utf-8")


def _cap(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def _version(value: Any, *, where: str, what: str) -> int:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        number = -1
    if number < 0:
        raise H5PValidationError(
            _("%(file)s: %(field)s must be a whole number, not %(value)r.")
            % {"file": where, "field": what, "value": value}
        )
    return number


def parse_dependencies(value: Any, *, where: str) -> list[LibraryRef]:
    """preloadedDependencies as LibraryRefs; versions may be strings or integers."""
    if value in (None, ""):
        return []
    if not isinstance(value, list):
        raise H5PValidationError(
            _("%(file)s: preloadedDependencies must be a list.") % {"file": where}
        )
    refs = []
    for item in value:
        name = item.get("machineName") if isinstance(item, Mapping) else None
        if not isinstance(name, str) or not MACHINE_NAME_RE.match(name):
            raise H5PValidationError(
                _("%(file)s: a dependency has an invalid machine name (%(value)r).")
                % {"file": where, "value": name}
            )
        refs.append(
            LibraryRef(
                name,
                _version(item.get("majorVersion"), where=where, what=f"{name} majorVersion"),
                _version(item.get("minorVersion"), where=where, what=f"{name} minorVersion"),
            )
        )
    return refs


def _ignored(parts: list[str]) -> bool:
    return any(part.startswith((".", "_")) for part in parts)


def _extension(name: str) -> str:
    base = name.rsplit("/", 1)[-1]
    return base.rsplit(".", 1)[-1].lower() if "." in base else ""


def _limits() -> ZipLimits:
    return ZipLimits(
        max_upload=_cap("H5P_MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES),
        max_entries=_cap("H5P_MAX_ENTRIES", DEFAULT_MAX_ENTRIES),
        max_total=_cap("H5P_MAX_UNCOMPRESSED_BYTES", DEFAULT_MAX_UNCOMPRESSED_BYTES),
        max_ratio=_cap("H5P_MAX_RATIO", DEFAULT_MAX_RATIO),
    )


def _open_zip(stream: BinaryIO) -> tuple[zipfile.ZipFile, list[Entry]]:
    """The one ZIP guard (training_site/archives.py) with the H5P caps."""
    try:
        return open_zip(stream, _limits())
    except ArchiveRefused as exc:
        raise H5PValidationError(exc.message)


def _check_structure(entries: list[Entry]) -> list[Entry]:
    """The H5P file whitelist over the guarded entries. Returns the entries to read."""
    keep = []
    for entry in entries:
        name, parts = entry.name, entry.parts
        if entry.info.is_dir() or _ignored(parts):
            continue
        if name == "h5p.json":
            keep.append(entry)
            continue
        allowed = (
            LIBRARY_EXTENSIONS if len(parts) > 1 and parts[0] != "content" else CONTENT_EXTENSIONS
        )
        if _extension(name) not in allowed:
            raise H5PValidationError(
                _("File type not allowed in an H5P package: %(file)s") % {"file": name}
            )
        keep.append(entry)
    return keep


def _read_entries(archive: zipfile.ZipFile, entries: list[Entry]) -> dict[str, bytes]:
    budget = _cap("H5P_MAX_UNCOMPRESSED_BYTES", DEFAULT_MAX_UNCOMPRESSED_BYTES)
    try:
        return read_entries(archive, entries, budget)
    except ArchiveRefused as exc:
        raise H5PValidationError(exc.message)


def _json(data: bytes, *, where: str) -> Any:
    try:
        return json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise H5PValidationError(_("%(file)s is not valid JSON.") % {"file": where})


def _check_h5p_json(metadata: Any) -> None:
    if not isinstance(metadata, dict):
        raise H5PValidationError(_("h5p.json must contain a JSON object."))
    for key in H5P_REQUIRED:
        if key not in metadata:
            raise H5PValidationError(_("h5p.json: %(field)s is missing.") % {"field": key})
    for key in ("title", "language", "mainLibrary"):
        if not isinstance(metadata[key], str) or not metadata[key].strip():
            raise H5PValidationError(_("h5p.json: %(field)s must be text.") % {"field": key})
    embed = metadata["embedTypes"]
    if not isinstance(embed, list) or not embed or any(e not in ("div", "iframe") for e in embed):
        raise H5PValidationError(_("h5p.json: embedTypes must list div and/or iframe."))
    refs = parse_dependencies(metadata["preloadedDependencies"], where="h5p.json")
    if metadata["mainLibrary"] not in {ref.machine_name for ref in refs}:
        raise H5PValidationError(
            _("h5p.json: the main library %(name)s is not among preloadedDependencies.")
            % {"name": metadata["mainLibrary"]}
        )


def _read_library(folder: str, files: dict[str, bytes]) -> PackagedLibraryFiles:
    where = f"{folder}/library.json"
    if "library.json" not in files:
        raise H5PValidationError(
            _("Library folder %(folder)s has no library.json.") % {"folder": folder}
        )
    metadata = _json(files["library.json"], where=where)
    if not isinstance(metadata, dict):
        raise H5PValidationError(_("%(file)s must contain a JSON object.") % {"file": where})
    for key in LIBRARY_REQUIRED:
        if key not in metadata:
            raise H5PValidationError(
                _("%(file)s: %(field)s is missing.") % {"file": where, "field": key}
            )
    name = metadata["machineName"]
    if not isinstance(name, str) or not MACHINE_NAME_RE.match(name):
        raise H5PValidationError(
            _("%(file)s: invalid machine name %(value)r.") % {"file": where, "value": name}
        )
    try:
        parsed = LibraryId.parse(metadata)  # pyh5p: accepts "1" and 1 alike
    except (TypeError, ValueError):
        raise H5PValidationError(_("%(file)s: invalid version numbers.") % {"file": where})
    if min(parsed.major, parsed.minor, parsed.patch) < 0:
        raise H5PValidationError(_("%(file)s: invalid version numbers.") % {"file": where})
    ref = LibraryRef(parsed.machine_name, parsed.major, parsed.minor)
    if folder not in (ref.folder_name, ref.machine_name):
        raise H5PValidationError(
            _("Library folder %(folder)s does not match its library.json (%(library)s).")
            % {"folder": folder, "library": ref}
        )
    for kind in ("preloadedJs", "preloadedCss"):
        entries = metadata.get(kind) or []
        if not isinstance(entries, list):
            raise H5PValidationError(
                _("%(file)s: %(field)s must be a list.") % {"file": where, "field": kind}
            )
        for entry in entries:
            path = entry.get("path") if isinstance(entry, Mapping) else None
            if not isinstance(path, str) or path not in files:
                raise H5PValidationError(
                    _("Library %(library)s names a file it does not contain: %(file)s")
                    % {"library": ref, "file": f"{folder}/{path}"}
                )
    if "semantics.json" in files:
        _json(files["semantics.json"], where=f"{folder}/semantics.json")
    parse_dependencies(metadata.get("preloadedDependencies"), where=where)  # refuse bad ones now
    return PackagedLibraryFiles(ref=ref, patch=parsed.patch, metadata=metadata, files=files)


def _judge_pyh5p(package: PyH5PPackage, warnings: list[str]) -> None:
    """Apply our policy (module docstring) to each finding of pyh5p's package validation."""
    for issue in package.validate(require_content=True, allow_content_only=True):
        path = issue.path
        if path == "$.content" or path.startswith("$.h5p."):
            raise H5PValidationError(
                _("The package is invalid: %(problem)s") % {"problem": str(issue)}
            )
        if path.startswith("$.package."):
            warnings.append(_("Ignored file: %(file)s") % {"file": path[len("$.package.") :]})
        elif issue.keyword == "path":
            media = _media_path(package.content, path)
            if media is not None and URL_RE.match(media):
                continue  # external media (YouTube and the like): the player loads it
            raise H5PValidationError(
                _("content/content.json refers to an unsafe path: %(file)s")
                % {"file": media if media is not None else path}
            )
        elif issue.keyword == "asset":
            warnings.append(_("Media not in the package: %(problem)s") % {"problem": str(issue)})
        elif issue.keyword == "dependency":
            continue  # judged by storage against the installed libraries
        else:
            warnings.append(str(issue))


def _media_path(content: Any, issue_path: str) -> str | None:
    """The string at a pyh5p content path such as $.content.a[0].path."""
    current = content
    for token in re.findall(r"\.([^.\[\]]+)|\[(\d+)\]", issue_path.removeprefix("$.content")):
        key, index = token
        try:
            current = current[int(index)] if index else current[key]
        except (KeyError, IndexError, TypeError):
            return None
    return current if isinstance(current, str) else None


def _semantic_warnings(package: PyH5PPackage, main: str, warnings: list[str]) -> None:
    """Content against the main library's semantics (pyh5p): findings are warnings only."""
    library = next((lib for lib in package.libraries if lib.id.machine_name == main), None)
    if library is None:
        return  # content-only package: the semantics are those of an installed library
    try:
        content = H5PContent(
            LibraryStore(),
            library.id,
            package.content or {},
            package.metadata,
            packaged_files=package.files,
        )
        issues = content.validate()
    except (H5PError, TypeError, ValueError, KeyError) as exc:
        warnings.append(_("Semantics not checked: %(reason)s") % {"reason": exc})
        return
    warnings.extend(f"content.json {issue}" for issue in issues)


def validate_package(source) -> ValidatedPackage:
    """Check an .h5p file (path or binary file object) and return what to install.

    Raises H5PValidationError with one translated line naming the offending file or library.
    Writes nothing.
    """
    opened = open(source, "rb") if isinstance(source, (str, Path)) else None  # noqa: SIM115
    try:
        archive, entries = _open_zip(opened or source)
        with archive:
            keep = _check_structure(entries)
            files = _read_entries(archive, keep)
            size = archive.fp.seek(0, io.SEEK_END) if archive.fp else 0
    finally:
        if opened is not None:
            opened.close()
    if "h5p.json" not in files:
        raise H5PValidationError(_("h5p.json is missing: this is not an H5P package."))
    metadata = _json(files["h5p.json"], where="h5p.json")
    _check_h5p_json(metadata)
    if "content/content.json" not in files:
        raise H5PValidationError(_("content/content.json is missing."))
    content = _json(files["content/content.json"], where="content/content.json")
    if not isinstance(content, dict):
        raise H5PValidationError(_("content/content.json must contain a JSON object."))

    by_folder: dict[str, dict[str, bytes]] = {}
    content_files: dict[str, bytes] = {}
    for name, data in files.items():
        top, _sep, rest = name.partition("/")
        if not rest:
            continue  # h5p.json, or a stray top-level file (judged below)
        if top == "content":
            content_files[rest] = data
        else:
            by_folder.setdefault(top, {})[rest] = data
    libraries: list[PackagedLibraryFiles] = []
    seen: dict[LibraryRef, str] = {}
    for folder in sorted(by_folder):
        library = _read_library(folder, by_folder[folder])
        if library.ref in seen:
            raise H5PValidationError(
                _("Library %(library)s is in the package twice (%(first)s and %(second)s).")
                % {"library": library.ref, "first": seen[library.ref], "second": folder}
            )
        seen[library.ref] = folder
        libraries.append(library)

    package = PyH5PPackage(
        metadata,
        content,
        tuple(
            PackagedLibrary(
                LibraryId(lib.ref.machine_name, lib.ref.major, lib.ref.minor, lib.patch),
                lib.files,
                lib.metadata,
            )
            for lib in libraries
        ),
        files,
    )
    warnings: list[str] = []
    _judge_pyh5p(package, warnings)
    _semantic_warnings(package, metadata["mainLibrary"], warnings)
    return ValidatedPackage(
        h5p_json=metadata,
        content_files=content_files,
        libraries=libraries,
        upload_size=size,
        warnings=warnings,
    )
