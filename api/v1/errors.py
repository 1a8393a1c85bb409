"""One JSON error shape for every refusal: {"error": {"code": ..., "message": ...}}."""

from typing import Annotated

from django.utils.translation import gettext as _
from ninja import Path, Schema


class ErrorBody(Schema):
    code: str
    message: str


class Error(Schema):
    error: ErrorBody


class ApiError(Exception):
    """A refusal with a readable message, sent as the one error shape."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def body(code: str, message: str) -> dict:
    return {"error": {"code": code, "message": str(message)}}


def no_card() -> ApiError:
    return ApiError(404, "no_card", _("No reader card is linked to your account."))


def not_found() -> ApiError:
    return ApiError(404, "not_found", _("Not found."))


def no_nul(value: str) -> str:
    """Text fields refuse the NUL character (as Django's form fields do; PostgreSQL can't store
    it): a 422, not a database error."""
    if "\x00" in value:
        raise ValueError(_("Null characters are not allowed."))
    return value


# The largest database integer: a larger id is a 422, not an overflow in the database driver.
ROW_ID_MAX = 2**63 - 1
PathId = Annotated[int, Path(ge=1, le=ROW_ID_MAX)]


# Responses every endpoint may give, documented once.
PUBLIC_ERRORS = {422: Error, 429: Error}
READER_ERRORS = {400: Error, 401: Error, 403: Error, 422: Error, 429: Error}
