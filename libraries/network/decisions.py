"""Admin screens where staff approve or reject, once, a request from outside (StaffDecision).

Join requests (network) and reader card applications (circulation) share these screens: a
list with pending requests first, a review page, and POST-only approve and reject actions.
Each area subclasses DecisionViewSet with its model, its scope, its services and the
templates of the parts that differ. A request out of the user's reach is not found (404);
a user who may not open or decide them at all is refused (403).
"""

import functools

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.defaults import permission_denied
from django.views.generic import TemplateView
from wagtail.admin.menu import MenuItem
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.viewsets.base import ViewSet
from wagtail.permission_policies.base import ModelPermissionPolicy

from libraries.models.network import StaffDecision

Status = StaffDecision.Status


def forbid_instead_of_redirect(view):
    """Answer a refusal inside a screen with 403, not Wagtail's redirect to the dashboard.

    A forged or stale request then fails plainly and visibly, and tests can tell a refusal
    from a success.
    """

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except PermissionDenied as error:
            return permission_denied(request, error)

    return wrapped


class DecisionRefused(Exception):
    """A decision the screen turns down before calling the service (e.g. no reason given)."""


class DecisionReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (sent to the requester)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
    )


def error_text(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(error)


# --- Views --------------------------------------------------------------------------------


class DecisionScreen(WagtailAdminTemplateMixin, TemplateView):
    """Opens only to users the viewset lets see decisions; everything else comes from it."""

    viewset = None

    def dispatch(self, request, *args, **kwargs):
        if not self.viewset.may_view(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_header_icon(self):
        return self.viewset.icon

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["viewset"] = self.viewset
        context["index_url"] = reverse(self.viewset.get_url_name("index"))
        context["review_url_name"] = self.viewset.get_url_name("review")
        return context


class DecisionIndexView(DecisionScreen):
    def get_page_title(self):
        return self.viewset.menu_label

    def get_breadcrumbs_items(self):
        return [*self.breadcrumbs_items, {"url": "", "label": self.get_page_title()}]

    def get_template_names(self):
        return [self.viewset.index_template_name]

    def selected_status(self) -> str:
        status = self.request.GET.get("status", "")
        return status if status in Status.values else ""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        status = self.selected_status()
        queryset = self.viewset.get_queryset(self.request.user)
        if status:
            queryset = queryset.filter(status=status)
        page = Paginator(queryset, self.viewset.per_page).get_page(self.request.GET.get("p"))
        requests = list(page)
        context.update(
            requests=requests,
            pending=[r for r in requests if r.status == Status.PENDING],
            decided=[r for r in requests if r.status != Status.PENDING],
            page_obj=page,
            status=status,
            statuses=Status.choices,
        )
        return context


class DecisionReviewView(DecisionScreen):
    def get(self, request, *args, **kwargs):
        self.object = get_object_or_404(self.viewset.get_queryset(request.user), pk=kwargs["pk"])
        return super().get(request, *args, **kwargs)

    def get_page_title(self):
        return str(self.object)

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse(self.viewset.get_url_name("index")), "label": self.viewset.menu_label},
            {"url": "", "label": self.get_page_title()},
        ]

    def get_template_names(self):
        return [self.viewset.review_template_name]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        decision = self.object
        context.update(
            {
                "object": decision,
                self.viewset.context_object_name: decision,
                "can_decide": decision.status == Status.PENDING
                and self.viewset.may_decide(self.request.user),
                "approve_url": reverse(self.viewset.get_url_name("approve"), args=[decision.pk]),
                "reject_url": reverse(self.viewset.get_url_name("reject"), args=[decision.pk]),
                "reject_form": self.viewset.reject_form_class(),
            }
        )
        return context


class DecideView(View):
    """POST only. Finds the request within reach, calls the area's service, says what happened.

    The service locks the row and refuses a request already decided, so a second click only
    shows that message.
    """

    viewset = None
    http_method_names = ["post"]

    def post(self, request, pk):
        viewset = self.viewset
        if not (viewset.may_view(request.user) and viewset.may_decide(request.user)):
            raise PermissionDenied
        decision = get_object_or_404(viewset.get_queryset(request.user), pk=pk)
        try:
            done = self.decide(decision)
        except (DecisionRefused, *viewset.decision_errors) as error:
            messages.error(request, error_text(error))
            return redirect(viewset.get_url_name("review"), pk=decision.pk)
        messages.success(request, done)
        return redirect(viewset.get_url_name("index"))

    def decide(self, decision) -> str:
        raise NotImplementedError


class ApproveView(DecideView):
    def decide(self, decision) -> str:
        return self.viewset.approve(decision, by=self.request.user)


class RejectView(DecideView):
    def decide(self, decision) -> str:
        form = self.viewset.reject_form_class(self.request.POST)
        if not form.is_valid():
            if form.has_error("reason", "required"):
                raise DecisionRefused(self.viewset.reason_required_message)
            raise DecisionRefused(" ".join(form.errors["reason"]))
        return self.viewset.reject(
            decision, by=self.request.user, reason=form.cleaned_data["reason"]
        )


# --- Viewset ------------------------------------------------------------------------------


class DecisionViewSet(ViewSet):
    """Index, review, approve and reject screens for one StaffDecision model.

    A subclass gives `model`, `scope()`, `approve()`, `reject()`, the service errors that
    carry a message for staff (`decision_errors`) and its two templates, which extend
    libraries/admin/decisions/{index,review}.html.
    """

    model: type[StaffDecision]
    decision_errors: tuple[type[Exception], ...] = ()
    reject_form_class = DecisionReasonForm
    reason_required_message = _("Give a reason: the requester will read it.")
    index_template_name = "libraries/admin/decisions/index.html"
    review_template_name = "libraries/admin/decisions/review.html"
    context_object_name = "decision"
    list_select_related: tuple[str, ...] = ()
    per_page = 50

    index_view_class = DecisionIndexView
    review_view_class = DecisionReviewView
    approve_view_class = ApproveView
    reject_view_class = RejectView

    def scope(self, user, queryset: QuerySet) -> QuerySet:
        """The requests `user` may see and decide (their reach)."""
        raise NotImplementedError

    def approve(self, decision, *, by) -> str:
        """Approve through the area's service; return the message shown to staff."""
        raise NotImplementedError

    def reject(self, decision, *, by, reason: str) -> str:
        """Reject through the area's service; return the message shown to staff."""
        raise NotImplementedError

    @cached_property
    def permission_policy(self):
        return ModelPermissionPolicy(self.model)

    def may_view(self, user) -> bool:
        return self.permission_policy.user_has_permission(user, "view")

    def may_decide(self, user) -> bool:
        return self.permission_policy.user_has_permission(user, "change")

    def get_queryset(self, user) -> QuerySet:
        """Requests within reach, pending ones first, newest first within each group."""
        queryset = self.model.objects.select_related(*self.list_select_related)
        return (
            self.scope(user, queryset)
            .annotate(
                pending_first=Case(
                    When(status=Status.PENDING, then=Value(0)),
                    default=Value(1),
                    output_field=IntegerField(),
                )
            )
            .order_by("pending_first", "-created_at", "-pk")
        )

    @cached_property
    def menu_label(self):
        return capfirst(self.model._meta.verbose_name_plural)

    @cached_property
    def menu_item_class(self):
        viewset = self

        def is_shown(_item, request):
            return viewset.may_view(request.user)

        return type(f"{self.model.__name__}MenuItem", (MenuItem,), {"is_shown": is_shown})

    def get_urlpatterns(self):
        def view(view_class):
            return forbid_instead_of_redirect(self.construct_view(view_class, viewset=self))

        return [
            path("", view(self.index_view_class), name="index"),
            path("<int:pk>/", view(self.review_view_class), name="review"),
            path("<int:pk>/approve/", view(self.approve_view_class), name="approve"),
            path("<int:pk>/reject/", view(self.reject_view_class), name="reject"),
        ]
