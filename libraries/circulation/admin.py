"""Staff screens of the circulation area in the Wagtail admin: reader card applications."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail import hooks
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.menu import MenuItem
from wagtail.admin.views import generic
from wagtail.admin.viewsets.model import ModelViewSet

from libraries.access import (
    can_administer,
    is_network_admin,
    is_staff_member,
    libraries_administered_by,
    library_filter,
)
from libraries.circulation import patrons
from libraries.circulation.services import CirculationError
from libraries.models import CirculationRule, RegistrationRequest


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


# --- Circulation rules ----------------------------------------------------------------------


def may_change_rule(user, rule: CirculationRule) -> bool:
    """Network-wide rules (no library) belong to network admins; others to the library's admins."""
    if rule.library_id is None:
        return is_network_admin(user)
    return can_administer(user, rule.library)


class CirculationRuleForm(WagtailAdminModelForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields.get("library")
        if field is not None:
            field.queryset = libraries_administered_by(self.for_user)
            field.required = not is_network_admin(self.for_user)

    def clean_library(self):
        library = self.cleaned_data.get("library")
        if library is None and not is_network_admin(self.for_user):
            raise forms.ValidationError(_("Choose one of your libraries."))
        return library

    def validate_unique(self):
        super().validate_unique()
        data = self.cleaned_data
        clash = CirculationRule.objects.filter(
            library=data.get("library"),
            patron_category=data.get("patron_category", ""),
            item_type=data.get("item_type", ""),
        ).exclude(pk=self.instance.pk)
        if clash.exists():
            self.add_error(None, _("A rule for this library, category and item type exists."))


class ScopedRules:
    def get_base_queryset(self):
        return CirculationRule.objects.filter(
            Q(library__isnull=True) | library_filter(self.request.user, "library")
        ).select_related("library")

    def get_queryset(self):
        return self.get_base_queryset()

    def get_base_object_queryset(self):
        return self.get_base_queryset()

    def get_object(self, queryset=None):
        rule = super().get_object(queryset)
        if not may_change_rule(self.request.user, rule):
            raise PermissionDenied
        return rule


class RuleIndexView(generic.IndexView):
    def get_base_queryset(self):
        return CirculationRule.objects.filter(
            Q(library__isnull=True) | library_filter(self.request.user, "library")
        ).select_related("library")


class RuleEditView(ScopedRules, generic.EditView):
    pass


class RuleDeleteView(ScopedRules, generic.DeleteView):
    pass


class CirculationRuleViewSet(ModelViewSet):
    model = CirculationRule
    form_fields = [
        "library",
        "patron_category",
        "item_type",
        "loan_days",
        "max_loans",
        "renewals",
        "holds_allowed",
        "fine_per_day",
    ]
    list_display = [
        "__str__",
        "loan_days",
        "max_loans",
        "renewals",
        "holds_allowed",
        "fine_per_day",
    ]
    icon = "list-ul"
    name = "circulation_rules"
    url_prefix = "circulation/rules"
    add_to_admin_menu = True
    menu_order = 915
    menu_label = gettext_lazy("Circulation rules")
    index_view_class = RuleIndexView
    edit_view_class = RuleEditView
    delete_view_class = RuleDeleteView
    copy_view_enabled = False
    inspect_view_enabled = False

    def get_form_class(self, for_update=False):
        return forms.modelform_factory(
            self.model, form=CirculationRuleForm, fields=self.form_fields
        )


@hooks.register("register_admin_viewset")
def register_rule_viewset():
    return CirculationRuleViewSet()
