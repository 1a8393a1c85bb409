"""The installable app: web app manifest, service worker and its offline page.

The service worker's code is static/pwa/sw.js. It is served from /sw.js (its scope is the
whole site) with the site's settings written before it: the precache list with a revision per
file, the pages worth keeping (home, catalog, guides) and those never kept. A new revision of
any precached file changes the script, so browsers install the new worker.
"""

import hashlib
import json
import re
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.http import HttpResponse, HttpResponseNotModified, JsonResponse
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from courses.models import GuideIndexPage

SERVICE_WORKER_SOURCE = "pwa/sw.js"
WORKBOX_FOLDER = "pwa/workbox/"  # settings.STATICFILES_DIRS: one folder for every module
OFFLINE_TEMPLATE = "pwa/offline.html"
# The offline shell: what the offline page needs, fetched when the worker installs.
PRECACHED_STATIC = (
    "css/site.css",
    "js/site.js",
    "pwa/pwa.js",
    "pwa/icons/icon-192.png",
)
THEME_COLOR = "#0b5d7a"  # static/css/site.css, --brand
BACKGROUND_COLOR = "#ffffff"
SHORT_NAME = "Cầu nối"
ICONS = (
    ("pwa/icons/icon-192.png", "192x192", "any"),
    ("pwa/icons/icon-512.png", "512x512", "any"),
    ("pwa/icons/maskable-192.png", "192x192", "maskable"),
    ("pwa/icons/maskable-512.png", "512x512", "maskable"),
)
# Pages never kept by the worker: staff screens, accounts, the API, a reader's own pages.
NEVER_KEPT = (
    "/admin/",
    "/accounts/",
    "/_allauth/",
    "/api/",
    "/my/",
    "/teach/",
    "/dashboards/",
    "/stocktake/",
)
SAMPLE_NUMBER = 987654321
NETWORK_TIMEOUT_SECONDS = 5
MAX_KEPT_PAGES = 80


def _revision(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def _static_bytes(path: str) -> bytes:
    found = finders.find(path)
    if found:
        with open(found, "rb") as source:
            return source.read()
    with staticfiles_storage.open(path) as source:
        return source.read()


def _offline_page() -> str:
    """The offline page, the same for everyone (both languages, nobody's data)."""
    return render_to_string(OFFLINE_TEMPLATE)


def _path(url: str | None) -> str:
    return urlsplit(url or "").path or "/"


def _pattern(name: str) -> str:
    """A regular expression for the paths of URL `name` with one number in them."""
    sample = reverse(name, args=[SAMPLE_NUMBER])
    return "^" + re.escape(sample).replace(str(SAMPLE_NUMBER), r"\d+")


def worker_settings(request) -> dict:
    """What static/pwa/sw.js reads from self.KB_PWA."""
    guides = [_path(page.get_url(request)) for page in GuideIndexPage.objects.live().public()]
    precache = [{"url": reverse("pwa_offline"), "revision": _revision(_offline_page().encode())}]
    precache += [
        {"url": static(path), "revision": _revision(_static_bytes(path))}
        for path in PRECACHED_STATIC
    ]
    # Workbox's modules under their own names (a folder has no hashed name to look up).
    workbox = f"{settings.STATIC_URL}{WORKBOX_FOLDER}"
    return {
        "workbox": workbox,
        "precache": precache,
        "offlinePage": reverse("pwa_offline"),
        "xapi": reverse("courses:xapi_statements"),
        "logout": [reverse("account_logout"), reverse("wagtailadmin_logout")],
        "pages": {
            "exact": ["/"],
            "prefixes": [reverse("libraries:catalog_search"), *(p for p in guides if p != "/")],
        },
        "never": [*NEVER_KEPT, reverse("libraries:desk")],
        # A reader's hold form lives under the catalog.
        "neverPatterns": [_pattern("libraries:place_hold")],
        "files": [settings.STATIC_URL, settings.MEDIA_URL, "/documents/"],
        "static": settings.STATIC_URL,
        "staticNotKept": [f"{settings.STATIC_URL}wagtail", workbox],
        "h5pMedia": f"{settings.MEDIA_URL}h5p/",
        "images": [f"{settings.MEDIA_URL}images/", f"{settings.MEDIA_URL}original_images/"],
        # Books kept for offline reading (libraries/digital/offline.py).
        "books": {
            "list": reverse("libraries:digital_offline_list"),
            "file": _pattern("libraries:digital_file") + "$",
            "page": _pattern("libraries:digital_read") + "$",
            "position": _pattern("libraries:digital_position") + "$",
        },
        "networkTimeout": NETWORK_TIMEOUT_SECONDS,
        "maxPages": MAX_KEPT_PAGES,
    }


@require_GET
def service_worker(request):
    """/sw.js: static/pwa/sw.js with the site's settings; browsers revalidate it each time."""
    config = json.dumps(worker_settings(request), ensure_ascii=False, sort_keys=True)
    body = f"self.KB_PWA = {config};\n".encode() + _static_bytes(SERVICE_WORKER_SOURCE)
    etag = f'"{_revision(body)}"'
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(body, content_type="application/javascript; charset=utf-8")
    response["ETag"] = etag
    response["Cache-Control"] = "no-cache"
    return response


@require_GET
def offline(request):
    """The page the worker shows when a page cannot be reached and no copy is kept."""
    response = HttpResponse(_offline_page())
    response["Cache-Control"] = "no-cache"
    return response


@require_GET
def manifest(request):
    """/manifest.webmanifest, in the language of ?lang= (browsers fetch it without cookies)."""
    languages = {code for code, _name in settings.LANGUAGES}
    language = request.GET.get("lang")
    language = language if language in languages else settings.LANGUAGE_CODE
    with translation.override(language):
        data = {
            "id": "/",
            "name": _("Knowledge Bridge"),
            "short_name": SHORT_NAME,
            "description": _("Knowledge Bridge: the digital library network of the province."),
            "lang": language,
            "dir": "ltr",
            "start_url": "/",
            "scope": "/",
            "display": "standalone",
            "theme_color": THEME_COLOR,
            "background_color": BACKGROUND_COLOR,
            "icons": [
                {"src": static(path), "sizes": sizes, "type": "image/png", "purpose": purpose}
                for path, sizes, purpose in ICONS
            ],
        }
    response = JsonResponse(
        data, json_dumps_params={"ensure_ascii": False}, content_type="application/manifest+json"
    )
    response["Cache-Control"] = "public, max-age=3600"
    return response
