"""Course certificates: issued once per learner and course, printed as an A4 landscape PDF.

The PDF carries a random verification code and a QR code to the public verification page,
which shows only whether the certificate is genuine, the learner's name and the course. Staff
may revoke a certificate once, with a reason category: the verification page then says
"revoked" with the date and that category (no name), and the PDF says so across its face.
"""

from io import BytesIO
from xml.sax.saxutils import escape

import segno
from django.db import IntegrityError, transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from reportlab.lib.colors import HexColor
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph

from courses.models import Certificate, CoursePage, Enrollment
from libraries.network.audit import log_change
from training_site.fonts import pdf_canvas, register_fonts

BRAND = HexColor("#0b5d7a")
MUTED = HexColor("#4a5560")


REVOKED = HexColor("#a61b1b")

# The staff audit log (libraries/network/audit.py), label in courses/wagtail_hooks.py: on the
# certificate's library, with the reason category (the staff note stays on the certificate).
CERTIFICATE_REVOKE_ACTION = "courses.certificate.revoke"


class CertificateError(Exception):
    """A request the rules refuse; the message can be shown to the learner or to staff."""


def learner_name(user) -> str:
    return (user.get_full_name() or user.username).strip()


@transaction.atomic
def issue_certificate(*, user, course: CoursePage) -> Certificate:
    """Issue the learner's certificate for a completed course, or return the one issued before.

    The enrolment row is locked, so concurrent calls issue one certificate; the unique
    (user, course) constraint backs this up.
    """
    enrollment = (
        Enrollment.objects.select_for_update(of=("self",))
        .select_related("library")
        .filter(user=user, course=course)
        .first()
    )
    if enrollment is None or enrollment.completed_at is None:
        raise CertificateError(_("The course is not complete yet."))
    existing = Certificate.objects.filter(user=user, course=course).first()
    if existing is not None:
        return existing
    library = enrollment.library
    try:
        with transaction.atomic():
            return Certificate.objects.create(
                user=user,
                course=course,
                library=library,
                learner_name=learner_name(user),
                course_title=course.title,
                library_name=library.name if library else "",
            )
    except IntegrityError:
        return Certificate.objects.get(user=user, course=course)


@transaction.atomic
def revoke_certificate(*, certificate_id: int, reason: str, note: str = "", by) -> Certificate:
    """Revoke a certificate once, with a reason category and a note for staff.

    The row is locked, so of two staff revoking at the same moment one succeeds and the other
    is told it was revoked already. Who may revoke which certificate is asked by the caller
    (courses/training/access.py: may_revoke).
    """
    certificate = Certificate.objects.select_for_update().filter(pk=certificate_id).first()
    if certificate is None:
        raise CertificateError(_("No certificate has this code."))
    if certificate.revoked_at is not None:
        revoked_on = formats.date_format(
            timezone.localtime(certificate.revoked_at), "SHORT_DATE_FORMAT"
        )
        raise CertificateError(
            _("This certificate was already revoked on %(date)s.") % {"date": revoked_on}
        )
    if reason not in Certificate.RevocationReason.values:
        raise CertificateError(_("Choose the reason for revoking the certificate."))
    certificate.revoked_at = timezone.now()
    certificate.revoked_reason = reason
    certificate.revoked_note = " ".join(note.split())[:1000]
    certificate.revoked_by = by
    certificate.save(update_fields=["revoked_at", "revoked_reason", "revoked_note", "revoked_by"])
    log_change(
        certificate,
        CERTIFICATE_REVOKE_ACTION,
        by=by,
        before={"revoked_reason": ""},
        after={"revoked_reason": reason},
        library=certificate.library,
    )
    return certificate


def _paragraph(c, text: str, style: ParagraphStyle, y: float, width: float, page_width: float):
    paragraph = Paragraph(text, style)
    _w, height = paragraph.wrap(width, 200 * mm)
    paragraph.drawOn(c, (page_width - width) / 2, y - height)
    return y - height


def certificate_pdf(certificate: Certificate, *, verify_url: str) -> bytes:
    """Render the certificate as an A4 landscape PDF with the fonts embedded."""
    regular, bold = register_fonts()
    buffer = BytesIO()
    width, height = landscape(A4)
    c = pdf_canvas(buffer, pagesize=(width, height), invariant=1)
    c.setTitle(f"{_('Certificate')} {certificate.code}")
    c.setAuthor(certificate.library_name or _("Knowledge Bridge"))

    c.setStrokeColor(BRAND)
    c.setLineWidth(3)
    c.rect(12 * mm, 12 * mm, width - 24 * mm, height - 24 * mm)
    c.setLineWidth(0.8)
    c.rect(15 * mm, 15 * mm, width - 30 * mm, height - 30 * mm)

    text_width = width - 70 * mm
    small = ParagraphStyle("small", fontName=regular, fontSize=13, leading=17, alignment=TA_CENTER)
    heading = ParagraphStyle(
        "heading", fontName=bold, fontSize=30, leading=36, alignment=TA_CENTER, textColor=BRAND
    )
    name = ParagraphStyle("name", fontName=bold, fontSize=26, leading=32, alignment=TA_CENTER)
    course = ParagraphStyle("course", fontName=bold, fontSize=18, leading=23, alignment=TA_CENTER)

    y = height - 30 * mm

    def line(text: str, style: ParagraphStyle, gap: float) -> None:
        nonlocal y
        y = _paragraph(c, escape(text), style, y - gap, text_width, width)

    line(_("Knowledge Bridge"), small, 0)
    line(_("Certificate of completion"), heading, 6 * mm)
    line(_("This certifies that"), small, 8 * mm)
    line(certificate.learner_name, name, 4 * mm)
    line(_("has completed the course"), small, 4 * mm)
    line(certificate.course_title, course, 3 * mm)
    if certificate.library_name:
        line(certificate.library_name, small, 6 * mm)

    if certificate.revoked_at is not None:
        _revoked_stamp(c, certificate, regular=regular, bold=bold, width=width, height=height)

    issued = formats.date_format(timezone.localtime(certificate.issued_at), "SHORT_DATE_FORMAT")
    c.setFont(regular, 11)
    c.setFillColor(MUTED)
    c.drawString(25 * mm, 32 * mm, _("Issued on %(date)s") % {"date": issued})
    c.drawString(25 * mm, 26 * mm, _("Verification code: %(code)s") % {"code": certificate.code})
    c.setFont(regular, 8)
    c.drawString(25 * mm, 21 * mm, _("Check it at %(url)s") % {"url": verify_url})

    qr = segno.make(verify_url, error="m")
    size = 30 * mm
    modules = qr.symbol_size(scale=1, border=0)[0]
    cell = size / modules
    left, top = width - 25 * mm - size, 20 * mm + size
    c.setFillColor(HexColor("#000000"))
    for row_index, row in enumerate(qr.matrix):
        for col_index, dark in enumerate(row):
            if dark:
                c.rect(
                    left + col_index * cell,
                    top - (row_index + 1) * cell,
                    cell,
                    cell,
                    stroke=0,
                    fill=1,
                )
    c.showPage()
    c.save()
    return buffer.getvalue()


def _revoked_stamp(c, certificate: Certificate, *, regular, bold, width, height) -> None:
    """A red banner across the page: revoked, since when and why (the category only)."""
    revoked = formats.date_format(timezone.localtime(certificate.revoked_at), "SHORT_DATE_FORMAT")
    c.saveState()
    c.setFillColor(REVOKED)
    c.setStrokeColor(REVOKED)
    c.setLineWidth(2)
    band = 24 * mm
    bottom = height / 2 - band / 2 - 8 * mm
    c.rect(20 * mm, bottom, width - 40 * mm, band, stroke=1, fill=0)
    c.setFont(bold, 22)
    c.drawCentredString(
        width / 2, bottom + band - 10 * mm, _("REVOKED: this certificate is not valid")
    )
    c.setFont(regular, 12)
    c.drawCentredString(
        width / 2,
        bottom + 5 * mm,
        _("Revoked on %(date)s. Reason: %(reason)s.")
        % {"date": revoked, "reason": certificate.get_revoked_reason_display()},
    )
    c.restoreState()
