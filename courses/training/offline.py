"""A lesson saved for offline use: the list of files the service worker keeps for it."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.views.decorators.http import require_GET

from courses.h5p.offline import offline_files
from courses.models import LessonPage
from courses.training.lessons import lesson_refusal


def lesson_packages(lesson: LessonPage) -> list:
    """The H5P packages the lesson plays, in page order."""
    return [
        block.value["package"]
        for block in lesson.body
        if block.block_type == "h5p" and block.value.get("package") is not None
    ]


@login_required
@require_GET
def lesson_offline_files(request, lesson_id: int):
    """JSON: the lesson's page, its H5P content, libraries and the player's files.

    Who may list them is who may open the lesson: the lesson page's own rule
    (courses/training/lessons.py, `lesson_refusal`). Any refusal answers 404, so the list
    tells nobody that a lesson they may not see exists.
    """
    lesson = LessonPage.objects.filter(pk=lesson_id).first()
    if lesson_refusal(lesson, user=request.user, session=request.session) is not None:
        raise Http404
    url = lesson.get_url(request)
    response = JsonResponse(
        {
            "lesson": lesson.pk,
            "title": lesson.title,
            "url": url,
            "files": [url, *offline_files(lesson_packages(lesson))],
        }
    )
    response["Cache-Control"] = "private, no-store"
    return response
