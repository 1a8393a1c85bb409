"""Readers' side of the digital collection: the file's bytes, borrowing, returning, waiting.

The bytes are never reachable by a storage path. `digital_file` asks libraries/access.py
whether the user may read the file and answers with a redirect to a signed address that lives
a few minutes (DIGITAL_SIGNED_URL_SECONDS) and names the user and the file; `signed_file`
checks the signature and asks access.py again for that user (a loan may have ended since),
then sends the bytes (single byte ranges too, for PDF readers) or, in production behind nginx,
an X-Accel-Redirect to an internal location (docs/DIGITAL.md); on object storage, a redirect to
a presigned address of the bucket that lives seconds (training_site/object_storage.py).
"""

from __future__ import annotations

import re

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.views import redirect_to_login
from django.core import signing
from django.http import (
    FileResponse,
    Http404,
    HttpResponse,
    HttpResponseForbidden,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.http import content_disposition_header, url_has_allowed_host_and_scheme
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from libraries import access
from libraries.digital import services
from libraries.digital.services import DigitalError
from libraries.models import DigitalFile, DigitalLoan, Hold

SIGNING_SALT = "libraries.digital.file"
FILE_POLICY = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:"
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
CHUNK = 64 * 1024


def sign_file(user, file: DigitalFile) -> str:
    """A token naming the user (0: anonymous) and the file, checked by `signed_file`."""
    user_id = user.pk if user is not None and user.is_authenticated else 0
    return signing.TimestampSigner(salt=SIGNING_SALT).sign_object({"u": user_id, "f": file.pk})


def signed_url(user, file: DigitalFile, *, download: bool = False) -> str:
    url = reverse("libraries:digital_signed", args=[sign_file(user, file)])
    return url + ("?download=1" if download else "")


def _file_or_404(pk: int) -> DigitalFile:
    return get_object_or_404(DigitalFile.objects.select_related("library", "record"), pk=pk)


def _refuse(request, file: DigitalFile):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    return render(
        request, "libraries/digital/refused.html", {"file": file, "record": file.record}, status=403
    )


@require_GET
def digital_file(request, pk: int):
    """Check the right to read, then send the reader to a short-lived signed address."""
    file = _file_or_404(pk)
    if not access.may_read_digital(request.user, file):
        return _refuse(request, file)
    response = HttpResponseRedirect(
        signed_url(request.user, file, download=request.GET.get("download") == "1")
    )
    response["Cache-Control"] = "no-store"
    return response


def _download_name(file: DigitalFile) -> str:
    base = slugify(file.record.title, allow_unicode=False)[:80] or "book"
    return f"{base}.{file.extension}"


def _byte_range(header: str, size: int) -> tuple[int, int] | None:
    """(first, last) of a single `bytes=` range within `size`, or None to send it all."""
    found = _RANGE.match(header.strip()) if header else None
    if not found or size == 0:
        return None
    first, last = found.groups()
    if first == "" and last == "":
        return None
    if first == "":
        length = int(last)
        return (max(0, size - length), size - 1) if length else None
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start > end or start >= size:
        return (-1, -1)
    return start, end


def _chunks(stream, remaining: int):
    try:
        while remaining > 0:
            data = stream.read(min(CHUNK, remaining))
            if not data:
                break
            remaining -= len(data)
            yield data
    finally:
        stream.close()


def _headers(response, file: DigitalFile, download: bool) -> HttpResponse:
    response["Content-Type"] = file.content_type
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=download, filename=_download_name(file)
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = FILE_POLICY
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    response["Accept-Ranges"] = "bytes"
    return response


@require_GET
def signed_file(request, token: str):
    """The bytes of a file, for the holder of a valid signed address."""
    signer = signing.TimestampSigner(salt=SIGNING_SALT)
    try:
        data = signer.unsign_object(token, max_age=settings.DIGITAL_SIGNED_URL_SECONDS)
    except signing.SignatureExpired:
        return HttpResponseForbidden(_("This link has expired. Open the book again."))
    except signing.BadSignature:
        raise Http404
    if not isinstance(data, dict) or not isinstance(data.get("f"), int):
        raise Http404
    file = _file_or_404(data["f"])
    user = AnonymousUser()
    if data.get("u"):
        user = get_user_model().objects.filter(pk=data["u"], is_active=True).first()
        if user is None:
            raise Http404
    if not access.may_read_digital(user, file):
        return HttpResponseForbidden(_("You may not read this file (any more)."))
    download = request.GET.get("download") == "1"
    presign = getattr(file.file.storage, "signed_url", None)
    if presign is not None:  # object storage (docs/SCALING.md): the bucket sends the bytes
        response = HttpResponseRedirect(
            presign(
                file.file.name,
                content_type=file.content_type,
                disposition=content_disposition_header(
                    as_attachment=download, filename=_download_name(file)
                ),
            )
        )
        response["Cache-Control"] = "no-store"
        return response
    prefix = settings.DIGITAL_X_ACCEL_PREFIX
    if prefix:
        response = HttpResponse()
        response["X-Accel-Redirect"] = prefix.rstrip("/") + "/" + file.file.name
        return _headers(response, file, download)
    size = file.file.size
    span = _byte_range(request.headers.get("Range", ""), size)
    if span == (-1, -1):
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        return response
    stream = file.file.open("rb")
    if span is None:
        response = FileResponse(stream)
    else:
        first, last = span
        stream.seek(first)
        response = StreamingHttpResponse(_chunks(stream, last - first + 1), status=206)
        response["Content-Range"] = f"bytes {first}-{last}/{size}"
        response["Content-Length"] = str(last - first + 1)
    return _headers(response, file, download)


# --------------------------------------------------------------------------- lending


def _back(request, file: DigitalFile | None = None) -> str:
    back = request.POST.get("next", "")
    if back and url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        return back
    if file is not None:
        return reverse("libraries:record_detail", args=[file.record_id])
    return reverse("libraries:my_loans")


def _run(request, action, back: str):
    if not request.user.is_authenticated:
        return redirect_to_login(back)
    try:
        result = action()
    except DigitalError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, result.message)
    return HttpResponseRedirect(back)


@require_POST
def digital_borrow(request, pk: int):
    file = _file_or_404(pk)
    return _run(request, lambda: services.borrow(file=file, by=request.user), _back(request, file))


@require_POST
def digital_wait(request, pk: int):
    file = _file_or_404(pk)
    return _run(
        request, lambda: services.wait_for(file=file, by=request.user), _back(request, file)
    )


@require_POST
def digital_return(request, loan_id: int):
    if not request.user.is_authenticated:
        return redirect_to_login(reverse("libraries:my_loans"))
    loan = get_object_or_404(DigitalLoan, pk=loan_id, patron__user=request.user)
    return _run(request, lambda: services.return_loan(loan=loan, by=request.user), _back(request))


@require_POST
def digital_cancel_wait(request, hold_id: int):
    if not request.user.is_authenticated:
        return redirect_to_login(reverse("libraries:my_loans"))
    hold = get_object_or_404(
        Hold, pk=hold_id, patron__user=request.user, digital_file__isnull=False
    )
    return _run(request, lambda: services.cancel_wait(hold=hold, by=request.user), _back(request))
