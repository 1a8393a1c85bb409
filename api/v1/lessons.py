"""A lesson of a course as JSON, shown to whom the lesson page shows it
(courses/training/lessons.py), opened as the page opens it (it counts as viewed).

Blocks come in the page's order: text as cleaned HTML (training_site/sanitize.py) with
absolute links, images, videos and documents by absolute address, H5P activities and native
quizzes by the address of their player page (the lesson page, for an app's web view).
"""

import datetime
import re
from html import unescape
from typing import Annotated, Literal
from urllib.parse import urljoin

from django.utils.html import escape
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from wagtail.images.shortcuts import get_rendition_or_not_found
from wagtail.rich_text import expand_db_html

from api.v1.errors import READER_ERRORS, ApiError, Error, PathId, not_found
from api.v1.security import ANYONE_AUTH
from courses.models import Enrollment
from courses.training.activities import activity_iri
from courses.training.lessons import Refusal, course_lesson, lesson_refusal
from courses.training.progress import mark_viewed
from training_site.sanitize import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, clean_html_allowing

router = Router(tags=["learning"])

# The lesson editor's rich text features (courses/models/blocks.py) within the site's cleaner.
TEXT_TAGS = ALLOWED_TAGS | {"hr"}
# A start tag of cleaned HTML: the cleaner writes every attribute value in double quotes (a
# quote inside is &quot;), so this finds each link's href and nothing in text or values.
_LINK_TAG = re.compile(r'<a(?:\s+[\w:-]+="[^"]*")*\s*>')
_HREF = re.compile(r'(\shref=")([^"]*)(")')


class CourseRef(Schema):
    id: int
    title: str


class LessonProgressOut(Schema):
    viewed_at: datetime.datetime | None
    completed_at: datetime.datetime | None
    attempts: int
    best_score: float | None = Field(description="0..1, the mean of the activities' best")
    passed: bool


class ActivityProgressOut(Schema):
    attempts: int
    last_score: float | None
    best_score: float | None
    completed: bool
    passed: bool


class TextBlock(Schema):
    type: Literal["text"]
    id: str
    html: str


class ImageBlock(Schema):
    type: Literal["image"]
    id: str
    url: str
    width: int
    height: int
    alt: str = Field(description="Empty for a decorative image")


class VideoBlock(Schema):
    type: Literal["video"]
    id: str
    url: str = Field(description="The video's page (e.g. on YouTube)")


class DocumentBlock(Schema):
    type: Literal["document"]
    id: str
    title: str
    url: str
    file_extension: str


class ActivityBlock(Schema):
    type: Literal["h5p", "quiz"]
    id: str
    title: str
    required: bool
    pass_mark: int | None = Field(description="Percent; none: finishing is enough")
    player_url: str = Field(description="The activity on the lesson page, for a web view")
    xapi_activity_id: str | None = Field(
        description="H5P only: the object id of its xAPI statements (POST /api/xapi/statements)"
    )
    question_count: int | None = Field(description="Native quizzes only")
    progress: ActivityProgressOut | None


Block = Annotated[
    TextBlock | ImageBlock | VideoBlock | DocumentBlock | ActivityBlock,
    Field(discriminator="type"),
]


class LessonOut(Schema):
    id: int
    title: str
    intro: str
    estimated_minutes: int
    url: str
    course: CourseRef
    position: int = Field(description="1 for the course's first lesson")
    lesson_count: int
    previous_lesson_id: int | None
    next_lesson_id: int | None
    enrolled: bool
    progress: LessonProgressOut | None = Field(description="Enrolled learners only")
    blocks: list[Block]


def _refused(refusal: Refusal) -> ApiError:
    if refusal == Refusal.LOGIN:
        return ApiError(
            401,
            "not_authenticated",
            _("Log in first: send your session token as X-Session-Token."),
        )
    if refusal == Refusal.PASSWORD:
        return ApiError(
            403,
            "password_required",
            _("This lesson is protected by a password: open it on the website."),
        )
    if refusal == Refusal.GROUPS:
        return ApiError(403, "forbidden", _("This lesson is only for some groups of users."))
    return not_found()


def absolute_links(html: str, base: str) -> str:
    """Cleaned HTML with each link's address made absolute against `base`."""

    def href(match):
        return match[1] + escape(urljoin(base, unescape(match[2]))) + match[3]

    return _LINK_TAG.sub(lambda tag: _HREF.sub(href, tag[0]), html)


def _activity(request, lesson, child, progress) -> dict:
    value = child.value
    is_h5p = child.block_type == "h5p"
    if is_h5p:
        title = value["package"].title if value["package"] else ""
    else:
        title = value["title"] or _("Quiz")
    row = progress.get(child.id)
    return {
        "type": child.block_type,
        "id": child.id,
        "title": title,
        "required": bool(value["required"]),
        "pass_mark": value["pass_mark"],
        # The activity's address redirects to its place on the lesson page
        # (courses/training/activities.py, activity_page_url).
        "player_url": activity_iri(request, lesson, child.id),
        "xapi_activity_id": activity_iri(request, lesson, child.id) if is_h5p else None,
        "question_count": None if is_h5p else len(value["questions"]),
        "progress": row,
    }


def _blocks(request, lesson, base: str, progress: dict) -> list[dict]:
    blocks = []
    for child in lesson.body:
        kind, value = child.block_type, child.value
        if kind == "text":
            html = clean_html_allowing(
                expand_db_html(value.source), tags=TEXT_TAGS, attributes=ALLOWED_ATTRIBUTES
            )
            blocks.append({"type": kind, "id": child.id, "html": absolute_links(html, base)})
        elif kind == "image" and value is not None:
            rendition = get_rendition_or_not_found(value, "original")
            blocks.append(
                {
                    "type": kind,
                    "id": child.id,
                    "url": request.build_absolute_uri(rendition.url),
                    "width": rendition.width,
                    "height": rendition.height,
                    "alt": "" if value.decorative else value.contextual_alt_text or "",
                }
            )
        elif kind == "video" and value:
            blocks.append({"type": kind, "id": child.id, "url": value.url})
        elif kind == "document" and value["document"] is not None:
            document = value["document"]
            blocks.append(
                {
                    "type": kind,
                    "id": child.id,
                    "title": value["title"] or document.title,
                    "url": request.build_absolute_uri(document.url),
                    "file_extension": document.file_extension,
                }
            )
        elif kind in ("h5p", "quiz"):
            blocks.append(_activity(request, lesson, child, progress))
    return blocks


@router.get(
    "/courses/{course_id}/lessons/{lesson_id}",
    response={200: LessonOut, 404: Error, **READER_ERRORS},
    auth=ANYONE_AUTH,
    # Anyone may call it (the empty requirement); a token or a cookie says who is learning.
    openapi_extra={"security": [{"SessionToken": []}, {"Session": []}, {}]},
    summary="A lesson of a course, its blocks and my progress",
)
def lesson(request, course_id: PathId, lesson_id: PathId):
    """Whoever may open the lesson page: a public lesson for anyone, a private one as its
    privacy says. An enrolled learner's visit counts as viewing the lesson, as on the site."""
    user = request.auth
    found = course_lesson(course_id=course_id, lesson_id=lesson_id)
    refusal = lesson_refusal(found, user=user, session=request.session)
    if refusal:
        raise _refused(refusal)
    if user.is_authenticated:
        mark_viewed(user=user, lesson=found)
    overview = Enrollment.objects.lesson_overview(user=user, lesson=found)
    course, progress = overview["course"], overview["lesson_progress"]
    base = request.build_absolute_uri(found.get_url(request) or "/")
    return {
        "id": found.pk,
        "title": found.title,
        "intro": found.intro,
        "estimated_minutes": found.estimated_minutes,
        "url": base,
        "course": {"id": course.pk, "title": course.title},
        "position": overview["lesson_number"],
        "lesson_count": overview["lesson_count"],
        "previous_lesson_id": getattr(overview["previous_lesson"], "pk", None),
        "next_lesson_id": getattr(overview["next_lesson"], "pk", None),
        "enrolled": overview["enrollment"] is not None,
        "progress": progress,
        "blocks": _blocks(request, found, base, overview["activity_progress"]),
    }
