"""Who is calling: allauth's session token (X-Session-Token, no cookies, so no CSRF) or the
site's own session cookie (then POST/DELETE need the CSRF token), and the rate limits."""

import hashlib

from allauth.headless.contrib.ninja.security import XSessionTokenAuth
from django.contrib.auth.models import AnonymousUser
from ninja.security import SessionAuth
from ninja.throttling import SimpleRateThrottle

from training_site.accounts import SESSION_TOKEN_HEADER, session_token_user
from training_site.throttle import client_ip


class SessionToken(XSessionTokenAuth):
    """allauth's app session token; an inactive account is nobody."""

    openapi_in = "header"
    openapi_name = SESSION_TOKEN_HEADER

    def __call__(self, request):
        return session_token_user(self.get_session_token(request))


class Session(SessionAuth):
    """The browser's login cookie (CSRF checked on unsafe methods by ninja)."""

    def authenticate(self, request, key):
        user = super().authenticate(request, key)
        return user if user is not None and user.is_active else None


def anonymous(request):
    """A caller who sent no session token is anonymous (a public page's reader); one who sent
    a token that is no longer valid is told to log in again (401), not served as anonymous."""
    if SESSION_TOKEN_HEADER in request.headers:
        return None
    return AnonymousUser()


token_auth = SessionToken()
session_auth = Session()
READER_AUTH = [token_auth, session_auth]
# Endpoints that answer anyone but say more to a logged-in caller (request.auth is then the
# account, else an AnonymousUser).
ANYONE_AUTH = [token_auth, session_auth, anonymous]


class PerAddress(SimpleRateThrottle):
    """Every request from one address (read as the login limits read it)."""

    scope = "api-address"

    def get_cache_key(self, request):
        return f"kb:api:address:{client_ip(request)}"


class PerToken(SimpleRateThrottle):
    """Every request carrying one session token (none: not counted here)."""

    scope = "api-token"

    def get_cache_key(self, request):
        token = request.headers.get(SESSION_TOKEN_HEADER)
        if not token:
            return None
        return f"kb:api:token:{hashlib.sha256(token.encode()).hexdigest()}"


THROTTLES = [PerAddress("600/m"), PerToken("120/m")]
