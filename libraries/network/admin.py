"""Staff screens of the network in the Wagtail admin: libraries, memberships, invitations,
join requests.

Join requests use the decision screens shared with reader card applications (decisions.py).

Every queryset and every object goes through libraries/access.py: what is out of a user's
reach is not found (404); what they can see but may not change is refused (403).
"""

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.generic import TemplateView
from wagtail import hooks
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.menu import MenuItem
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel, ObjectList
from wagtail.admin.ui.tables import Column
from wagtail.admin.views import generic
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.views.generic.history import HistoryView
from wagtail.admin.views.generic.usage import UsageView
from wagtail.admin.viewsets.base import ViewSet, ViewSetGroup
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.permission_policies.base import ModelPermissionPolicy

from libraries import access
from libraries.models import Invitation, JoinRequest, Library, Membership, Role
from libraries.network import invitations
from libraries.network import services as network
from libraries.network.audit import (
    AuditedCreateMixin,
    AuditedDeleteMixin,
    AuditedEditMixin,
    AuditedHistoryMixin,
)
from libraries.network.decisions import DecisionViewSet, forbid_instead_of_redirect
from libraries.network.forms import RejectJoinRequestForm


class ForbiddenNotRedirectMixin:
    def construct_view(self, view_class, **kwargs):
        return forbid_instead_of_redirect(super().construct_view(view_class, **kwargs))


# --- Libraries ---------------------------------------------------------------------------


class LibraryForm(WagtailAdminModelForm):
    """Parent choices are the libraries the user administers; only superusers make a root."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = self.for_user
        parent = self.fields.get("parent")
        if parent is None:
            return
        choices = access.libraries_administered_by(user)
        if self.instance.pk:
            choices = choices.exclude(path__startswith=self.instance.path)
        parent.queryset = choices
        if access.is_superuser(user):
            return
        if self.instance.pk and "code" in self.fields:
            # The code prefixes every barcode and card number already printed: keep it.
            self.fields["code"].disabled = True
            self.fields["code"].help_text = _("Fixed once the library exists.")
        if "kind" in self.fields:
            self.fields["kind"].choices = [
                choice
                for choice in self.fields["kind"].choices
                if choice[0] != Library.Kind.PROVINCIAL or self.instance.kind == choice[0]
            ]
        if self.instance.pk and not access.can_administer(user, self.instance.parent):
            # An admin edits their own top library but may not move it out of reach.
            parent.queryset = Library.objects.filter(pk=self.instance.parent_id)
            parent.disabled = True
            parent.required = False
        else:
            parent.required = True

    def clean_code(self):
        if self.fields["code"].disabled:
            return self.instance.code
        return (self.cleaned_data.get("code") or "").strip().upper()

    def clean_parent(self):
        parent = self.cleaned_data.get("parent")
        user = self.for_user
        if self.fields["parent"].disabled:
            return self.instance.parent
        if access.is_superuser(user):
            return parent
        if parent is None:
            raise forms.ValidationError(_("Only a superuser can create a top-level library."))
        if not access.can_administer(user, parent):
            raise forms.ValidationError(_("You can only place libraries inside your own."))
        return parent


class ScopedLibraryQueryset:
    def get_queryset(self):
        return access.libraries_visible_to(self.request.user)

    def get_base_object_queryset(self):
        return access.libraries_visible_to(self.request.user)


class AuditedLibrary:
    """Library screens log `libraries.library.*` entries, read by the library's own staff and
    those above it."""

    audit_action_prefix = "libraries.library"

    def audit_library(self, instance):
        return instance


class LibraryCreateView(AuditedLibrary, AuditedCreateMixin, generic.CreateView):
    pass


class LibraryIndexView(generic.IndexView):
    def get_base_queryset(self):
        return access.libraries_visible_to(self.request.user).select_related("parent")


class LibraryEditView(AuditedLibrary, AuditedEditMixin, ScopedLibraryQueryset, generic.EditView):
    def get_object(self, queryset=None):
        library = super().get_object(queryset)
        if not access.can_administer(self.request.user, library):
            raise PermissionDenied
        return library


class LibraryDeleteView(
    AuditedLibrary, AuditedDeleteMixin, ScopedLibraryQueryset, generic.DeleteView
):
    def get_object(self, queryset=None):
        library = super().get_object(queryset)
        if not access.can_administer(self.request.user, library):
            raise PermissionDenied
        return library


class LibraryHistoryView(AuditedHistoryMixin, HistoryView):
    # Not ScopedLibraryQueryset: its get_queryset would list libraries instead of entries.
    def get_base_object_queryset(self):
        return access.libraries_visible_to(self.request.user)


class LibraryUsageView(ScopedLibraryQueryset, UsageView):
    pass


class LibraryViewSet(ForbiddenNotRedirectMixin, ModelViewSet):
    model = Library
    icon = "home"
    name = "network_libraries"
    url_prefix = "network/libraries"
    index_view_class = LibraryIndexView
    add_view_class = LibraryCreateView
    edit_view_class = LibraryEditView
    delete_view_class = LibraryDeleteView
    history_view_class = LibraryHistoryView
    usage_view_class = LibraryUsageView
    copy_view_enabled = False
    list_display = ["name", "code", "kind", "parent", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "code", "address"]
    edit_handler = ObjectList(
        [
            FieldRowPanel([FieldPanel("code"), FieldPanel("kind")]),
            FieldPanel("name"),
            FieldPanel("parent"),
            FieldPanel("address"),
            MultiFieldPanel(
                [FieldPanel("contact_name"), FieldPanel("email"), FieldPanel("phone")],
                heading=_("Contact"),
            ),
            FieldPanel("description"),
            FieldPanel("is_active"),
        ],
        base_form_class=LibraryForm,
    )


# --- Memberships -------------------------------------------------------------------------


def _grantable_anywhere(user) -> list[str]:
    if access.is_superuser(user) or access.is_network_admin(user):
        return list(Role.values)
    if access.roles_of(user) & access.ADMIN_ROLES:
        return [role for role in Role.values if role != Role.NETWORK_ADMIN]
    return []


class MembershipForm(WagtailAdminModelForm):
    """A role for an existing account at a library the user administers."""

    username = forms.CharField(
        label=_("Username or email"),
        max_length=254,
        help_text=_(
            "The person must already have an account; invite anyone else by email (Invitations)."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = self.for_user
        self.fields["library"].queryset = access.libraries_administered_by(user)
        grantable = set(_grantable_anywhere(user))
        self.fields["role"].choices = [("", "---------")] + [
            (value, label) for value, label in Role.choices if value in grantable
        ]
        if self.instance.pk:
            self.fields["username"].initial = self.instance.user.get_username()
            self.fields["username"].disabled = True
            self.fields["username"].required = False
            self.fields["username"].help_text = ""

    def clean_username(self):
        if self.fields["username"].disabled:
            return self.instance.user.get_username()
        value = self.cleaned_data["username"].strip()
        User = get_user_model()
        person = (
            User.objects.filter(Q(username__iexact=value) | Q(emailaddress__email__iexact=value))
            .distinct()
            .first()
        )
        if person is None:
            raise forms.ValidationError(_("No account has this username or email."))
        self.person = person
        return value

    def clean(self):
        cleaned = super().clean()
        library, role = cleaned.get("library"), cleaned.get("role")
        if library and role and role not in access.roles_user_may_grant(self.for_user, library):
            self.add_error("role", _("You cannot give this role at this library."))
        person = self.instance.user if self.instance.pk else getattr(self, "person", None)
        if person and library and role:
            clash = Membership.objects.filter(user=person, library=library, role=role)
            if clash.exclude(pk=self.instance.pk).exists():
                raise forms.ValidationError(_("This person already has this role here."))
        return cleaned

    def save(self, commit=True):
        if not self.instance.pk:
            self.instance.user = self.person
        membership = super().save(commit=commit)
        access.forget_memberships(membership.user)
        return membership


def _ensure_can_change_membership(user, membership: Membership) -> None:
    if membership.role not in access.roles_user_may_grant(user, membership.library):
        raise PermissionDenied


class ScopedMembershipQueryset:
    def get_queryset(self):
        return access.scope_memberships(
            self.request.user, Membership.objects.select_related("user", "library")
        )

    def get_base_object_queryset(self):
        return self.get_queryset()


class AuditedMembership:
    """Granting, changing and removing a role: `libraries.membership.create|edit|delete`."""

    audit_action_prefix = "libraries.membership"
    audit_fields = ("user", "library", "role")


class MembershipCreateView(AuditedMembership, AuditedCreateMixin, generic.CreateView):
    pass


class MembershipIndexView(generic.IndexView):
    def get_base_queryset(self):
        return access.scope_memberships(
            self.request.user, Membership.objects.select_related("user", "library")
        )


class MembershipEditView(
    AuditedMembership, AuditedEditMixin, ScopedMembershipQueryset, generic.EditView
):
    def get_object(self, queryset=None):
        membership = super().get_object(queryset)
        _ensure_can_change_membership(self.request.user, membership)
        return membership


class MembershipDeleteView(
    AuditedMembership, AuditedDeleteMixin, ScopedMembershipQueryset, generic.DeleteView
):
    def get_object(self, queryset=None):
        membership = super().get_object(queryset)
        _ensure_can_change_membership(self.request.user, membership)
        return membership


class MembershipHistoryView(AuditedHistoryMixin, HistoryView):
    # Not ScopedMembershipQueryset: its get_queryset would list memberships, not entries.
    def get_base_object_queryset(self):
        return access.scope_memberships(self.request.user, Membership.objects.all())


class MembershipUsageView(ScopedMembershipQueryset, UsageView):
    pass


class MembershipViewSet(ForbiddenNotRedirectMixin, ModelViewSet):
    model = Membership
    icon = "user"
    name = "network_memberships"
    url_prefix = "network/memberships"
    index_view_class = MembershipIndexView
    add_view_class = MembershipCreateView
    edit_view_class = MembershipEditView
    delete_view_class = MembershipDeleteView
    history_view_class = MembershipHistoryView
    usage_view_class = MembershipUsageView
    copy_view_enabled = False
    list_display = [
        Column("user", label=_("user"), accessor="user"),
        Column("role", label=_("role"), accessor="get_role_display"),
        Column("library", label=_("library"), accessor="library"),
    ]
    list_filter = ["role"]
    search_fields = ["user__username", "user__display_name", "library__name", "library__code"]
    edit_handler = ObjectList(
        [FieldPanel("username"), FieldPanel("library"), FieldPanel("role")],
        base_form_class=MembershipForm,
    )


# --- Join requests -----------------------------------------------------------------------


class JoinRequestViewSet(DecisionViewSet):
    """Schools asking to join, decided by the admins of the library they asked to join."""

    model = JoinRequest
    name = "libraries_join_requests"
    url_prefix = "network/join-requests"
    icon = "mail"
    menu_label = _("Join requests")
    index_template_name = "libraries/admin/join_requests/index.html"
    review_template_name = "libraries/admin/join_requests/review.html"
    context_object_name = "join_request"
    list_select_related = ("parent", "library")
    reject_form_class = RejectJoinRequestForm
    reason_required_message = _("Give a reason: the school will read it.")
    decision_errors = (network.JoinRequestError,)

    def scope(self, user, queryset):
        return access.scope_join_requests(user, queryset)

    def approve(self, join_request, *, by):
        decision = network.approve_join_request(request=join_request, by=by)
        return gettext(
            "%(library)s has joined the network with code %(code)s; %(email)s is invited."
        ) % {
            "library": decision.library.name,
            "code": decision.library.code,
            "email": join_request.contact_email,
        }

    def reject(self, join_request, *, by, reason):
        network.reject_join_request(request=join_request, by=by, reason=reason)
        return gettext("The request of %(school)s was rejected; the contact has been told why.") % {
            "school": join_request.school_name
        }


# --- Invitations ---------------------------------------------------------------------------


class InvitationForm(forms.Form):
    """Invite someone by email to a role at a library the user administers."""

    email = forms.EmailField(
        label=_("Email"),
        help_text=_(
            "The invitation is sent here. Students without email get their accounts from "
            "their teacher (classes)."
        ),
    )
    full_name = forms.CharField(label=_("Name"), max_length=150, required=False)
    library = forms.ModelChoiceField(label=_("Library"), queryset=Library.objects.none())
    role = forms.ChoiceField(label=_("Role"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["library"].queryset = access.libraries_administered_by(user).filter(
            is_active=True
        )
        grantable = set(_grantable_anywhere(user))
        self.fields["role"].choices = [("", "---------")] + [
            (value, label) for value, label in Role.choices if value in grantable
        ]

    def clean(self):
        cleaned = super().clean()
        library, role = cleaned.get("library"), cleaned.get("role")
        if library and role and role not in access.roles_user_may_grant(self.user, library):
            self.add_error("role", _("You cannot give this role at this library."))
        return cleaned


def scope_invitations(user, queryset):
    """Invitations to libraries the user administers."""
    return queryset.filter(access.library_filter(user, "library", access.ADMIN_ROLES))


class InvitationScreen(WagtailAdminTemplateMixin, TemplateView):
    """Opens to users who may invite (admins); the viewset gives the rest."""

    viewset = None

    def dispatch(self, request, *args, **kwargs):
        if not self.viewset.may_invite(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_header_icon(self):
        return self.viewset.icon

    def get_breadcrumbs_items(self):
        index = {"url": reverse(self.viewset.get_url_name("index")), "label": _("Invitations")}
        return [*self.breadcrumbs_items, index, {"url": "", "label": self.get_page_title()}]


class InvitationIndexView(InvitationScreen):
    template_name = "libraries/admin/invitations/index.html"
    page_title = _("Invitations")

    def get_breadcrumbs_items(self):
        return [*self.breadcrumbs_items, {"url": "", "label": self.get_page_title()}]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        queryset = self.viewset.get_queryset(self.request.user)
        status = self.request.GET.get("status", "")
        if status in Invitation.Status.values:
            queryset = queryset.filter(status=status)
        page = Paginator(queryset, 50).get_page(self.request.GET.get("p"))
        now = timezone.now()
        for invitation in page:
            invitation.expired = invitation.is_expired(now)
        context.update(
            invitations=list(page),
            page_obj=page,
            status=status if status in Invitation.Status.values else "",
            statuses=Invitation.Status.choices,
            add_url=reverse(self.viewset.get_url_name("add")),
            resend_url_name=self.viewset.get_url_name("resend"),
            revoke_url_name=self.viewset.get_url_name("revoke"),
        )
        return context


class InvitationCreateView(InvitationScreen):
    template_name = "libraries/admin/invitations/add.html"
    page_title = _("Invite a member")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.setdefault("form", InvitationForm(user=self.request.user))
        context["valid_days"] = invitations.valid_days()
        return context

    def post(self, request, *args, **kwargs):
        form = InvitationForm(request.POST, user=request.user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                invitation = invitations.invite_member(
                    email=data["email"],
                    full_name=data["full_name"],
                    library=data["library"],
                    role=data["role"],
                    by=request.user,
                )
            except invitations.InvitationError as error:
                form.add_error(None, error)
            else:
                messages.success(
                    request,
                    gettext("%(email)s is invited to %(library)s as %(role)s.")
                    % {
                        "email": invitation.email,
                        "library": invitation.library.name,
                        "role": invitation.get_role_display(),
                    },
                )
                return redirect(self.viewset.get_url_name("index"))
        return self.render_to_response(self.get_context_data(form=form))


class InvitationActionView(View):
    """POST only: resend or withdraw one invitation within reach (404 outside it)."""

    viewset = None
    http_method_names = ["post"]

    def post(self, request, pk):
        if not self.viewset.may_invite(request.user):
            raise PermissionDenied
        invitation = get_object_or_404(self.viewset.get_queryset(request.user), pk=pk)
        try:
            done = self.act(invitation)
        except invitations.InvitationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, done)
        return redirect(self.viewset.get_url_name("index"))

    def act(self, invitation) -> str:
        raise NotImplementedError


class ResendInvitationView(InvitationActionView):
    def act(self, invitation) -> str:
        invitations.resend_invitation(invitation=invitation, by=self.request.user)
        return gettext("A new link was sent to %(email)s; the previous one no longer works.") % {
            "email": invitation.email
        }


class RevokeInvitationView(InvitationActionView):
    def act(self, invitation) -> str:
        invitations.revoke_invitation(invitation=invitation, by=self.request.user)
        return gettext("The invitation to %(email)s was withdrawn.") % {"email": invitation.email}


class InvitationViewSet(ViewSet):
    """Invite members by email, send an invitation again, withdraw it."""

    model = Invitation
    name = "network_invitations"
    url_prefix = "network/invitations"
    icon = "mail"
    menu_label = _("Invitations")

    @cached_property
    def permission_policy(self):
        return ModelPermissionPolicy(Invitation)

    def may_invite(self, user) -> bool:
        return self.permission_policy.user_has_permission(user, "add")

    def get_queryset(self, user):
        queryset = Invitation.objects.select_related("library", "invited_by", "accepted_by")
        return scope_invitations(user, queryset)

    @cached_property
    def menu_item_class(self):
        viewset = self

        def is_shown(_item, request):
            return viewset.may_invite(request.user)

        return type("InvitationMenuItem", (MenuItem,), {"is_shown": is_shown})

    def get_urlpatterns(self):
        def view(view_class):
            return forbid_instead_of_redirect(self.construct_view(view_class, viewset=self))

        return [
            path("", view(InvitationIndexView), name="index"),
            path("add/", view(InvitationCreateView), name="add"),
            path("<int:pk>/resend/", view(ResendInvitationView), name="resend"),
            path("<int:pk>/revoke/", view(RevokeInvitationView), name="revoke"),
        ]


class NetworkViewSetGroup(ViewSetGroup):
    menu_label = _("Library network")
    menu_icon = "site"
    menu_order = 200
    items = (LibraryViewSet, MembershipViewSet, InvitationViewSet, JoinRequestViewSet)


@hooks.register("register_admin_viewset")
def register_network_viewsets():
    return NetworkViewSetGroup()
