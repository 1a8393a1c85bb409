"""Wagtail hooks of the training app: the H5P admin screens, lesson visits, and its part of the
home page."""

from wagtail import hooks

from courses.h5p import admin as h5p_admin  # noqa: F401  (registers its viewsets)
from courses.models import CourseIndexPage, GuideIndexPage, LessonPage
from courses.training.progress import mark_viewed


@hooks.register("before_serve_page")
def mark_lesson_viewed(page, request, serve_args, serve_kwargs):
    """An enrolled learner opening a lesson has viewed it (the page then shows that)."""
    if isinstance(page, LessonPage) and request.method == "GET" and request.user.is_authenticated:
        mark_viewed(user=request.user, lesson=page)


@hooks.register("home_page_context")
def training_on_the_home_page(request) -> dict:
    return {
        "course_index": CourseIndexPage.objects.live().first(),
        "guide_index": GuideIndexPage.objects.live().first(),
    }
