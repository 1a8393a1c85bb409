"""Staff screens of training in the Wagtail admin: enrolments and certificates.

- Enrolments: list and filter by library, course and status; open one to see the learner's
  progress lesson by lesson. Enrolling a group (a class, or a list of people) is a screen of
  courses/classes/admin.py, linked from the list.
- Certificates: list, search by code, name or course, open one, revoke it with a reason.

Who sees which rows is courses/training/access.py (staff reach; a student's rows only for the
staff of the student's own library); a row out of sight is not found (404). Librarians see
certificates, admins of the certificate's library revoke them; a refusal is a 403 with nothing
changed. The generic add, edit and delete screens are refused to everyone: enrolments come
from the progress services, certificates from course completion.
"""

import django_filters
from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django.views import View
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.ui.tables import Column, DateColumn, TitleColumn
from wagtail.admin.views import generic
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets.button import HeaderButton
from wagtail.permission_policies.base import BasePermissionPolicy
from wagtail.permissions import register_permission_policy

from courses.models import Certificate, CoursePage, Enrollment, EnrollmentStatus
from courses.training.access import (
    certificates_revocable_by,
    certificates_visible_to,
    enrolments_visible_to,
    may_revoke,
    may_revoke_any,
)
from courses.training.certificates import CertificateError, revoke_certificate
from courses.training.progress import enrolment_progress
from libraries.access import is_staff_member, libraries_visible_to
from libraries.network.decisions import forbid_instead_of_redirect


class StaffRowsPolicy(BasePermissionPolicy):
    """Staff view the rows in their sight (`visible`); nobody adds, edits or deletes them
    through the generic screens. A subclass may grant more actions (revoke)."""

    def visible(self, user):
        raise NotImplementedError

    def user_has_permission(self, user, action):
        return action == "view" and is_staff_member(user)

    def user_has_permission_for_instance(self, user, action, instance):
        if not self.user_has_permission(user, action):
            return False
        return self.instances_user_has_permission_for(user, action).filter(pk=instance.pk).exists()

    def instances_user_has_any_permission_for(self, user, actions):
        if any(self.user_has_permission(user, action) for action in actions):
            return self.visible(user)
        return self.model._default_manager.none()

    def users_with_any_permission(self, actions):
        raise NotImplementedError("staff are found through their memberships")


class EnrollmentPolicy(StaffRowsPolicy):
    def visible(self, user):
        return enrolments_visible_to(user)


class CertificatePolicy(StaffRowsPolicy):
    def visible(self, user):
        return certificates_visible_to(user)

    def user_has_permission(self, user, action):
        if action == "revoke":
            return may_revoke_any(user)
        return super().user_has_permission(user, action)

    def instances_user_has_any_permission_for(self, user, actions):
        if "revoke" in actions and may_revoke_any(user):
            return certificates_revocable_by(user)
        return super().instances_user_has_any_permission_for(user, actions)


register_permission_policy(Enrollment, EnrollmentPolicy(Enrollment))
register_permission_policy(Certificate, CertificatePolicy(Certificate))


class ForbiddenNotRedirect:
    def construct_view(self, view_class, **kwargs):
        return forbid_instead_of_redirect(super().construct_view(view_class, **kwargs))


class InSightMixin:
    """The object of the URL only among the rows in the user's sight: otherwise 404."""

    def get_object(self, queryset=None):
        visible = self.permission_policy.visible(self.request.user)
        return get_object_or_404(self.scoped_queryset(visible), pk=self.kwargs[self.pk_url_kwarg])

    def scoped_queryset(self, queryset):
        return queryset


class InspectTitleMixin:
    """The first column links each row to its page (the inspect view): there is no edit."""

    @cached_property
    def columns(self):
        first, *others = super().columns
        title = self._get_title_column_class(TitleColumn)(
            first.name,
            label=first.label,
            accessor=first.accessor,
            sort_key=first.sort_key,
            get_url=self.get_inspect_url,
        )
        return [title, *others]


def _libraries_in_sight(request):
    if request is None:
        return libraries_visible_to(None)
    return libraries_visible_to(request.user).filter(is_active=True).order_by("name")


def _courses(request):
    return CoursePage.objects.order_by("title")


# --- Enrolments ----------------------------------------------------------------------------


class EnrolmentFilterSet(WagtailFilterSet):
    library = django_filters.ModelChoiceFilter(
        label=_("Library"), queryset=_libraries_in_sight, field_name="library"
    )
    course = django_filters.ModelChoiceFilter(
        label=_("Course"), queryset=_courses, field_name="course"
    )
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=EnrollmentStatus.choices, method="filter_status"
    )

    class Meta:
        model = Enrollment
        fields = ["library", "course", "status"]

    def filter_status(self, queryset, name, value):
        return queryset.with_status(value)


class EnrolmentIndexView(InspectTitleMixin, generic.IndexView):
    def get_base_queryset(self):
        return enrolments_visible_to(self.request.user).select_related("user", "course", "library")

    @cached_property
    def header_buttons(self):
        return [
            *super().header_buttons,
            HeaderButton(
                _("Enrol a group"), url=reverse("training_group_enrolment:enrol"), icon_name="group"
            ),
        ]


class EnrolmentInspectView(InSightMixin, generic.InspectView):
    template_name = "courses/training/admin/enrolment_inspect.html"

    def scoped_queryset(self, queryset):
        return queryset.select_related("user", "course", "library", "enrolled_by")

    def get_page_title(self):
        return _("Learner's progress")

    def get_fields(self):
        return []

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        enrollment = self.object
        certificate = Certificate.objects.filter(
            user_id=enrollment.user_id, course_id=enrollment.course_id
        ).first()
        context.update(
            enrollment=enrollment,
            lessons=enrolment_progress(enrollment),
            certificate=certificate,
            certificate_url=(
                reverse("training_certificates:inspect", args=[certificate.pk])
                if certificate
                else None
            ),
        )
        return context


def learner_label(enrollment_or_certificate) -> str:
    user = enrollment_or_certificate.user
    name = user.get_full_name()
    return f"{name} ({user.username})" if name else user.username


def lessons_done(enrollment: Enrollment) -> str:
    return f"{enrollment.lessons_completed}/{enrollment.lessons_total}"


class EnrolmentViewSet(ForbiddenNotRedirect, ModelViewSet):
    model = Enrollment
    icon = "user"
    name = "training_enrolments"
    url_prefix = "training/enrolments"
    menu_label = _("Enrolments")
    index_view_class = EnrolmentIndexView
    inspect_view_class = EnrolmentInspectView
    inspect_view_enabled = True
    copy_view_enabled = False
    filterset_class = EnrolmentFilterSet
    search_fields = ["user__username", "user__display_name", "course__title"]
    list_display = [
        Column("learner", label=_("Learner"), accessor=learner_label),
        Column("course", label=_("Course"), accessor="course"),
        Column("library", label=_("Library"), accessor="library"),
        Column("progress", label=_("Lessons completed"), accessor=lessons_done),
        Column("status", label=_("Status"), accessor="get_status_display"),
        DateColumn("last_activity_at", label=_("Last activity"), sort_key="last_activity_at"),
    ]
    form_fields = []

    def get_form_class(self, for_update=False):
        return forms.Form


# --- Certificates --------------------------------------------------------------------------


class RevokeForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("Reason"),
        choices=[("", "---------"), *Certificate.RevocationReason.choices],
        help_text=_("Shown on the public verification page and on the PDF."),
    )
    note = forms.CharField(
        label=_("Note for staff"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Never shown to the public. Do not write personal details here."),
    )


class CertificateFilterSet(WagtailFilterSet):
    library = django_filters.ModelChoiceFilter(
        label=_("Library"), queryset=_libraries_in_sight, field_name="library"
    )
    valid = django_filters.ChoiceFilter(
        label=_("Status"),
        choices=[("valid", _("Valid")), ("revoked", _("Revoked"))],
        method="filter_valid",
    )

    class Meta:
        model = Certificate
        fields = ["library", "valid"]

    def filter_valid(self, queryset, name, value):
        return queryset.filter(revoked_at__isnull=(value == "valid"))


class CertificateIndexView(InspectTitleMixin, generic.IndexView):
    def get_base_queryset(self):
        return certificates_visible_to(self.request.user).select_related("library")


class CertificateInspectView(InSightMixin, generic.InspectView):
    template_name = "courses/training/admin/certificate_inspect.html"

    def scoped_queryset(self, queryset):
        return queryset.select_related("library", "revoked_by")

    def get_fields(self):
        return ["code", "learner_name", "course_title", "library_name", "issued_at"]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        certificate = self.object
        can_revoke = certificate.revoked_at is None and may_revoke(self.request.user, certificate)
        context.update(
            certificate=certificate,
            revoke_form=RevokeForm() if can_revoke else None,
            revoke_url=reverse("training_certificates:revoke", args=[certificate.pk]),
            pdf_url=reverse("courses:certificate_download", args=[certificate.code]),
            verify_url=reverse("courses:certificate_verify", args=[certificate.code]),
        )
        return context


class RevokeView(View):
    """POST only: a certificate in sight (else 404), revoked by an admin of its library (else
    403), with a reason; a second revocation is refused by the service with its date."""

    http_method_names = ["post"]

    def post(self, request, pk):
        user = request.user
        certificate = certificates_visible_to(user).filter(pk=pk).first()
        if certificate is None:
            raise Http404
        if not may_revoke(user, certificate):
            raise PermissionDenied
        form = RevokeForm(request.POST)
        inspect_url = reverse("training_certificates:inspect", args=[certificate.pk])
        if not form.is_valid():
            messages.error(request, _("Choose the reason for revoking the certificate."))
            return redirect(inspect_url)
        try:
            revoke_certificate(
                certificate_id=certificate.pk,
                reason=form.cleaned_data["reason"],
                note=form.cleaned_data["note"],
                by=user,
            )
        except CertificateError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request,
                _("Certificate %(code)s is revoked. Its verification page and PDF now say so.")
                % {"code": certificate.code},
            )
        return redirect(inspect_url)


def certificate_status(certificate: Certificate) -> str:
    return str(_("Revoked") if certificate.revoked_at else _("Valid"))


class CertificateViewSet(ForbiddenNotRedirect, ModelViewSet):
    model = Certificate
    icon = "success"
    name = "training_certificates"
    url_prefix = "training/certificates"
    menu_label = _("Certificates")
    index_view_class = CertificateIndexView
    inspect_view_class = CertificateInspectView
    inspect_view_enabled = True
    copy_view_enabled = False
    filterset_class = CertificateFilterSet
    search_fields = ["code", "learner_name", "course_title"]
    list_display = [
        Column("code", label=_("Verification code"), accessor="code"),
        Column("learner_name", label=_("Learner"), accessor="learner_name"),
        Column("course_title", label=_("Course"), accessor="course_title"),
        Column("library_name", label=_("Library"), accessor="library_name"),
        DateColumn("issued_at", label=_("Issued on"), sort_key="issued_at"),
        Column("valid", label=_("Status"), accessor=certificate_status),
    ]
    form_fields = []

    def get_form_class(self, for_update=False):
        return forms.Form

    def get_urlpatterns(self):
        return [
            *super().get_urlpatterns(),
            path(
                "revoke/<int:pk>/",
                forbid_instead_of_redirect(RevokeView.as_view()),
                name="revoke",
            ),
        ]
