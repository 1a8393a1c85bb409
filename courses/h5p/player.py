"""What a page needs to play a package with h5p-standalone.

Inside a lesson, the activity's xAPI IRI comes from courses/activities.py (lesson + block) and
is passed in. A package played on its own (the admin preview) is identified as
{site}/activities/h5p/<package uuid>; the xAPI endpoint accepts only lesson activities.
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.storage import default_storage
from django.middleware.csrf import get_token

from courses.h5p.storage import LIBRARIES_ROOT
from courses.models import H5PPackage

DEFAULT_XAPI_ENDPOINT = "/api/xapi/statements"


def site_root(request=None) -> str:
    if request is not None:
        return request.build_absolute_uri("/").rstrip("/")
    return settings.WAGTAILADMIN_BASE_URL.rstrip("/")


def activity_iri(request, package: H5PPackage) -> str:
    """The absolute IRI of a package played on its own (see the module docstring)."""
    return f"{site_root(request)}/activities/h5p/{package.uuid}"


def _url(path: str) -> str:
    return default_storage.url(path).rstrip("/")


def player_context(
    request,
    package: H5PPackage,
    *,
    iri: str | None = None,
    block_id: str | None = None,
    xapi_endpoint: str = DEFAULT_XAPI_ENDPOINT,
) -> dict:
    """Template context for templates/courses/h5p/player.html.

    The player's scripts and styles are emitted with the first player of a request only:
    loading h5p-standalone twice on one page breaks every player after the first.
    """
    content_root = package.content_path
    first_on_page = request is None or not getattr(request, "_h5p_assets_emitted", False)
    if request is not None:
        request._h5p_assets_emitted = True
    return {
        "include_assets": first_on_page,
        "package": package,
        "player_id": f"h5p-{package.uuid.hex[:12]}-{block_id or 'main'}",
        "h5p_json_path": _url(content_root),
        "content_json_path": _url(f"{content_root}/content"),
        "libraries_path": _url(LIBRARIES_ROOT),
        "iri": iri or activity_iri(request, package),
        "xapi_endpoint": xapi_endpoint,
        "csrf_token": get_token(request) if request is not None else "",
    }
