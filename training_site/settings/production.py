"""Production: everything from the environment, secure cookies, database task queue."""

import os
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from training_site.observability import init_error_reporting, site_version

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
# Static files: hashed names (cached for ever by browsers) and gzip copies, served by WhiteNoise.
STORAGES["staticfiles"]["BACKEND"] = "whitenoise.storage.CompressedManifestStaticFilesStorage"  # noqa: F405
# Load balancers probe /healthz over plain HTTP, past the proxy that terminates TLS.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# Persistent database connections (one per gunicorn thread), checked before each request uses
# them: no new PostgreSQL connection per request.
DATABASES["default"]["CONN_MAX_AGE"] = int(os.environ.get("CONN_MAX_AGE", "").strip() or "60")  # noqa: F405
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True  # noqa: F405

# Redis holds what every gunicorn worker must share: the cache, the login limits and form
# throttles (both count in the cache), and sessions (cached_db: read from Redis, written through
# to the database, so a Redis restart logs nobody out). CACHE_URL is the older name.
REDIS_URL = (os.environ.get("REDIS_URL", "") or os.environ.get("CACHE_URL", "")).strip()
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "").strip() or "kb",
            "OPTIONS": {
                # A Redis that stops answering fails requests (and /healthz) within a second
                # or two instead of holding every gunicorn thread.
                "socket_connect_timeout": 1,
                "socket_timeout": 2,
                "health_check_interval": 30,
            },
        }
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
# Without it the cache stays per process and sessions in the database; `check --deploy` warns
# (training_site.W001) and scripts/prod.sh refuses to start.
TASKS = {
    "default": {
        "BACKEND": os.environ.get("TASKS_BACKEND", "django_tasks_db.backend.DatabaseBackend")
    }
}

# Logs (docs/OPERATIONS.md): everything as JSON lines on stderr, one line per request.
SLOW_QUERY_MS = int(os.environ.get("SLOW_QUERY_MS", "").strip() or "200")
# nginx: proxy_set_header X-Request-ID $request_id; believed only behind our own proxy.
REQUEST_ID_HEADER = "HTTP_X_REQUEST_ID" if ALLAUTH_TRUSTED_PROXY_COUNT else None
LOGGING["handlers"]["console"]["formatter"] = "json"  # noqa: F405
LOGGING["loggers"]["kb.request"]["level"] = (  # noqa: F405
    "INFO" if env_bool("REQUEST_LOG", True) else "WARNING"  # noqa: F405
)

# Error reports to a Sentry-compatible service, only when SENTRY_DSN is set.
SENTRY_ENABLED = init_error_reporting(
    os.environ.get("SENTRY_DSN", "").strip(),
    environment=os.environ.get("SENTRY_ENVIRONMENT", "").strip() or "production",
    release=site_version(BASE_DIR),  # noqa: F405
)

# Uploaded files (docs/SCALING.md, "Files on object storage"): on this machine's disk by default
# (MEDIA_ROOT, PRIVATE_MEDIA_ROOT); MEDIA_STORAGE=s3 keeps them in S3-compatible object storage
# that every application server shares. Keys come from AWS_ACCESS_KEY_ID and
# AWS_SECRET_ACCESS_KEY (read by boto3 itself, never written here).
MEDIA_STORAGE = os.environ.get("MEDIA_STORAGE", "").strip().lower() or "filesystem"
if MEDIA_STORAGE == "s3":
    _bucket = os.environ.get("AWS_STORAGE_BUCKET_NAME", "").strip()
    _endpoint = os.environ.get("AWS_S3_ENDPOINT_URL", "").strip().rstrip("/")
    if not _bucket or not _endpoint.startswith(("https://", "http://")):
        raise ImproperlyConfigured(
            "MEDIA_STORAGE=s3 needs AWS_STORAGE_BUCKET_NAME (e.g. kb-media) and "
            "AWS_S3_ENDPOINT_URL (e.g. https://s3.ap-southeast-1.amazonaws.com, or your "
            "provider's S3 address)."
        )
    # A bucket of its own for private files is safest: no policy of the public one reaches it.
    _private_bucket = os.environ.get("AWS_PRIVATE_STORAGE_BUCKET_NAME", "").strip() or _bucket
    _location = os.environ.get("AWS_LOCATION", "").strip().strip("/")
    _private_location = os.environ.get("AWS_PRIVATE_LOCATION", "").strip().strip("/")
    if _private_bucket == _bucket and not _private_location:
        _private_location = "private"
    if _private_bucket == _bucket and _private_location == _location:
        raise ImproperlyConfigured(
            "AWS_PRIVATE_LOCATION must differ from AWS_LOCATION when private files share the "
            "public bucket (or set AWS_PRIVATE_STORAGE_BUCKET_NAME)."
        )
    _addressing = os.environ.get("AWS_S3_ADDRESSING_STYLE", "").strip() or "path"
    if _addressing not in ("path", "virtual"):
        raise ImproperlyConfigured("AWS_S3_ADDRESSING_STYLE must be path or virtual.")
    _s3 = {
        "endpoint_url": _endpoint,
        "region_name": os.environ.get("AWS_S3_REGION_NAME", "").strip() or "us-east-1",
        "addressing_style": _addressing,
        "signature_version": "s3v4",
        # Never replace a file under the same name (Wagtail keeps image names); H5P deletes first.
        "file_overwrite": False,
    }
    STORAGES["default"] = {  # noqa: F405
        "BACKEND": "training_site.object_storage.PublicMediaStorage",
        "OPTIONS": {
            **_s3,
            "bucket_name": _bucket,
            "location": _location,
            # "public-read" makes each object readable by nginx's /media/ and browsers; empty
            # for a bucket whose policy makes it readable (ACLs disabled, as AWS creates them).
            "default_acl": os.environ.get("AWS_DEFAULT_ACL", "public-read").strip() or None,
            "querystring_auth": False,
            # A CDN host for /media/ (e.g. media.thuvien.example.vn): it must send the headers of
            # README.md's nginx snippet, and the CSP must allow it. Empty: MEDIA_URL on the site.
            "custom_domain": os.environ.get("AWS_S3_CUSTOM_DOMAIN", "").strip() or None,
        },
    }
    STORAGES["private"] = {  # noqa: F405
        "BACKEND": "training_site.object_storage.PrivateMediaStorage",
        "OPTIONS": {
            **_s3,
            "bucket_name": _private_bucket,
            "location": _private_location,
            "default_acl": "private",
            "querystring_auth": True,
            # The life of a presigned address: a browser or reading app follows it at once.
            "querystring_expire": int(os.environ.get("AWS_QUERYSTRING_EXPIRE", "").strip() or "60"),
        },
    }
    # The browser's reader fetches an e-book from its presigned address (CORS on that bucket:
    # docs/SCALING.md); CSP must let it connect there.
    _parts = urlsplit(_endpoint)
    _host = f"{_private_bucket}.{_parts.netloc}" if _addressing == "virtual" else _parts.netloc
    PRIVATE_MEDIA_ORIGIN = f"{_parts.scheme}://{_host}"
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["connect-src"].append(PRIVATE_MEDIA_ORIGIN)  # noqa: F405
elif MEDIA_STORAGE != "filesystem":
    raise ImproperlyConfigured("MEDIA_STORAGE must be filesystem (the default) or s3.")

# A read replica of PostgreSQL (docs/SCALING.md, "A read replica"): dashboards and reports read
# from it (training_site/db_router.py, `use_replica`); everything else, and every write, stays on
# DATABASE_URL. Tests point it at the test database itself (MIRROR).
DATABASE_REPLICA_URL = os.environ.get("DATABASE_REPLICA_URL", "").strip()
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = dj_database_url.parse(  # noqa: F405
        DATABASE_REPLICA_URL,
        conn_max_age=DATABASES["default"]["CONN_MAX_AGE"],  # noqa: F405
    )
    DATABASES["replica"]["CONN_HEALTH_CHECKS"] = True  # noqa: F405
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}  # noqa: F405
    DATABASE_ROUTERS = ["training_site.db_router.ReplicaRouter"]
