"""Version 1 of the API: one NinjaAPI, one error shape, rate limits, Accept-Language."""

import functools

from django.http import Http404
from django.utils import translation
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Swagger
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError

from api.v1 import applications, catalog, learning, lessons, readers
from api.v1.errors import ApiError, body
from api.v1.security import THROTTLES


class Docs(Swagger):
    """/api/v1/docs: Swagger UI from our static files in our own page (templates/api/docs.html:
    the page's language, a main landmark, colours readable by WCAG AA). Operations are not
    deep links: Swagger UI would put each link inside its operation's toggle button."""

    template = "api/docs.html"


api = NinjaAPI(
    docs=Docs(settings={"deepLinking": False}),
    title="Knowledge Bridge API",
    version="1",
    description="The mobile app's API (docs/API.md). Log in through "
    "/_allauth/app/v1/auth/login and send the session token as X-Session-Token.",
    throttle=THROTTLES,
    urls_namespace="api-v1",
)
api.add_router("/", catalog.router)
api.add_router("/", readers.router)
api.add_router("/", applications.router)
api.add_router("/", learning.router)
api.add_router("/", lessons.router)


@api.exception_handler(ApiError)
def _api_error(request, exc: ApiError):
    return api.create_response(request, body(exc.code, exc.message), status=exc.status)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    message = _("Log in first: send your session token as X-Session-Token.")
    return api.create_response(request, body("not_authenticated", message), status=401)


@api.exception_handler(ValidationError)
def _invalid(request, exc: ValidationError):
    fields = sorted({".".join(str(p) for p in e.get("loc", ())[1:]) for e in exc.errors})
    message = _("Invalid request: %(fields)s.") % {"fields": ", ".join(f for f in fields if f)}
    return api.create_response(request, body("invalid", message), status=422)


@api.exception_handler(Throttled)
def _throttled(request, exc: Throttled):
    response = api.create_response(
        request, body("rate_limited", _("Too many requests. Try again later.")), status=429
    )
    if exc.wait:
        response["Retry-After"] = str(int(exc.wait) + 1)
    return response


@api.exception_handler(Http404)
def _not_found(request, exc):
    return api.create_response(request, body("not_found", _("Not found.")), status=404)


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    if exc.status_code == 400:
        code, message = "bad_request", _("The request body is not valid JSON.")
    elif exc.status_code == 403:
        code, message = "csrf_failed", _("CSRF check failed. Reload the page and try again.")
    else:
        code, message = "error", str(exc.message)
    return api.create_response(request, body(code, message), status=exc.status_code)


def with_accept_language(view):
    """Messages in the caller's language: the language cookie, else Accept-Language, else
    the site's default (Vietnamese)."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        language = translation.get_language_from_request(request)
        with translation.override(language):
            request.LANGUAGE_CODE = language
            response = view(request, *args, **kwargs)
            response.headers.setdefault("Content-Language", language)
            return response

    return wrapped
