"""Books kept for offline reading in the installable app (docs/DIGITAL.md, "Offline reading").

An open-access book, or a book on loan, can be kept on the device: the service worker
(static/pwa/sw.js) keeps the reading page, the reader's static files and the book's bytes.
The server decides what may be kept; the worker only asks:

- `offline_book` (/digital/<pk>/offline/): what to fetch to keep one book (the reading page,
  the book's access-checked address, the reader's files) and until when (a loan's end), or a
  403 when this account may not keep it;
- `offline_list` (/digital/offline/?ids=1,2): among the books a device keeps, those this
  account may still keep, with until when. The worker asks on each start online and on
  /my/loans, and drops the copies not listed (a loan returned, expired or withdrawn).

The bytes are kept under the book's own address (`digital_file`, /digital/<pk>/file/), not
the signed one that lives minutes: that address is only a key inside one browser's cache; the
server checks the right to read at every request to it.
"""

from __future__ import annotations

import functools
import os

from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from libraries import access
from libraries.models import DigitalFile, DigitalLoan

MAX_IDS = 100
# The reader's files, by the kind of book they open (static/reader/, settings STATICFILES_DIRS).
# pdf.js's character maps (1.7 MB, for Chinese, Japanese and Korean text without embedded
# fonts) are left out: such a PDF opens offline without those characters.
COMMON_FILES = ("reader/reader.js", "reader/reader.css", "reader/offline.js")
EPUB_FOLDERS = (("reader/foliate", ".js"), ("reader/foliate/vendor", ".js"))
EPUB_FILES = ("reader/polyfill/adoptedStyleSheets.js",)
PDF_FILES = ("reader/pdfjs/pdf.min.mjs", "reader/pdfjs/pdf.worker.min.mjs")
PDF_FOLDERS = (
    ("reader/pdfjs/standard_fonts", ""),
    ("reader/pdfjs/wasm", ".wasm"),
)


def _folder(folder: str) -> str | None:
    """Where a static folder is on disk (STATICFILES_DIRS, with or without a prefix)."""
    finder = finders.get_finder("django.contrib.staticfiles.finders.FileSystemFinder")
    for prefix, root in finder.locations:
        if prefix and folder == prefix:
            path = root
        elif prefix and folder.startswith(prefix + "/"):
            path = os.path.join(root, folder[len(prefix) + 1 :])
        elif not prefix:
            path = os.path.join(root, folder)
        else:
            continue
        if os.path.isdir(path):
            return path
    return None


def _listing(folder: str) -> list[str]:
    found = _folder(folder)
    if found:
        return sorted(
            name for name in os.listdir(found) if os.path.isfile(os.path.join(found, name))
        )
    try:
        return sorted(staticfiles_storage.listdir(folder)[1])
    except (FileNotFoundError, NotImplementedError, OSError):
        return []


@functools.cache
def reader_files(kind: str) -> tuple[str, ...]:
    """The static paths the reader needs offline for a book of `kind` (epub or pdf)."""
    files = list(COMMON_FILES)
    folders = EPUB_FOLDERS if kind == DigitalFile.Kind.EPUB else PDF_FOLDERS
    files += EPUB_FILES if kind == DigitalFile.Kind.EPUB else PDF_FILES
    for folder, suffix in folders:
        files += [
            f"{folder}/{name}"
            for name in _listing(folder)
            if name.endswith(suffix) and not name.startswith(("LICENSE", "."))
        ]
    return tuple(files)


def _loan_ends(user, files, now) -> dict[int, object]:
    """{file id: end} of the user's loans still running among `files`."""
    if not user.is_authenticated:
        return {}
    return dict(
        DigitalLoan.objects.open()
        .filter(file__in=files, patron__user=user, due_at__gt=now)
        .values_list("file_id", "due_at")
    )


def keep_until(user, file: DigitalFile, ends: dict, now=None) -> tuple[bool, object]:
    """(may keep, until): an open-access book for good (None), a lent book until its loan
    ends; any other book (members, cardholders, staff checking a lent file) is not kept."""
    if not access.may_read_digital(user, file, now=now):
        return False, None
    if file.is_open:
        return True, None
    if file.is_lending and file.pk in ends:
        return True, ends[file.pk]
    return False, None


def may_keep(user, file: DigitalFile, now=None) -> bool:
    now = now or timezone.now()
    return keep_until(user, file, _loan_ends(user, [file], now), now)[0]


def _until(value) -> str | None:
    return value.isoformat() if value is not None else None


@require_GET
@never_cache
def offline_book(request, pk: int):
    """What the worker fetches to keep one book, or 403 when this account may not keep it."""
    file = get_object_or_404(DigitalFile.objects.select_related("record", "library"), pk=pk)
    now = timezone.now()
    allowed, until = keep_until(request.user, file, _loan_ends(request.user, [file], now), now)
    if not allowed:
        return JsonResponse(
            {"error": _("Only open-access books and books on loan can be kept offline.")},
            status=403,
        )
    return JsonResponse(
        {
            "file": file.pk,
            "title": file.record.title,
            "kind": file.kind,
            "page": reverse("libraries:digital_read", args=[file.pk]),
            "book": reverse("libraries:digital_file", args=[file.pk]),
            "files": [static(path) for path in reader_files(file.kind)],
            "until": _until(until),
        },
        json_dumps_params={"ensure_ascii": False},
    )


def _ids(value: str) -> list[int] | None:
    parts = [part for part in (value or "").split(",") if part]
    if len(parts) > MAX_IDS or not all(part.isdigit() and len(part) < 19 for part in parts):
        return None
    return sorted({int(part) for part in parts})


@require_GET
@never_cache
def offline_list(request):
    """Among `ids` (the books a device keeps), those this account may still keep."""
    ids = _ids(request.GET.get("ids", ""))
    if ids is None:
        message = _("Send at most 100 file numbers, comma-separated.")
        return JsonResponse({"error": message}, status=400)
    now = timezone.now()
    files = list(
        DigitalFile.objects.filter(pk__in=ids)
        .order_by("pk")
        .select_related("library")
        .prefetch_related("cardholder_libraries")
    )
    ends = _loan_ends(request.user, files, now)
    kept = []
    for file in files:
        allowed, until = keep_until(request.user, file, ends, now)
        if allowed:
            kept.append({"id": file.pk, "until": _until(until)})
    return JsonResponse({"files": kept})
