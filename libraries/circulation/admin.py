"""Staff screens of the circulation area in the Wagtail admin: the desk link, reader card
applications (on the decision screens shared with join requests), circulation rules and the
libraries' wording of the notices to readers (a snippet with a preview)."""

from django import forms
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail import hooks
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import FieldPanel, FieldRowPanel, ObjectList
from wagtail.admin.views import generic
from wagtail.admin.views.generic.history import HistoryView
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.permission_policies.base import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views import snippets as snippet_views
from wagtail.snippets.views.snippets import SnippetViewSet

from libraries.access import (
    ADMIN_ROLES,
    can_administer,
    is_network_admin,
    libraries_administered_by,
    library_filter,
)
from libraries.circulation import patrons
from libraries.circulation.services import CirculationError
from libraries.models import CirculationRule, NoticeKind, NoticeTemplate, RegistrationRequest
from libraries.models.circulation import NOTICE_PLACEHOLDERS
from libraries.network.audit import (
    AuditedCreateMixin,
    AuditedDeleteMixin,
    AuditedEditMixin,
    AuditedHistoryMixin,
)
from libraries.network.decisions import (
    DecisionReasonForm,
    DecisionViewSet,
    forbid_instead_of_redirect,
)
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


class AuditedRule:
    """Rule changes are logged (`libraries.rule.*`); a network-wide rule's entries (no library)
    are read by network admins only, as only they change those rules."""

    audit_action_prefix = "libraries.rule"


class RuleCreateView(AuditedRule, AuditedCreateMixin, generic.CreateView):
    pass


class RuleEditView(AuditedRule, AuditedEditMixin, ScopedRules, generic.EditView):
    pass


class RuleDeleteView(AuditedRule, AuditedDeleteMixin, ScopedRules, generic.DeleteView):
    pass


class RuleHistoryView(AuditedHistoryMixin, HistoryView):
    def get_base_object_queryset(self):
        return CirculationRule.objects.filter(
            Q(library__isnull=True) | library_filter(self.request.user, "library")
        )


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
    add_view_class = RuleCreateView
    edit_view_class = RuleEditView
    delete_view_class = RuleDeleteView
    history_view_class = RuleHistoryView
    copy_view_enabled = False
    inspect_view_enabled = False

    def get_form_class(self, for_update=False):
        return forms.modelform_factory(
            self.model, form=CirculationRuleForm, fields=self.form_fields
        )


# --- Notices to readers --------------------------------------------------------------------


class NoticeTemplatePermissionPolicy(ModelPermissionPolicy):
    """The roles' model permissions, narrowed to templates of libraries the user administers."""

    def user_has_permission_for_instance(self, user, action, instance):
        return self.user_has_permission(user, action) and can_administer(user, instance.library)

    def instances_user_has_permission_for(self, user, action):
        if not self.user_has_permission(user, action):
            return NoticeTemplate.objects.none()
        return scope_notice_templates(user, NoticeTemplate.objects.all())


def scope_notice_templates(user, queryset):
    return queryset.filter(library_filter(user, "library", ADMIN_ROLES))


register_permission_policy(NoticeTemplate, NoticeTemplatePermissionPolicy(NoticeTemplate))


def placeholder_help() -> str:
    """Which placeholders each notice offers, for the form's help text."""
    return " ".join(
        f"{label}: " + ", ".join(f"{{{name}}}" for name in NOTICE_PLACEHOLDERS[kind]) + "."
        for kind, label in NoticeKind.choices
    )


class NoticeTemplateForm(WagtailAdminModelForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "library" in self.fields:
            self.fields["library"].queryset = libraries_administered_by(self.for_user).filter(
                is_active=True
            )
        if "body" in self.fields:
            self.fields["body"].help_text = _(
                "Placeholders in braces are replaced for each reader. %(list)s Write {{ or }} "
                "for a brace of your own."
            ) % {"list": placeholder_help()}


class ScopedNoticeTemplates:
    def get_base_queryset(self):
        queryset = NoticeTemplate.objects.select_related("library")
        return scope_notice_templates(self.request.user, queryset)

    def get_queryset(self):
        return self.get_base_queryset()

    def get_base_object_queryset(self):
        return self.get_base_queryset()


class NoticeTemplateIndexView(ScopedNoticeTemplates, snippet_views.IndexView):
    pass


class AuditedNotice:
    audit_action_prefix = "libraries.notice"


class NoticeTemplateCreateView(AuditedNotice, AuditedCreateMixin, snippet_views.CreateView):
    pass


class NoticeTemplateEditView(
    AuditedNotice, AuditedEditMixin, ScopedNoticeTemplates, snippet_views.EditView
):
    pass


class NoticeTemplateDeleteView(
    AuditedNotice, AuditedDeleteMixin, ScopedNoticeTemplates, snippet_views.DeleteView
):
    pass


class NoticeTemplateHistoryView(AuditedHistoryMixin, snippet_views.HistoryView):
    def get_base_object_queryset(self):
        return scope_notice_templates(self.request.user, NoticeTemplate.objects.all())


class NoticeTemplateViewSet(SnippetViewSet):
    """Each library's wording of the overdue, hold-available and card-approved notices, with a
    live preview on sample data; without one, readers get the built-in text."""

    model = NoticeTemplate
    icon = "mail"
    menu_label = gettext_lazy("Reader notices")
    url_prefix = "circulation/notices"
    add_to_admin_menu = True
    menu_order = 920
    index_view_class = NoticeTemplateIndexView
    add_view_class = NoticeTemplateCreateView
    edit_view_class = NoticeTemplateEditView
    delete_view_class = NoticeTemplateDeleteView
    history_view_class = NoticeTemplateHistoryView
    list_display = ["__str__", "subject"]
    list_filter = ["kind", "language"]
    copy_view_enabled = False
    inspect_view_enabled = False
    edit_handler = ObjectList(
        [
            FieldRowPanel([FieldPanel("library"), FieldPanel("kind"), FieldPanel("language")]),
            FieldPanel("subject"),
            FieldPanel("body"),
        ],
        base_form_class=NoticeTemplateForm,
    )

    def construct_view(self, view_class, **kwargs):
        return forbid_instead_of_redirect(super().construct_view(view_class, **kwargs))


register_snippet(NoticeTemplateViewSet)


@hooks.register("register_admin_viewset")
def register_circulation_viewsets():
    return [DeskLinkViewSet(), CardApplicationViewSet(), CirculationRuleViewSet()]
