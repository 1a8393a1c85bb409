"""Reading in the browser: the reading page of a digital file and the reader's place in it.

EPUB books open in foliate-js, PDF documents in pdf.js, both served from our own static files
(static/reader/, docs/DIGITAL.md). The page fetches the book through one address per file,
`digital_file` (which checks the right to read and hands out a short-lived signed address),
so an offline copy can later be kept under that address.

A book's own scripts never run: foliate-js lays out each chapter in an iframe that
static/reader/reader.js sandboxes without `allow-scripts` (the chapter's document shares the
page's origin, so the reader can lay it out and search it, but no script of it executes), and
the page's Content-Security-Policy, which a chapter's blob: document inherits, allows no
script but ours. BOOK_READER_POLICY is what the reader needs beyond the site's policy.

Where each account stopped (ReadingPosition: an EPUB CFI or a PDF page) is saved through
`position` (JSON, CSRF-checked, only while the account may read the file) and the page opens
there, on any device.
"""

from __future__ import annotations

import json
import math
import re

from csp.constants import NONCE
from csp.decorators import csp_update
from django.contrib.auth.views import redirect_to_login
from django.http import JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from libraries import access
from libraries.digital.offline import may_keep
from libraries.models import DigitalFile, ReadingPosition
from libraries.models.reading import LOCATOR_MAX_LENGTH

# What the reading page needs beyond the site's policy (training_site/settings/base.py):
# the import map that names foliate-js's one bare import (an inline script: its nonce); the
# chapters' own styles (inline, and their style sheets as blob: addresses) and the reader's
# shadow-DOM style; the chapters' images, fonts and media, and the chapters themselves, as
# blob: addresses made on the page. Scripts stay 'self' only.
BOOK_READER_POLICY = {
    "script-src": [NONCE],
    "style-src": ["'unsafe-inline'", "blob:"],
    "img-src": ["blob:"],
    "font-src": ["blob:"],
    "media-src": ["blob:"],
    "frame-src": ["blob:"],
}

_CFI = re.compile(r"^epubcfi\([^\x00-\x1f\x7f]+\)$")
_PAGE = re.compile(r"^page:([1-9][0-9]{0,5})$")


def _file_or_404(pk: int) -> DigitalFile:
    return get_object_or_404(DigitalFile.objects.select_related("library", "record"), pk=pk)


def _refuse(request, file: DigitalFile):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    return render(
        request, "libraries/digital/refused.html", {"file": file, "record": file.record}, status=403
    )


def _position_data(position: ReadingPosition | None) -> dict | None:
    if position is None:
        return None
    return {
        "locator": position.locator,
        "progress": position.progress,
        "updated_at": position.updated_at.isoformat(),
    }


def _strings() -> dict[str, str]:
    return {
        "contents": _("Contents"),
        "noContents": _("This book has no table of contents."),
        "search": _("Search"),
        "searching": _("Searching…"),
        "found": _("%(count)s results"),
        "foundMore": _("The first %(count)s results"),
        "notFound": _("No results."),
        "page": _("Page %(page)s of %(pages)s"),
        "progress": _("%(percent)s%% read"),
        "loading": _("Opening the book…"),
        "failed": _("The book could not be opened. Reload the page to try again."),
        "saved": _("Your place is saved."),
        "day": _("Day"),
        "night": _("Night"),
    }


def reader_config(request, file: DigitalFile) -> dict:
    """What static/reader/reader.js needs, passed with json_script."""
    logged_in = request.user.is_authenticated
    position = ReadingPosition.objects.of(request.user, file) if logged_in else None
    return {
        "kind": file.kind,
        "fileId": file.pk,
        "bookUrl": reverse("libraries:digital_file", args=[file.pk]),
        "positionUrl": reverse("libraries:digital_position", args=[file.pk]) if logged_in else "",
        "csrfToken": get_token(request) if logged_in else "",
        "position": _position_data(position),
        "title": file.record.title,
        "language": file.record.language,
        "foliate": static("reader/foliate/view.js"),
        "pdfjs": static("reader/pdfjs/pdf.min.mjs"),
        "pdfWorker": static("reader/pdfjs/pdf.worker.min.mjs"),
        "pdfFonts": static("reader/pdfjs/standard_fonts/"),
        "pdfCmaps": static("reader/pdfjs/cmaps/"),
        "pdfWasm": static("reader/pdfjs/wasm/"),
        "strings": _strings(),
    }


def _import_map() -> str:
    """The import map for foliate-js's one bare import, safe inside a <script> element."""
    imports = {"construct-style-sheets-polyfill": static("reader/polyfill/adoptedStyleSheets.js")}
    return json.dumps({"imports": imports}).replace("<", "\\u003c")


@require_GET
@never_cache
def read(request, pk: int):
    """The reading page: the book in the browser, opened where this account stopped."""
    file = _file_or_404(pk)
    if not access.may_read_digital(request.user, file):
        return _refuse(request, file)
    return _reading_page(request, file)


@csp_update(BOOK_READER_POLICY)
def _reading_page(request, file: DigitalFile):
    return render(
        request,
        "libraries/digital/read.html",
        {
            "file": file,
            "record": file.record,
            "config": reader_config(request, file),
            "import_map": _import_map(),
            # The installable app may keep it for offline reading (libraries/digital/offline.py).
            "keep_offline": may_keep(request.user, file),
        },
    )


class PositionRefused(ValueError):
    pass


def parse_position(file: DigitalFile, data) -> tuple[str, float]:
    """(locator, progress) from the posted JSON, or PositionRefused with the reason."""
    if not isinstance(data, dict):
        raise PositionRefused(_("Send a JSON object."))
    locator, progress = data.get("locator"), data.get("progress", 0)
    if not isinstance(locator, str) or not 0 < len(locator) <= LOCATOR_MAX_LENGTH:
        raise PositionRefused(_("The position in the book is missing or too long."))
    pattern = _CFI if file.kind == DigitalFile.Kind.EPUB else _PAGE
    if not pattern.match(locator):
        raise PositionRefused(_("This is not a position in this book."))
    if isinstance(progress, bool) or not isinstance(progress, (int, float)):
        raise PositionRefused(_("The share read must be a number from 0 to 1."))
    if not math.isfinite(progress) or not 0 <= progress <= 1:
        raise PositionRefused(_("The share read must be a number from 0 to 1."))
    return locator, float(progress)


def save_position(*, user, file: DigitalFile, locator: str, progress: float) -> ReadingPosition:
    """Store where `user` is in `file` (one row per account and file; the last save wins)."""
    position, _created = ReadingPosition.objects.update_or_create(
        user=user, file=file, defaults={"locator": locator, "progress": progress}
    )
    return position


@require_http_methods(["GET", "POST"])
@never_cache
def position(request, pk: int):
    """GET: where this account stopped in the file; POST {"locator", "progress"}: save it."""
    file = _file_or_404(pk)
    if not request.user.is_authenticated:
        return JsonResponse({"error": _("Log in to keep your place in the book.")}, status=401)
    if not access.may_read_digital(request.user, file):
        return JsonResponse({"error": _("You may not read this file (any more).")}, status=403)
    if request.method == "GET":
        stored = ReadingPosition.objects.of(request.user, file)
        return JsonResponse({"position": _position_data(stored)})
    try:
        data = json.loads(request.body or b"null")
        locator, progress = parse_position(file, data)
    except (ValueError, UnicodeDecodeError) as error:
        message = str(error) if isinstance(error, PositionRefused) else _("Send a JSON object.")
        return JsonResponse({"error": message}, status=400)
    saved = save_position(user=request.user, file=file, locator=locator, progress=progress)
    return JsonResponse({"position": _position_data(saved)})
