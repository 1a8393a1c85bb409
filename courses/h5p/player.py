"""What a page needs to play a package with h5p-standalone, and the xAPI activity IRI.

IRI scheme (the xAPI object id of an activity, also what the player reports):

    {site}/activities/h5p/<package uuid>               the package on its own
    {site}/activities/h5p/<package uuid>/<block id>    one H5P block of a lesson page

{site} is the request's scheme and host (or WAGTAILADMIN_BASE_URL without a request).
`parse_activity_iri` turns an IRI (or a sub-content IRI "...?subContentId=...") back into
(package uuid, block id or None), so the xAPI endpoint can find the activity.
"""

from __future__ import annotations

import re
import uuid as uuid_module

from django.conf import settings
from django.core.files.storage import default_storage
from django.middleware.csrf import get_token

from courses.models import H5PPackage

from .storage import LIBRARIES_ROOT

DEFAULT_XAPI_ENDPOINT = "/api/xapi/statements"
IRI_RE = re.compile(
    r"^https?://[^/]+/activities/h5p/(?P<uuid>[0-9a-f-]{36})(?:/(?P<block>[\w-]+))?/?(?:[?#].*)?$"
)


def site_root(request=None) -> str:
    if request is not None:
        return request.build_absolute_uri("/").rstrip("/")
    return settings.WAGTAILADMIN_BASE_URL.rstrip("/")


def activity_iri(request, package: H5PPackage, block_id: str | None = None) -> str:
    """The absolute IRI identifying this activity on our site (see the module docstring)."""
    iri = f"{site_root(request)}/activities/h5p/{package.uuid}"
    return f"{iri}/{block_id}" if block_id else iri


def parse_activity_iri(iri: str) -> tuple[uuid_module.UUID, str | None] | None:
    """(package uuid, block id or None) from an activity IRI, or None if it is not ours."""
    match = IRI_RE.match(iri or "")
    if not match:
        return None
    return uuid_module.UUID(match["uuid"]), match["block"]


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
    """Template context for templates/courses/h5p/player.html."""
    content_root = package.content_path
    return {
        "package": package,
        "player_id": f"h5p-{package.uuid.hex[:12]}-{block_id or 'main'}",
        "h5p_json_path": _url(content_root),
        "content_json_path": _url(f"{content_root}/content"),
        "libraries_path": _url(LIBRARIES_ROOT),
        "iri": iri or activity_iri(request, package, block_id),
        "xapi_endpoint": xapi_endpoint,
        "csrf_token": get_token(request) if request is not None else "",
    }
