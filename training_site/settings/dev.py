"""Local development: debug on, console email, SQLite unless DATABASE_URL says otherwise."""

import os

os.environ.setdefault("DEBUG", "1")

from .base import *  # noqa: E402,F403

DEBUG = env_bool("DEBUG", True)  # noqa: F405
SERVE_MEDIA = env_bool("SERVE_MEDIA", True)  # noqa: F405
SECRET_KEY = SECRET_KEY or "dev-only-insecure-key-change-me"  # noqa: F405
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http"
# OAI-PMH harvesting may read a second instance on this machine (libraries/harvest/client.py).
HARVEST_ALLOWED_NETWORKS = ["127.0.0.0/8", "::1/128"]
