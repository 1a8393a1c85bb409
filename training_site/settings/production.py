"""Production: everything from the environment, secure cookies, database task queue."""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403

if not SECRET_KEY:  # noqa: F405
    raise ImproperlyConfigured("SECRET_KEY must be set in production.")
if not os.environ.get("DATABASE_URL", "").strip():
    raise ImproperlyConfigured(
        "DATABASE_URL must be set in production, e.g. "
        "postgres://user:password@host:5432/name; production never falls back to SQLite."
    )
DEBUG = env_bool("DEBUG", False)  # noqa: F405
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# How many proxies of ours (nginx: 1) append to X-Forwarded-For. The login limits and the
# form throttles take the client address from there; 0 (the default) means REMOTE_ADDR.
_trusted_proxies = os.environ.get("ALLAUTH_TRUSTED_PROXY_COUNT", "").strip() or "0"
if not _trusted_proxies.isdecimal():
    raise ImproperlyConfigured(
        "ALLAUTH_TRUSTED_PROXY_COUNT must be a whole number: 1 behind one nginx, 0 without."
    )
ALLAUTH_TRUSTED_PROXY_COUNT = int(_trusted_proxies)
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)  # noqa: F405
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# HTTPS (docs/SECURITY.md, "Security headers"; README, Production). Behind the proxy that
# terminates TLS, SECURE_PROXY_SSL_HEADER above tells Django a request came over HTTPS.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)  # noqa: F405
# Browsers remember HSTS this many seconds: start low (300) on a new install, raise it to a
# year once every page works over HTTPS. 0 sends no HSTS header.
_hsts_seconds = os.environ.get("SECURE_HSTS_SECONDS", "").strip() or "31536000"
if not _hsts_seconds.isdecimal():
    raise ImproperlyConfigured(
        "SECURE_HSTS_SECONDS must be a whole number of seconds: 300 to start, 31536000 (a "
        "year) once HTTPS works everywhere, 0 for no HSTS."
    )
SECURE_HSTS_SECONDS = int(_hsts_seconds)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)  # noqa: F405
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)  # noqa: F405
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if SESSION_COOKIE_SECURE else "http"
STORAGES["staticfiles"]["BACKEND"] = "whitenoise.storage.CompressedManifestStaticFilesStorage"  # noqa: F405
TASKS = {
    "default": {
        "BACKEND": os.environ.get("TASKS_BACKEND", "django_tasks_db.backend.DatabaseBackend")
    }
}
