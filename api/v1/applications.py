"""Apply for a reader card from the app: the site's own form validates, patrons.register()
stores, and the per-address limit of the page (training_site/throttle.py) applies."""

import datetime

from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from api.v1.errors import Error, body
from libraries.circulation import patrons
from libraries.circulation.forms import RegistrationForm
from libraries.models import Library
from training_site.throttle import card_applications

router = Router(tags=["card applications"])


class CardApplication(Schema):
    full_name: str
    date_of_birth: datetime.date | None = None
    category: str = "adult"
    home_library: str  # library code
    school_class: str = ""
    address: str = ""
    phone: str = ""
    email: str = ""
    guardian_name: str = ""
    guardian_contact: str = ""
    guardian_consent: bool = False
    consent: bool = False


class Received(Schema):
    message: str


class FieldErrors(Schema):
    code: str
    message: str
    fields: dict[str, list[str]] = {}  # noqa: RUF012 - pydantic copies defaults


class InvalidApplication(Schema):
    error: FieldErrors


@router.post(
    "/card-applications",
    response={201: Received, 422: InvalidApplication, 429: Error, 400: Error},
    auth=None,
    summary="Apply for a reader card",
)
def apply_for_card(request, data: CardApplication):
    if card_applications.exceeded(request):
        message = _("Too many applications from this connection. Try again later.")
        return Status(429, body("rate_limited", message))
    values = data.dict()
    library = Library.objects.active().filter(code=values["home_library"].strip().upper()).first()
    values["home_library"] = library.pk if library else ""
    form = RegistrationForm(data={k: v for k, v in values.items() if v not in (None, False)})
    if not form.is_valid():
        fields = {name: [str(m) for m in messages] for name, messages in form.errors.items()}
        return Status(
            422,
            {
                "error": {
                    "code": "invalid",
                    "message": _("Please correct the errors below."),
                    "fields": fields,
                }
            },
        )
    patrons.register(
        **{k: v for k, v in form.cleaned_data.items() if k not in {"website", "consent"}}
    )
    card_applications.count(request)
    return Status(201, {"message": _("Application received. The library will contact you.")})
