"""A lesson saved for offline use: the list of files the service worker keeps for it."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from courses.h5p.offline import offline_files
from courses.models import LessonPage


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

    Who may list them is who may open the lesson: a live page whose view restrictions (login,
    groups, password) let the request in, as Wagtail decides when serving it.
    """
    lesson = get_object_or_404(LessonPage.objects.live(), pk=lesson_id)
    if not all(
        restriction.accept_request(request) for restriction in lesson.get_view_restrictions()
    ):
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
