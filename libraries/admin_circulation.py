"""Staff screens of the circulation area in the Wagtail admin: reader card applications."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from . import patrons
from .access import is_staff_member, library_filter
from .circulation import CirculationError
from .models import RegistrationRequest


def scope_registrations(user, queryset):
    """Applications the user may decide: those addressed to a library in their staff reach."""
    return queryset.filter(library_filter(user, "home_library"))


def _require_staff(request):
    if not is_staff_member(request.user):
        raise PermissionDenied


def registration_list(request):
    _require_staff(request)
    status = request.GET.get("status", RegistrationRequest.Status.PENDING)
    if status not in RegistrationRequest.Status.values:
        status = RegistrationRequest.Status.PENDING
    requests = scope_registrations(
        request.user, RegistrationRequest.objects.select_related("home_library", "patron")
    ).filter(status=status)[:200]
    return render(
        request,
        "libraries/admin/registration_list.html",
        {
            "page_title": _("Reader card applications"),
            "header_title": _("Reader card applications"),
            "header_icon": "user",
            "requests": requests,
            "status": status,
            "statuses": RegistrationRequest.Status.choices,
        },
    )


def registration_decide(request, pk):
    _require_staff(request)
    application = get_object_or_404(
        scope_registrations(
            request.user, RegistrationRequest.objects.select_related("home_library")
        ),
        pk=pk,
    )
    if request.method == "POST":
        try:
            if request.POST.get("decision") == "approve":
                patron = patrons.approve_registration(request_id=application.pk, by=request.user)
                messages.success(request, _("Card %(card)s issued.") % {"card": patron.card_number})
            else:
                patrons.reject_registration(
                    request_id=application.pk,
                    by=request.user,
                    reason=request.POST.get("reason", "")[:1000],
                )
                messages.success(request, _("Application rejected; the applicant is told why."))
        except CirculationError as error:
            messages.error(request, error.message)
            return HttpResponseRedirect(reverse("circulation_registration_decide", args=[pk]))
        return HttpResponseRedirect(reverse("circulation_registrations"))
    return render(
        request,
        "libraries/admin/registration_decide.html",
        {
            "page_title": _("Reader card application"),
            "header_title": _("Reader card application"),
            "header_icon": "user",
            "application": application,
        },
    )


@hooks.register("register_admin_urls")
def register_circulation_urls():
    return [
        path("circulation/applications/", registration_list, name="circulation_registrations"),
        path(
            "circulation/applications/<int:pk>/",
            registration_decide,
            name="circulation_registration_decide",
        ),
    ]


class StaffMenuItem(MenuItem):
    def is_shown(self, request):
        return is_staff_member(request.user)


@hooks.register("register_admin_menu_item")
def register_applications_menu_item():
    return StaffMenuItem(
        gettext_lazy("Reader card applications"),
        "/admin/circulation/applications/",
        icon_name="user",
        order=910,
    )


@hooks.register("register_admin_menu_item")
def register_desk_menu_item():
    return StaffMenuItem(
        gettext_lazy("Circulation desk"), "/desk/", icon_name="doc-full", order=905
    )
