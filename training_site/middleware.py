from csp.constants import HEADER
from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.urls import NoReverseMatch, reverse
from django.utils import translation


class SiteLanguageMiddleware(LocaleMiddleware):
    """Vietnamese unless the visitor chose English (language cookie from /i18n/setlang/).

    The browser's Accept-Language is not consulted: many PCs in school libraries run an
    English browser for a Vietnamese-speaking librarian.
    """

    def process_request(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        try:
            language = translation.get_supported_language_variant(chosen) if chosen else None
        except LookupError:
            language = None
        language = language or settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()


class UserLanguageMiddleware:
    """Serve a logged-in user in their preferred language unless they chose one this session."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if user is not None and user.is_authenticated and not chosen and user.preferred_language:
            translation.activate(user.preferred_language)
            request.LANGUAGE_CODE = user.preferred_language
        return self.get_response(request)


# The Content-Security-Policy (settings.CONTENT_SECURITY_POLICY) and its exceptions; each one
# is explained in docs/SECURITY.md, "Security headers".

_H5P_PLAYER = "_csp_h5p_player"

# What h5p-standalone and the H5P content types need, on a page that plays H5P only.
H5P_PLAYER_POLICY: dict[str, list[str]] = {
    "script-src": ["'sha256-8CniZYrnO46q7MvZ3m08Wom1HH/ZhyXmm29kBKTV1rk='", "'unsafe-eval'"],
    "style-src-attr": ["'unsafe-inline'"],
}

# What Wagtail's admin pages need beyond the site policy.
WAGTAIL_ADMIN_POLICY: dict[str, list[str]] = {
    "script-src": ["'unsafe-inline'"],
    "style-src": ["'unsafe-inline'"],
    "connect-src": ["https://releases.wagtail.org"],
}

# X-Frame-Options value -> the frame-ancestors directive that says the same thing.
_FRAME_ANCESTORS = {"DENY": "'none'", "SAMEORIGIN": "'self'"}


def allow_h5p_player(request) -> None:
    """Mark the response to `request` as playing H5P: it gets H5P_PLAYER_POLICY."""
    if request is not None:
        setattr(request, _H5P_PLAYER, True)


def _admin_prefix() -> str | None:
    try:
        return reverse("wagtailadmin_home")
    except NoReverseMatch:
        return None


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware with our exceptions: H5P_PLAYER_POLICY on pages that play H5P,
    WAGTAIL_ADMIN_POLICY under Wagtail's admin, and frame-ancestors saying what the response's
    X-Frame-Options says (browsers obey frame-ancestors first)."""

    def get_policy_parts(self, request, response, report_only: bool = False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only=report_only)
        if report_only:
            return parts
        update = {key: list(value) for key, value in (parts.update or {}).items()}
        extras = []
        if getattr(request, _H5P_PLAYER, False):
            extras.append(H5P_PLAYER_POLICY)
        admin = _admin_prefix()
        if admin and request.path_info.startswith(admin):
            extras.append(WAGTAIL_ADMIN_POLICY)
        for extra in extras:
            for directive, sources in extra.items():
                update.setdefault(directive, []).extend(sources)
        parts.update = update or None
        return parts

    def process_response(self, request, response):
        response = super().process_response(request, response)
        if HEADER in response:
            # Done on the header, not the policy parts: Wagtail's preview renders the page
            # through the whole middleware chain first (a policy for a DENY response), then
            # marks the response SAMEORIGIN for its preview panel.
            response[HEADER] = with_frame_ancestors(
                response[HEADER], response.get("X-Frame-Options", "")
            )
        return response


def with_frame_ancestors(policy: str, x_frame_options: str) -> str:
    """`policy` with its frame-ancestors replaced by the one matching X-Frame-Options."""
    directives = [
        part.strip()
        for part in policy.split(";")
        if part.strip() and part.split()[0].lower() != "frame-ancestors"
    ]
    ancestors = _FRAME_ANCESTORS.get(x_frame_options.strip().upper())
    if ancestors:
        directives.append(f"frame-ancestors {ancestors}")
    return "; ".join(directives)
