"""Staff screens of OAI-PMH harvesting: the sources, "harvest now", and each source's runs.

Network admins and the admins of a source's library (libraries/access.py: an admin role at
that library or above it) register, change and harvest sources; nobody else sees them. What
is out of reach is not found (404); a source whose records are in the catalog cannot be
deleted (its records' provenance hangs on it): stop its daily harvest instead.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from wagtail import hooks
from wagtail.admin.ui.menus import MenuItem as UIMenuItem
from wagtail.admin.views import generic
from wagtail.admin.views.generic.history import HistoryView
from wagtail.admin.views.generic.usage import UsageView
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.permission_policies.base import BasePermissionPolicy
from wagtail.permissions import register_permission_policy

from libraries import access
from libraries.harvest.forms import HarvestSourceForm
from libraries.harvest.services import HarvestRefused
from libraries.harvest.tasks import start_harvest
from libraries.models import HarvestRun, HarvestSource
from libraries.network.admin import ForbiddenNotRedirectMixin
from libraries.network.decisions import forbid_instead_of_redirect

RUNS_SHOWN = 50


def sources_of(user):
    """The sources whose library the user administers."""
    return HarvestSource.objects.filter(
        access.library_filter(user, "library", access.ADMIN_ROLES)
    ).select_related("library")


class HarvestSourcePolicy(BasePermissionPolicy):
    """Admins (of some library, or of the network) open the screens; each source is theirs
    when they administer its library."""

    def user_has_permission(self, user, action):
        return action in ("add", "change", "delete", "view") and (
            access.libraries_administered_by(user).exists()
        )

    def user_has_permission_for_instance(self, user, action, instance):
        if not self.user_has_permission(user, action):
            return False
        if not access.can_administer(user, instance.library):
            return False
        return action != "delete" or not instance.harvested_records.exists()

    def instances_user_has_any_permission_for(self, user, actions):
        if not self.user_has_any_permission(user, actions):
            return HarvestSource.objects.none()
        return sources_of(user)

    def users_with_any_permission(self, actions):
        raise NotImplementedError  # nothing asks "who may harvest"


register_permission_policy(HarvestSource, HarvestSourcePolicy(HarvestSource))


class ScopedSources:
    def get_queryset(self):
        return sources_of(self.request.user)

    def get_base_object_queryset(self):
        return sources_of(self.request.user)


class SourceIndexView(generic.IndexView):
    def get_base_queryset(self):
        return sources_of(self.request.user)

    def get_list_more_buttons(self, instance):
        return [
            *super().get_list_more_buttons(instance),
            UIMenuItem(
                _("Runs and harvest now"),
                url=reverse("harvest_sources:runs", args=[instance.pk]),
                icon_name="history",
                priority=5,
            ),
        ]


class SourceEditView(ScopedSources, generic.EditView):
    pass


class SourceDeleteView(ScopedSources, generic.DeleteView):
    def get_object(self, queryset=None):
        source = super().get_object(queryset)
        if source.harvested_records.exists():
            raise PermissionDenied(
                gettext(
                    "Records of this source are in the catalog: it cannot be deleted. "
                    "Stop its daily harvest instead."
                )
            )
        return source


class SourceHistoryView(ScopedSources, HistoryView):
    pass


class SourceUsageView(ScopedSources, UsageView):
    pass


def _source_for(request, pk) -> HarvestSource:
    if not access.libraries_administered_by(request.user).exists():
        raise PermissionDenied
    return get_object_or_404(sources_of(request.user), pk=pk)


def source_runs(request, pk):
    source = _source_for(request, pk)
    runs = source.runs.select_related("requested_by")[:RUNS_SHOWN]
    return TemplateResponse(
        request,
        "libraries/harvest/admin/runs.html",
        {
            "source": source,
            "runs": runs,
            "open_run": source.runs.filter(status__in=HarvestRun.OPEN).first(),
            "record_count": source.harvested_records.count(),
        },
    )


@require_POST
def harvest_now(request, pk):
    source = _source_for(request, pk)
    try:
        start_harvest(source=source, by=request.user)
    except HarvestRefused as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            gettext("The harvest of %(source)s is queued; the task worker runs it.")
            % {"source": source.name},
        )
    return redirect("harvest_sources:runs", pk=source.pk)


def run_detail(request, pk):
    if not access.libraries_administered_by(request.user).exists():
        raise PermissionDenied
    run = get_object_or_404(
        HarvestRun.objects.filter(
            access.library_filter(request.user, "source__library", access.ADMIN_ROLES)
        ).select_related("source__library", "requested_by"),
        pk=pk,
    )
    return TemplateResponse(request, "libraries/harvest/admin/run.html", {"run": run})


class HarvestSourceViewSet(ForbiddenNotRedirectMixin, ModelViewSet):
    model = HarvestSource
    name = "harvest_sources"
    url_prefix = "harvest/sources"
    icon = "download"
    menu_label = _("OAI-PMH harvesting")
    menu_order = 260
    add_to_admin_menu = True
    form_class = HarvestSourceForm
    index_view_class = SourceIndexView
    edit_view_class = SourceEditView
    delete_view_class = SourceDeleteView
    history_view_class = SourceHistoryView
    usage_view_class = SourceUsageView
    copy_view_enabled = False
    list_display = ["name", "library", "base_url", "metadata_prefix", "daily", "next_from"]
    list_filter = ["metadata_prefix", "daily"]
    search_fields = ["name", "base_url"]
    ordering = ["name"]

    def get_form_class(self, for_update=False):
        return HarvestSourceForm

    def get_urlpatterns(self):
        guarded = forbid_instead_of_redirect
        return [
            *super().get_urlpatterns(),
            path("<int:pk>/runs/", guarded(source_runs), name="runs"),
            path("<int:pk>/harvest/", guarded(harvest_now), name="harvest"),
            path("run/<int:pk>/", guarded(run_detail), name="run"),
        ]


@hooks.register("register_admin_viewset")
def register_harvest_admin():
    return HarvestSourceViewSet()
