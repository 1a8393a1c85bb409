"""Wagtail hooks of the training app: the H5P admin screens, the staff screens of training
(enrolments, certificates, classes), lesson visits, its part of the home page, and the actions
of its staff audit log (libraries/network/audit.py)."""

from django.http import Http404
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.viewsets.base import ViewSetGroup
from wagtail.log_actions import LogFormatter

from courses.classes import services as class_services
from courses.classes.admin import ClassAdminViewSet, GroupEnrolmentViewSet
from courses.h5p import admin as h5p_admin  # noqa: F401  (registers its viewsets)
from courses.h5p import storage as h5p_storage
from courses.models import Certificate, CourseIndexPage, GuideIndexPage, LessonPage
from courses.training.admin import CertificateViewSet, EnrolmentViewSet
from courses.training.certificates import CERTIFICATE_REVOKE_ACTION
from courses.training.lessons import Refusal, lesson_refusal
from courses.training.progress import ENROLMENT_CREATE_ACTION, mark_viewed


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


# --- the staff audit log -------------------------------------------------------------------

# Action: (label, message). Messages say what happened; the entry's data holds the values
# before and after (codes and primary keys), its library who may read it.
SIMPLE_ACTIONS = {
    h5p_storage.PACKAGE_UPLOAD_ACTION: (
        _("Upload an H5P activity"),
        _("Uploaded the H5P activity"),
    ),
    h5p_storage.PACKAGE_CONTENT_ACTION: (
        _("Replace the content of an H5P activity"),
        _("Replaced the content of the H5P activity"),
    ),
    h5p_storage.PACKAGE_DELETE_ACTION: (_("Delete an H5P activity"), _("Deleted the H5P activity")),
    class_services.CLASS_CREATE_ACTION: (_("Create a class"), _("Created the class")),
    class_services.CLASS_REASSIGN_ACTION: (
        _("Give a class to another teacher"),
        _("Gave the class to another teacher"),
    ),
    class_services.STUDENT_ADD_ACTION: (
        _("Add a student to a class"),
        _("Added the student to a class"),
    ),
    class_services.STUDENT_MOVE_ACTION: (
        _("Move a student to another class"),
        _("Moved the student to another class"),
    ),
    class_services.STUDENT_RESET_ACTION: (
        _("Give a student a new password"),
        _("Gave the student a new password"),
    ),
    class_services.ASSIGNMENT_CREATE_ACTION: (
        _("Assign work to a class"),
        _("Assigned work to the class"),
    ),
    ENROLMENT_CREATE_ACTION: (_("Enrol a learner"), _("Enrolled the learner")),
}

EXPORTS = {
    "class_report": _("a class report"),
    "login_cards": _("login cards"),
    "network_dashboard": _("the network table"),
}


@hooks.register("register_log_actions")
def register_course_log_actions(actions):
    """Actions of the staff audit log on the courses side (libraries/network/audit.py)."""
    for action, (label, message) in SIMPLE_ACTIONS.items():
        actions.register_action(action, label, message)

    @actions.register_action(h5p_storage.LIBRARY_INSTALL_ACTION)
    class LibraryInstall(LogFormatter):
        label = _("Install an H5P library")

        def format_message(self, log_entry):
            after = log_entry.data.get("after", {})
            version = "{}.{}.{}".format(
                after.get("major_version"), after.get("minor_version"), after.get("patch_version")
            )
            return _("Installed the H5P library %(name)s %(version)s") % {
                "name": after.get("machine_name", ""),
                "version": version,
            }

    @actions.register_action(h5p_storage.LIBRARY_UPGRADE_ACTION)
    class LibraryUpgrade(LogFormatter):
        label = _("Upgrade an H5P library")

        def format_message(self, log_entry):
            return _("Upgraded the H5P library from patch %(before)s to patch %(after)s") % {
                "before": log_entry.data.get("before", {}).get("patch_version"),
                "after": log_entry.data.get("after", {}).get("patch_version"),
            }

    @actions.register_action(h5p_storage.PACKAGE_EDIT_ACTION)
    class PackageEdit(LogFormatter):
        label = _("Rename an H5P activity")

        def format_message(self, log_entry):
            return _("Renamed the H5P activity from “%(before)s” to “%(after)s”") % {
                "before": log_entry.data.get("before", {}).get("title", ""),
                "after": log_entry.data.get("after", {}).get("title", ""),
            }

    @actions.register_action(class_services.CLASS_ARCHIVE_ACTION)
    class ClassArchive(LogFormatter):
        label = _("Archive a class")

        def format_message(self, log_entry):
            if log_entry.data.get("batch"):
                return _("Archived the class with its school year")
            return _("Archived the class")

    @actions.register_action(class_services.STUDENT_CREATE_ACTION)
    class StudentCreate(LogFormatter):
        label = _("Create a student account")

        def format_message(self, log_entry):
            return _("Created the student account %(username)s") % {
                "username": log_entry.data.get("after", {}).get("username", "")
            }

    @actions.register_action(CERTIFICATE_REVOKE_ACTION)
    class CertificateRevoke(LogFormatter):
        label = _("Revoke a certificate")

        def format_message(self, log_entry):
            code = log_entry.data.get("after", {}).get("revoked_reason", "")
            reasons = dict(Certificate.RevocationReason.choices)
            return _("Revoked the certificate. Reason: %(reason)s") % {
                "reason": reasons.get(code, code)
            }

    @actions.register_action(class_services.EXPORT_ACTION)
    class Export(LogFormatter):
        label = _("Download personal data")

        def format_message(self, log_entry):
            what = log_entry.data.get("export", "")
            return _("Downloaded %(export)s: %(rows)s rows") % {
                "export": EXPORTS.get(what, what),
                "rows": log_entry.data.get("rows", 0),
            }
