"""A reader's own account: who they are, their card, loans and holds. Only the caller's own
data, found through their own card (Patron.user): never another reader's.

Loans and holds are print and digital side by side (`kind`); a digital waiting-list entry is
left through libraries/digital/services.py `cancel_wait`, so a licence kept for the reader
goes to the next one (docs/DIGITAL.md)."""

import datetime
from typing import Literal

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from pydantic import Field, field_validator
from reportlab.graphics import renderSVG
from reportlab.graphics.barcode import createBarcodeDrawing

from api.v1.errors import (
    READER_ERRORS,
    ROW_ID_MAX,
    ApiError,
    Error,
    PathId,
    no_card,
    no_nul,
    not_found,
)
from api.v1.security import READER_AUTH
from libraries.access import memberships_of
from libraries.circulation import services as circulation
from libraries.circulation.services import CirculationError
from libraries.digital import services as digital
from libraries.digital.services import DigitalError
from libraries.models import DigitalLoan, Hold, Library, Loan, Patron, Record

router = Router(tags=["reader"], auth=READER_AUTH)


class Membership(Schema):
    library_code: str
    library_name: str
    role: str


class Me(Schema):
    id: int
    username: str
    email: str
    name: str
    has_card: bool
    memberships: list[Membership]


class Card(Schema):
    card_number: str
    full_name: str
    home_library_code: str
    home_library_name: str
    category: str
    status: str
    expires_on: datetime.date
    barcode_svg: str


class LoanOut(Schema):
    id: int = Field(description="The loan's number among loans of its kind")
    kind: Literal["print", "digital"] = Field(
        description="print: a copy lent at a desk; digital: an e-book licence"
    )
    title: str
    record_id: int
    item_barcode: str | None = Field(description="The copy's barcode (print loans only)")
    library_code: str
    checked_out_at: datetime.datetime = Field(description="Lent (an e-book: borrowed) at")
    due_at: datetime.datetime = Field(
        description="Due back; an e-book loan ends by itself at this time"
    )
    overdue: bool
    renewals_count: int = Field(description="Always 0 for an e-book (they are not renewed)")
    file_id: int | None = Field(description="The e-book file (digital loans only)")
    file_format: Literal["epub", "pdf"] | None = Field(description="digital loans only")
    reader_url: str | None = Field(
        description="The reading page of the e-book in the browser (digital loans only)"
    )


class HoldOut(Schema):
    id: int
    kind: Literal["print", "digital"] = Field(
        description="digital: a place on an e-book's waiting list"
    )
    file_id: int | None = Field(description="The e-book file waited for (digital holds only)")
    title: str
    record_id: int
    pickup_library_code: str
    pickup_library_name: str
    status: str
    created_at: datetime.datetime


class HoldIn(Schema):
    record_id: int = Field(ge=1, le=ROW_ID_MAX)
    pickup_library: str  # library code

    _text = field_validator("pickup_library")(no_nul)


class Done(Schema):
    message: str


class LoanDone(Schema):
    message: str
    loan: LoanOut


class HoldDone(Schema):
    message: str
    hold: HoldOut


def _patron(user) -> Patron | None:
    return Patron.objects.select_related("home_library").filter(user=user).first()


def _my_patron(user) -> Patron:
    patron = _patron(user)
    if patron is None:
        raise no_card()
    return patron


def barcode_svg(value: str) -> str:
    """The card number as a Code128 barcode (as on the printed card), in SVG."""
    drawing = createBarcodeDrawing("Code128", value=value, barHeight=40, barWidth=1.2)
    return renderSVG.drawToString(drawing)


def _loan(loan: Loan, now) -> dict:
    return {
        "id": loan.pk,
        "kind": "print",
        "title": loan.item.record.title,
        "record_id": loan.item.record_id,
        "item_barcode": loan.item.barcode,
        "library_code": loan.library.code,
        "checked_out_at": loan.checked_out_at,
        "due_at": loan.due_at,
        "overdue": loan.due_at < now,
        "renewals_count": loan.renewals_count,
        "file_id": None,
        "file_format": None,
        "reader_url": None,
    }


def _digital_loan(request, loan: DigitalLoan) -> dict:
    return {
        "id": loan.pk,
        "kind": "digital",
        "title": loan.file.record.title,
        "record_id": loan.file.record_id,
        "item_barcode": None,
        "library_code": loan.library.code,
        "checked_out_at": loan.borrowed_at,
        "due_at": loan.due_at,
        "overdue": False,  # an e-book loan still running is never late
        "renewals_count": 0,
        "file_id": loan.file_id,
        "file_format": loan.file.kind,
        "reader_url": request.build_absolute_uri(
            reverse("libraries:digital_read", args=[loan.file_id])
        ),
    }


def _hold(hold: Hold) -> dict:
    return {
        "id": hold.pk,
        "kind": "digital" if hold.digital_file_id else "print",
        "file_id": hold.digital_file_id,
        "title": hold.record.title,
        "record_id": hold.record_id,
        "pickup_library_code": hold.pickup_library.code,
        "pickup_library_name": hold.pickup_library.name,
        "status": hold.status,
        "created_at": hold.created_at,
    }


def _refused(error: CirculationError) -> ApiError:
    return ApiError(409, error.code, error.message)


@router.get("/me", response={200: Me, **READER_ERRORS}, summary="Who is logged in")
def me(request):
    user = request.auth
    return {
        "id": user.pk,
        "username": user.get_username(),
        "email": user.email,
        "name": user.get_full_name() or user.get_username(),
        "has_card": Patron.objects.filter(user=user).exists(),
        "memberships": [
            {"library_code": m.library.code, "library_name": m.library.name, "role": m.role}
            for m in memberships_of(user)
            if m.library.is_active
        ],
    }


@router.get(
    "/me/card",
    response={200: Card, 404: Error, **READER_ERRORS},
    summary="My reader card, with its barcode as SVG",
)
def my_card(request):
    patron = _my_patron(request.auth)
    return {
        "card_number": patron.card_number,
        "full_name": patron.full_name,
        "home_library_code": patron.home_library.code,
        "home_library_name": patron.home_library.name,
        "category": patron.category,
        "status": patron.status,
        "expires_on": patron.expires_on,
        "barcode_svg": barcode_svg(patron.card_number),
    }


@router.get(
    "/me/loans",
    response={200: list[LoanOut], 404: Error, **READER_ERRORS},
    summary="My current loans, print and digital",
    description=(
        "Print loans first (soonest due first), then e-book loans still running (ending "
        "soonest first). `kind` tells them apart; `id` numbers each kind on its own."
    ),
)
def my_loans(request):
    patron = _my_patron(request.auth)
    now = timezone.now()
    loans = [_loan(loan, now) for loan in Loan.objects.on_loan_to(patron)]
    e_books = DigitalLoan.objects.on_loan_to(patron).filter(due_at__gt=now)
    return loans + [_digital_loan(request, loan) for loan in e_books]


@router.post(
    "/me/loans/{loan_id}/renew",
    response={200: LoanDone, 404: Error, 409: Error, **READER_ERRORS},
    summary="Renew one of my loans",
)
def renew(request, loan_id: PathId):
    user = request.auth
    loan = (
        Loan.objects.select_related("item")
        .filter(pk=loan_id, patron__user=user, returned_at__isnull=True)
        .first()
    )
    if loan is None:
        raise not_found()
    try:
        result = circulation.renew(item_barcode=loan.item.barcode, by=user)
    except CirculationError as error:
        raise _refused(error) from error
    loan = Loan.objects.select_related("item__record", "library").get(pk=loan.pk)
    return {"message": result.message, "loan": _loan(loan, timezone.now())}


@router.get(
    "/me/holds",
    response={200: list[HoldOut], 404: Error, **READER_ERRORS},
    summary="My active holds",
)
def my_holds(request):
    patron = _my_patron(request.auth)
    holds = Hold.objects.of_reader(patron)
    return [_hold(h) for h in holds]


@router.post(
    "/me/holds",
    response={201: HoldDone, 404: Error, 409: Error, **READER_ERRORS},
    summary="Place a hold on a title",
)
def place_hold(request, data: HoldIn):
    user = request.auth
    patron = _my_patron(user)
    record = Record.objects.filter(pk=data.record_id).first()
    if record is None:
        raise not_found()
    pickup = Library.objects.active().filter(code=data.pickup_library.strip().upper()).first()
    if pickup is None:
        raise ApiError(409, "pickup", _("Choose a pickup library."))
    try:
        result = circulation.place_hold(
            record=record, card_number=patron.card_number, pickup_library=pickup, by=user
        )
    except CirculationError as error:
        raise _refused(error) from error
    hold = Hold.objects.select_related("record", "pickup_library").get(pk=result.hold.pk)
    return Status(201, {"message": result.message, "hold": _hold(hold)})


@router.delete(
    "/me/holds/{hold_id}",
    response={200: Done, 404: Error, 409: Error, **READER_ERRORS},
    summary="Cancel one of my holds, or leave an e-book's waiting list",
)
def cancel_hold(request, hold_id: PathId):
    user = request.auth
    hold = Hold.objects.filter(pk=hold_id, patron__user=user).first()
    if hold is None:
        raise not_found()
    if hold.digital_file_id:
        # A licence kept for this reader goes to the next one: digital's own service.
        try:
            result = digital.cancel_wait(hold=hold, by=user)
        except DigitalError as error:
            raise ApiError(409, error.code, error.message) from error
        return {"message": result.message}
    try:
        result = circulation.cancel_hold(hold_id=hold.pk, by=user)
    except CirculationError as error:
        raise _refused(error) from error
    return {"message": result.message}
