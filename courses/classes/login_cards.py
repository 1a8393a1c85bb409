"""Printable login cards for students: A4 pages of ten cards to cut out and hand out."""

import io

from django.utils.translation import gettext as _
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm

from courses.classes.services import EXPORT_ACTION
from libraries.network.audit import log_export
from training_site.fonts import pdf_canvas, register_fonts

COLUMNS, ROWS = 2, 5
MARGIN = 12 * mm


def login_cards_pdf(*, class_group, credentials: list[tuple[str, str, str]], site: str) -> bytes:
    """credentials: [(name, username, password)] in print order."""
    regular, bold = register_fonts()
    out = io.BytesIO()
    pdf = pdf_canvas(out, pagesize=A4)
    pdf.setTitle(_("Login cards") + f" · {class_group}")
    page_w, page_h = A4
    card_w = (page_w - 2 * MARGIN) / COLUMNS
    card_h = (page_h - 2 * MARGIN) / ROWS
    per_page = COLUMNS * ROWS
    for index, (name, username, password) in enumerate(credentials):
        if index and index % per_page == 0:
            pdf.showPage()
        slot = index % per_page
        x = MARGIN + (slot % COLUMNS) * card_w
        y = page_h - MARGIN - (slot // COLUMNS + 1) * card_h
        pdf.setDash(3, 3)
        pdf.rect(x, y, card_w, card_h)
        pdf.setDash()
        left = x + 6 * mm
        pdf.setFont(regular, 9)
        pdf.drawString(
            left, y + card_h - 9 * mm, f"{class_group.library.name} · {class_group.name}"
        )
        pdf.setFont(bold, 13)
        pdf.drawString(left, y + card_h - 17 * mm, name[:40])
        pdf.setFont(regular, 11)
        pdf.drawString(left, y + card_h - 26 * mm, _("Username") + ":")
        pdf.drawString(left, y + card_h - 34 * mm, _("Password") + ":")
        pdf.setFont(bold, 14)
        pdf.drawString(left + 30 * mm, y + card_h - 26 * mm, username)
        pdf.drawString(left + 30 * mm, y + card_h - 34 * mm, password)
        pdf.setFont(regular, 8)
        pdf.drawString(left, y + 5 * mm, _("Log in at %(site)s") % {"site": site})
    if not credentials:
        pdf.setFont(regular, 12)
        pdf.drawString(MARGIN, page_h - MARGIN - 10 * mm, _("No login cards to print."))
    pdf.showPage()
    pdf.save()
    return out.getvalue()


def login_cards_export(
    *, class_group, credentials: list[tuple[str, str, str]], site: str, by
) -> bytes:
    """The login cards as a staff download: usernames and passwords of children, so the
    download is logged (log_export, on the class's school library, one row per card)."""
    pdf = login_cards_pdf(class_group=class_group, credentials=credentials, site=site)
    log_export(
        class_group.library, by=by, what="login_cards", rows=len(credentials), action=EXPORT_ACTION
    )
    return pdf
