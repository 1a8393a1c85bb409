"""The one guard for every ZIP-based upload (H5P packages, XLSX spreadsheets, EPUB books).

Checked from the central directory before anything is unpacked or parsed: the upload's size,
a real ZIP, the number of entries, the declared uncompressed total, the compression ratio
overall and per entry (above RATIO_MIN_ENTRY_BYTES: tiny files compress far better than real
content), path traversal in every form (absolute paths, ``..``, backslashes, drive letters,
NUL), symbolic links (Unix mode S_IFLNK in ``external_attr``) and duplicate names, also
those that differ only in case. Entries are then read with a budget: never more than an entry
declares, never past the total.
"""

from __future__ import annotations

import io
import re
import stat
import zipfile
from dataclasses import dataclass
from typing import BinaryIO

from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

RATIO_MIN_ENTRY_BYTES = 64 * 1024
_DRIVE = re.compile(r"^[A-Za-z]:")


class ArchiveRefused(ValueError):
    """The upload is not a ZIP we accept; the message says why, for the person uploading."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ZipLimits:
    max_upload: int
    max_entries: int
    max_total: int
    max_ratio: int


@dataclass(frozen=True)
class Entry:
    info: zipfile.ZipInfo
    parts: list[str]

    @property
    def name(self) -> str:
        return self.info.filename


def entry_parts(name: str) -> list[str]:
    """The path parts of a safe entry name; refuses traversal in every form."""
    unsafe = not name or "\x00" in name or "\\" in name or name.startswith("/")
    parts = name.rstrip("/").split("/")
    if unsafe or _DRIVE.match(name) or any(part in ("", ".", "..") for part in parts):
        raise ArchiveRefused(_("Unsafe path in the file: %(file)s") % {"file": name})
    return parts


def open_zip(stream: BinaryIO, limits: ZipLimits) -> tuple[zipfile.ZipFile, list[Entry]]:
    """Open an uploaded ZIP and check its central directory. Raises ArchiveRefused."""
    stream.seek(0, io.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    if size > limits.max_upload:
        raise ArchiveRefused(
            _("The file is too large (%(size)s; at most %(max)s).")
            % {"size": filesizeformat(size), "max": filesizeformat(limits.max_upload)}
        )
    try:
        archive = zipfile.ZipFile(stream)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError):
        raise ArchiveRefused(_("The file is damaged: it is not a valid ZIP archive."))
    return archive, check_entries(archive.infolist(), limits)


def check_entries(infos: list[zipfile.ZipInfo], limits: ZipLimits) -> list[Entry]:
    if len(infos) > limits.max_entries:
        raise ArchiveRefused(
            _("The file holds too many entries (%(count)d; at most %(max)d).")
            % {"count": len(infos), "max": limits.max_entries}
        )
    declared = sum(info.file_size for info in infos)
    if declared > limits.max_total:
        raise ArchiveRefused(
            _("The file would unpack to %(size)s; at most %(max)s is allowed.")
            % {"size": filesizeformat(declared), "max": filesizeformat(limits.max_total)}
        )
    compressed = sum(info.compress_size for info in infos)
    if declared > RATIO_MIN_ENTRY_BYTES and declared / max(compressed, 1) > limits.max_ratio:
        raise ArchiveRefused(_("The file is compressed suspiciously well (a ZIP bomb?); refused."))
    entries, seen, seen_folded = [], set(), {}
    for info in infos:
        name = info.filename
        parts = entry_parts(name)
        if stat.S_ISLNK(info.external_attr >> 16):
            raise ArchiveRefused(
                _("Symbolic links are not allowed in the file: %(file)s") % {"file": name}
            )
        key = name.rstrip("/")
        if key in seen:
            raise ArchiveRefused(_("The file contains %(file)s twice.") % {"file": name})
        folded = key.casefold()
        if folded in seen_folded:
            raise ArchiveRefused(
                _("The file contains both %(first)s and %(second)s (same name, other case).")
                % {"first": seen_folded[folded], "second": name}
            )
        seen.add(key)
        seen_folded[folded] = name
        if info.file_size > RATIO_MIN_ENTRY_BYTES and (
            info.file_size / max(info.compress_size, 1) > limits.max_ratio
        ):
            raise ArchiveRefused(
                _("%(file)s is compressed suspiciously well (a ZIP bomb?); refused.")
                % {"file": name}
            )
        entries.append(Entry(info, parts))
    return entries


def read_entries(archive: zipfile.ZipFile, entries: list[Entry], budget: int) -> dict[str, bytes]:
    """Read entries with a cap: never more than each declares, never past `budget` in all."""
    files: dict[str, bytes] = {}
    for entry in entries:
        limit = min(entry.info.file_size, budget)
        try:
            with archive.open(entry.info) as stream:
                data = stream.read(limit + 1)
        except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError, EOFError):
            raise ArchiveRefused(
                _("%(file)s cannot be read (damaged or encrypted).") % {"file": entry.name}
            )
        if len(data) > limit:
            raise ArchiveRefused(
                _("%(file)s is larger than it declares; refused.") % {"file": entry.name}
            )
        budget -= len(data)
        files[entry.name] = data
    return files
