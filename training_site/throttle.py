"""Per-address limits for public forms (card applications, join requests), kept in the
shared cache so every app server counts the same sends."""

from dataclasses import dataclass

from allauth.core.internal.ratelimit import get_ip
from django.core.cache import cache


def client_ip(request) -> str:
    """The visitor's address exactly as allauth's login limits read it: X-Forwarded-For only
    through ALLAUTH_TRUSTED_PROXY_COUNT proxies of ours (else REMOTE_ADDR), an IPv6 address
    cut to its /64 network. One reading for every limit, so none can be fooled by a forged
    header that another ignores."""
    return get_ip(request)


@dataclass(frozen=True)
class FormThrottle:
    name: str
    limit: int  # sends per address per window
    window: int  # seconds

    def _key(self, request) -> str:
        return f"kb:{self.name}:{client_ip(request)}"

    def exceeded(self, request) -> bool:
        return cache.get(self._key(request), 0) >= self.limit

    def count(self, request) -> None:
        key = self._key(request)
        cache.add(key, 0, self.window)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, self.window)


card_applications = FormThrottle("register-card", limit=5, window=3600)
join_requests = FormThrottle("join", limit=5, window=3600)
