"""Staff screens of the circulation area in the Wagtail admin: the desk link, reader card
applications (on the decision screens shared with join requests) and circulation rules."""

from django import forms
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail import hooks
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.views import generic
from wagtail.admin.viewsets.model import ModelViewSet

from libraries.access import (
    can_administer,
    is_network_admin,
    libraries_administered_by,
    library_filter,
)
from libraries.circulation import patrons
from libraries.circulation.services import CirculationError
from libraries.models import CirculationRule, RegistrationRequest
from libraries.network.decisions import DecisionReasonForm, DecisionViewSet
from libraries.network.menu import StaffViewSet


def scope_registrations(user, queryset):
    """Applications the user may decide: those addressed to a library in their staff reach."""
    return queryset.filter(library_filter(user, "home_library"))


class RejectApplicationForm(DecisionReasonForm):
    reason = forms.CharField(
        label=gettext_lazy("Reason for rejection (sent to the applicant)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=1000,
    )


class CardApplicationViewSet(DecisionViewSet):
    """Online reader card applications, decided by staff of the chosen home library."""

    model = RegistrationRequest
    name = "circulation_registrations"
    url_prefix = "circulation/applications"
    icon = "user"
    menu_label = gettext_lazy("Reader card applications")
    add_to_admin_menu = True
    menu_order = 910
    index_template_name = "libraries/admin/card_applications/index.html"
    review_template_name = "libraries/admin/card_applications/review.html"
    context_object_name = "application"
    list_select_related = ("home_library", "patron")
    reject_form_class = RejectApplicationForm
    reason_required_message = gettext_lazy("Give the applicant a reason.")
    decision_errors = (CirculationError,)

    def scope(self, user, queryset):
        return scope_registrations(user, queryset)

    def approve(self, application, *, by):
        patron = patrons.approve_registration(request_id=application.pk, by=by)
        return _("Card %(card)s issued.") % {"card": patron.card_number}

    def reject(self, application, *, by, reason):
        patrons.reject_registration(request_id=application.pk, by=by, reason=reason)
        return _("Application rejected; the applicant is told why.")


class DeskLinkViewSet(StaffViewSet):
    """The circulation desk lives outside the admin (/desk/); staff reach it from the menu."""

    name = "circulation_desk"
    icon = "doc-full"
    menu_label = gettext_lazy("Circulation desk")
    add_to_admin_menu = True
    menu_order = 905

    @property
    def menu_url(self):
        return reverse("libraries:desk")


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
def register_circulation_viewsets():
    return [DeskLinkViewSet(), CardApplicationViewSet(), CirculationRuleViewSet()]
