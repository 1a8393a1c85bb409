"""The xAPI identity of an activity (an H5P block or a native quiz) inside a lesson.

One place decides the address: ``{site}/courses/activity/<lesson_page_id>/<block_id>``. The
H5P player is given it as xAPIObjectIRI, so every statement it sends names the lesson and
the block; the server resolves it back here. H5P sub-content (a question inside a Column or
Question Set) appends ``?subContentId=<uuid>`` to the same address.
"""

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from courses.models import LessonPage
from courses.models.blocks import ACTIVITY_BLOCK_TYPES

ACTIVITY_PATH = re.compile(
    r"^/courses/activity/(?P<lesson>[0-9]{1,18})/(?P<block>[0-9a-f-]{36})/?$"
)
SUB_CONTENT_ID = re.compile(r"^[0-9a-zA-Z-]{1,64}$")


class UnknownActivity(ValueError):
    """The IRI does not name an activity of a published lesson on this site."""


@dataclass(frozen=True)
class ActivityRef:
    lesson_id: int
    block_id: str
    sub_content_id: str = ""


def site_base(request_or_site_root) -> str:
    """``https://host`` for a request, a Site, or a root URL string."""
    if hasattr(request_or_site_root, "build_absolute_uri"):
        return request_or_site_root.build_absolute_uri("/").rstrip("/")
    if hasattr(request_or_site_root, "root_url"):
        return request_or_site_root.root_url.rstrip("/")
    return str(request_or_site_root).rstrip("/")


def activity_iri(request_or_site_root, lesson, block_id: str) -> str:
    """The xAPI object id of one activity block in a lesson, on this site."""
    lesson_id = getattr(lesson, "pk", lesson)
    return f"{site_base(request_or_site_root)}/courses/activity/{int(lesson_id)}/{block_id}"


# The id each activity's section carries on the lesson page: templates/courses/blocks/
# h5p_activity.html renders id="activity-<block id>", quiz.html id="quiz-<block id>".
PAGE_ANCHOR_PREFIX = {"h5p": "activity", "quiz": "quiz"}


def activity_anchor(kind: str, block_id: str) -> str:
    """The element id of an activity block (`kind` "h5p" or "quiz") on its lesson page."""
    return f"{PAGE_ANCHOR_PREFIX[kind]}-{block_id}"


def activity_page_url(lesson, kind: str, block_id: str) -> str:
    """The lesson page scrolled to the activity: every link or redirect to a block uses it."""
    return f"{lesson.url}#{activity_anchor(kind, block_id)}"


def parse_activity_iri(iri: str, *, base: str | None = None) -> ActivityRef:
    """Split an activity IRI without touching the database.

    With ``base`` (scheme and host of this site) an address on another host is refused.
    """
    if not isinstance(iri, str) or len(iri) > 512:
        raise UnknownActivity("object id is not an activity address")
    parts = urlsplit(iri)
    if parts.scheme not in ("http", "https") or parts.fragment:
        raise UnknownActivity("object id is not an activity address")
    if base is not None:
        expected = urlsplit(base)
        if (parts.scheme, parts.netloc.lower()) != (expected.scheme, expected.netloc.lower()):
            raise UnknownActivity("object id belongs to another site")
    match = ACTIVITY_PATH.match(parts.path)
    if not match:
        raise UnknownActivity("object id is not an activity of a lesson on this site")
    sub_content_id = ""
    if parts.query:
        query = parse_qs(parts.query, keep_blank_values=True)
        values = query.get("subContentId", [])
        if set(query) != {"subContentId"} or len(values) != 1:
            raise UnknownActivity("object id has an unexpected query")
        if not SUB_CONTENT_ID.match(values[0]):
            raise UnknownActivity("object id has an invalid subContentId")
        sub_content_id = values[0]
    return ActivityRef(int(match["lesson"]), match["block"], sub_content_id)


def resolve_activity(iri: str, *, base: str | None = None):
    """Return ``(lesson, block)`` for an activity IRI: a live LessonPage and its raw block.

    ``block`` is the raw StreamField item (``{"type", "value", "id"}``) so that resolving
    costs one query whatever the lesson contains. Raises UnknownActivity.
    """
    ref = parse_activity_iri(iri, base=base)
    lesson = LessonPage.objects.live().filter(pk=ref.lesson_id).first()
    if lesson is None:
        raise UnknownActivity("the lesson does not exist or is not published")
    block = find_activity_block(lesson, ref.block_id)
    if block is None:
        raise UnknownActivity("the lesson has no such activity")
    return lesson, block


def find_activity_block(lesson, block_id: str) -> dict | None:
    """The raw activity item with this id in a lesson body, or None. No queries."""
    for item in lesson.body.raw_data:
        if item.get("id") == block_id and item.get("type") in ACTIVITY_BLOCK_TYPES:
            return item
    return None
