"""Wagtail hooks of the training app: the H5P admin screens, the staff screens of training
(enrolments, certificates, classes), lesson visits, and its part of the home page."""

from django.http import Http404
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.viewsets.base import ViewSetGroup

from courses.classes.admin import ClassAdminViewSet, GroupEnrolmentViewSet
from courses.h5p import admin as h5p_admin  # noqa: F401  (registers its viewsets)
from courses.models import CourseIndexPage, GuideIndexPage, LessonPage
from courses.training.admin import CertificateViewSet, EnrolmentViewSet
from courses.training.lessons import Refusal, lesson_refusal
from courses.training.progress import mark_viewed


@hooks.register("before_serve_page")
def mark_lesson_viewed(page, request, serve_args, serve_kwargs):
    """An enrolled learner opening a lesson they may see has viewed it (the page then shows
    that). A visitor the lesson's privacy keeps out is answered by Wagtail's check that runs
    next (its login page or password form), and nothing is marked."""
    if not isinstance(page, LessonPage):
        return
    refusal = lesson_refusal(page, user=request.user, session=request.session)
    if refusal == Refusal.NOT_FOUND:
        raise Http404
    if refusal is None and request.method == "GET" and request.user.is_authenticated:
        mark_viewed(user=request.user, lesson=page)


@hooks.register("home_page_context")
def training_on_the_home_page(request) -> dict:
    return {
        "course_index": CourseIndexPage.objects.live().first(),
        "guide_index": GuideIndexPage.objects.live().first(),
    }


class TrainingStaffGroup(ViewSetGroup):
    menu_label = _("Training")
    menu_icon = "user"
    menu_order = 240
    items = (EnrolmentViewSet, GroupEnrolmentViewSet, CertificateViewSet, ClassAdminViewSet)


@hooks.register("register_admin_viewset")
def register_training_staff_screens():
    return TrainingStaffGroup()
