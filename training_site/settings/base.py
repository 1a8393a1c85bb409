"""Settings shared by every environment. Configuration comes from the environment."""

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [part.strip() for part in os.environ.get(name, default).split(",") if part.strip()]


SECRET_KEY = os.environ.get("SECRET_KEY", "")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "training_site",
    "libraries",
    "courses",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "allauth",
    "allauth.account",
    "allauth.headless",
    "ninja",  # the API docs page serves Swagger UI from our static files (CSP: 'self')
    "django_tasks",
    "django_tasks_db",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
]

MIDDLEWARE = [
    # First: a request id and one log line for every response, redirects included.
    "training_site.observability.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before XFrameOptionsMiddleware: it reads the X-Frame-Options that one sets.
    "training_site.middleware.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "training_site.middleware.SiteLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "training_site.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
]

ROOT_URLCONF = "training_site.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "wagtail.contrib.settings.context_processors.settings",
            ],
        },
    },
]

WSGI_APPLICATION = "training_site.wsgi.application"

# DATABASE_URL unset or empty: the SQLite file beside the code (production.py refuses that).
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", "").strip() or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "").strip() or "0"),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the dev server and a background worker share the file.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "training_site.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
    "libraries.access.MembershipPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

# Accounts (django-allauth): username or email, readers verify their email.
ACCOUNT_ADAPTER = "training_site.accounts.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_PREVENT_ENUMERATION = True
# A school's 1,000 students may all sit behind one address (docs/SECURITY.md): five failed
# logins lock one account for five minutes; the address as a whole may fail 1,000 times in
# five minutes (every student mistyping once) and send 2,000 login forms. Per account first,
# so a locked-out child pressing "log in" again and again spends none of the school's 1,000.
# The client address is read as ALLAUTH_TRUSTED_PROXY_COUNT says (production.py).
ACCOUNT_RATE_LIMITS = {
    "login": "2000/5m/ip",
    "login_failed": "5/5m/key,1000/5m/ip",
    "signup": "20/h/ip",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "confirm_email": "1/3m/key",
}
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Knowledge Bridge] "

# The mobile app (docs/API.md): allauth's headless API for apps, session tokens sent as
# X-Session-Token; the site's own pages keep allauth's forms.
HEADLESS_ONLY = False
HEADLESS_CLIENTS = ("app",)
HEADLESS_SERVE_SPECIFICATION = False

LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", _("Vietnamese")), ("en", _("English"))]
# One translation catalog per area (core, training, catalog, circulation, dashboards), so
# each area's strings are kept beside each other; Django merges them all.
LOCALE_PATHS = sorted(p for p in (BASE_DIR / "locale").glob("*") if (p / "vi").is_dir())
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_I18N = True
USE_TZ = True
WAGTAIL_I18N_ENABLED = False
WAGTAILADMIN_PERMITTED_LANGUAGES = [("vi", "Tiếng Việt"), ("en", "English")]

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
# The H5P player comes from npm into node_modules; only its dist folder is served.
H5P_PLAYER_DIST = BASE_DIR / "node_modules" / "h5p-standalone" / "dist"
if H5P_PLAYER_DIST.is_dir():
    STATICFILES_DIRS.append(("h5p-player", H5P_PLAYER_DIST))
# The service worker (static/pwa/sw.js) loads Workbox's modules, pinned in package.json, from
# one static folder: each package's build folder is served under it.
WORKBOX_MODULES = sorted((BASE_DIR / "node_modules").glob("workbox-*/build"))
STATICFILES_DIRS.extend(("pwa/workbox", folder) for folder in WORKBOX_MODULES)
# The e-book reader (docs/DIGITAL.md, "Reading in the browser"): pdf.js's build for older phone
# browsers too, its fonts, character maps and image decoders (npm pdfjs-dist), and the one
# polyfill foliate-js imports. foliate-js's own modules are linked one by one under
# static/reader/foliate/: its package also holds a demo page that opens any address.
READER_PACKAGES = BASE_DIR / "node_modules"
STATICFILES_DIRS.extend(
    (prefix, READER_PACKAGES / folder)
    for prefix, folder in [
        ("reader/pdfjs", "pdfjs-dist/legacy/build"),
        ("reader/pdfjs/standard_fonts", "pdfjs-dist/standard_fonts"),
        ("reader/pdfjs/cmaps", "pdfjs-dist/cmaps"),
        ("reader/pdfjs/wasm", "pdfjs-dist/wasm"),
        ("reader/polyfill", "construct-style-sheets-polyfill/dist"),
    ]
    if (READER_PACKAGES / folder).is_dir()
)

MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
MEDIA_URL = "/media/"
# Uploads nobody may fetch by URL (MARC import files until their job has run): outside
# MEDIA_ROOT, under generated names. An object-storage backend can replace the alias later.
PRIVATE_MEDIA_ROOT = Path(os.environ.get("PRIVATE_MEDIA_ROOT", BASE_DIR / "private"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
    "private": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": PRIVATE_MEDIA_ROOT},
    },
}
# Django serves MEDIA_URL itself when true (development, tests, a single-machine LAN install).
# In production let the web server serve MEDIA_ROOT (H5P content and libraries live there).
SERVE_MEDIA = env_bool("SERVE_MEDIA", DEBUG)

# H5P uploads (courses/h5p/validation.py): caps checked before anything is unpacked.
H5P_MAX_UPLOAD_BYTES = int(os.environ.get("H5P_MAX_UPLOAD_BYTES", 100 * 1024 * 1024))
H5P_MAX_ENTRIES = int(os.environ.get("H5P_MAX_ENTRIES", 5000))
H5P_MAX_UNCOMPRESSED_BYTES = int(os.environ.get("H5P_MAX_UNCOMPRESSED_BYTES", 300 * 1024 * 1024))
H5P_MAX_RATIO = int(os.environ.get("H5P_MAX_RATIO", 100))
# E-books and documents (libraries/digital, docs/DIGITAL.md): the upload cap, how long a signed
# file address lives, and, behind nginx, the internal location that sends the bytes.
DIGITAL_MAX_UPLOAD_BYTES = int(os.environ.get("DIGITAL_MAX_UPLOAD_BYTES", 200 * 1024 * 1024))
DIGITAL_SIGNED_URL_SECONDS = int(os.environ.get("DIGITAL_SIGNED_URL_SECONDS", 300))
DIGITAL_X_ACCEL_PREFIX = os.environ.get("DIGITAL_X_ACCEL_PREFIX", "")
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# Email
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get(
    "DEFAULT_FROM_EMAIL", "Cầu nối tri thức số <no-reply@localhost>"
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Staff invitations (libraries/network/invitations.py): a link /loi-moi/<token>/ works this many
# days after it was (last) sent; "Send again" starts the count anew.
LIBRARY_INVITATION_DAYS = 7
# OAI-PMH harvesting (libraries/harvest/client.py) reads public addresses only, plus these
# private networks, comma-separated (a district LAN: 10.20.0.0/16). Default: none.
HARVEST_ALLOWED_NETWORKS = env_list("HARVEST_ALLOWED_NETWORKS")

# Caches: local memory by default; set CACHE_URL=redis://... when more than one process serves:
# the login and form limits count in the cache, and each process's local memory counts alone.
if os.environ.get("CACHE_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["CACHE_URL"],
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Background jobs: run in-process by default; production uses the database queue and a worker.
TASKS = {
    "default": {
        "BACKEND": os.environ.get(
            "TASKS_BACKEND", "django_tasks.backends.immediate.ImmediateBackend"
        )
    }
}

WAGTAIL_SITE_NAME = "Cầu nối tri thức số"
WAGTAILADMIN_BASE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000")
WAGTAILADMIN_LOGIN_URL = "/accounts/login/"
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAILDOCS_EXTENSIONS = [
    "pdf",
    "docx",
    "doc",
    "odt",
    "xlsx",
    "xls",
    "pptx",
    "ppt",
    "txt",
    "csv",
    "zip",
]

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False

# Security headers (docs/SECURITY.md, "Security headers"). No page may be framed, except
# Wagtail's own preview (it marks that response SAMEORIGIN); the H5P player's iframes are
# about:blank documents it writes itself, which X-Frame-Options does not concern.
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Video blocks (Wagtail embeds) play in a frame from one of these origins.
CSP_VIDEO_FRAME_SOURCES = env_list(
    "CSP_VIDEO_FRAME_SOURCES",
    "https://www.youtube.com,https://www.youtube-nocookie.com,https://player.vimeo.com",
)
# No 'unsafe-inline' nor 'unsafe-eval' for scripts: our templates load scripts from /static/
# only. training_site/middleware.py adds the few exceptions the H5P player and Wagtail's
# admin need, on their pages only, and sets frame-ancestors from X-Frame-Options.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "media-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-src": ["'self'", *CSP_VIDEO_FRAME_SOURCES],
        "object-src": ["'none'"],
        # The installable app: its service worker (/sw.js) and manifest come from this site.
        "worker-src": ["'self'"],
        "manifest-src": ["'self'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
    }
}
# Wagtail's admin shows no Gravatar: staff e-mail hashes stay here, the policy stays 'self'.
WAGTAIL_GRAVATAR_PROVIDER_URL = None

# Operators' logs (training_site/observability.py, docs/OPERATIONS.md): `kb.request` has one
# JSON line per request (quiet unless REQUEST_LOG=1; production turns it on), `kb.sql` the
# queries slower than SLOW_QUERY_MS (0: none). REQUEST_ID_HEADER: the request id our own
# proxy sends, trusted only behind it (production.py).
SLOW_QUERY_MS = int(os.environ.get("SLOW_QUERY_MS", "").strip() or "500")
REQUEST_ID_HEADER = None
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "training_site.observability.JsonFormatter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler"},
        "json": {"class": "logging.StreamHandler", "formatter": "json"},
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
    "loggers": {
        "kb.request": {
            "handlers": ["json"],
            "level": "INFO" if env_bool("REQUEST_LOG", False) else "WARNING",
            "propagate": False,
        },
        "kb.sql": {"handlers": ["json"], "level": "WARNING", "propagate": False},
    },
}

# The staff audit log (libraries/network/audit.py): `manage.py purge_audit_log` deletes entries
# older than this many days (docs/OPERATIONS.md, "Audit log").
AUDIT_LOG_RETENTION_DAYS = int(os.environ.get("AUDIT_LOG_RETENTION_DAYS", "").strip() or "730")
