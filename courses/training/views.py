"""Views of the training area: thin wrappers around the progress and certificate services."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from courses.models import Certificate, CoursePage, LessonPage
from courses.training.access import certificates_visible_to
from courses.training.activities import activity_page_url
from courses.training.certificates import certificate_pdf as render_certificate_pdf
from courses.training.progress import ProgressError, enrol, learning_summary


@login_required
@require_POST
def enrol_view(request, course_id: int):
    course = get_object_or_404(CoursePage.objects.live(), pk=course_id)
    try:
        enrol(user=request.user, course=course)
    except ProgressError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("You are enrolled. Start with the first lesson."))
    return redirect(course.url)


def activity_view(request, lesson_id: int, block_id: str):
    """An activity's xAPI IRI resolves to its lesson."""
    lesson = get_object_or_404(LessonPage.objects.live(), pk=lesson_id)
    spec = next((s for s in lesson.activity_specs() if s.block_id == block_id), None)
    if spec is None:
        raise Http404
    return redirect(activity_page_url(lesson, spec.kind, block_id))


@login_required
def my_learning(request):
    return render(
        request, "courses/my_learning.html", {"summaries": learning_summary(request.user)}
    )


def _normalise_code(code: str) -> str:
    return code.strip().upper()[:20]


def certificate_lookup(request):
    """A form to type a code; redirects to the verification page."""
    code = _normalise_code(request.GET.get("code", ""))
    if code:
        return redirect("courses:certificate_verify", code=code)
    return render(request, "courses/certificate_verify.html", {"searched": False})


def certificate_verify(request, code: str):
    """Public: is this certificate genuine? Shows only the name and the course; for a revoked
    one, only the date and the reason category."""
    certificate = (
        Certificate.objects.filter(code=_normalise_code(code)).only(
            "code", "learner_name", "course_title", "issued_at", "revoked_at", "revoked_reason"
        )
    ).first()
    context = {"searched": True, "certificate": certificate, "code": code}
    status = 200 if certificate else 404
    return render(request, "courses/certificate_verify.html", context, status=status)


@login_required
def certificate_download(request, code: str):
    """The PDF, for its owner and for staff who see the certificate (courses/training/access.py:
    their reach, a student's only at the student's own library). A revoked one says so."""
    certificate = get_object_or_404(Certificate.objects.select_related("library"), code=code)
    if (
        certificate.user_id != request.user.pk
        and not certificates_visible_to(request.user).filter(pk=certificate.pk).exists()
    ):
        raise PermissionDenied
    verify_url = request.build_absolute_uri(
        reverse("courses:certificate_verify", kwargs={"code": certificate.code})
    )
    response = HttpResponse(
        render_certificate_pdf(certificate, verify_url=verify_url), content_type="application/pdf"
    )
    response["Content-Disposition"] = f'attachment; filename="certificate-{certificate.code}.pdf"'
    return response
