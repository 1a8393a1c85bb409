"""Reports → Site history, scoped like every other staff screen (libraries/network/audit.py).

Wagtail's LogEntriesView reads every log model through `viewable_by_user`, which opens any
entry of a model the user holds a permission on: a school librarian would read the changes of
every library. This view replaces it at the same address (training_site/urls.py routes
admin/reports/site-history/ here before Wagtail's admin URLs), and narrows each log model's
entries, the filters' choices (users, types, actions) and the CSV/XLSX download with
`scope_log_entries`: a staff member reads the entries of the libraries within their reach,
network admins all of them.
"""

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db.models import IntegerField, Value
from django.urls import path
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from wagtail.admin.auth import require_admin_access
from wagtail.admin.filters import ContentTypeFilter
from wagtail.admin.views.reports.audit_logging import LogEntriesView, SiteHistoryReportFilterSet
from wagtail.log_actions import registry as log_action_registry

from libraries.network.audit import scope_log_entries


def readable_entries(user):
    """Each log model's entries `user` may read: Wagtail's own check, then the library scope."""
    return [
        (model, scope_log_entries(user, model.objects.viewable_by_user(user)))
        for model in log_action_registry.get_log_entry_models()
    ]


def _users(user):
    ids = set()
    for _model, entries in readable_entries(user):
        ids.update(entries.get_user_ids())
    User = get_user_model()
    return User.objects.filter(pk__in=ids).order_by(User.USERNAME_FIELD)


def _content_types(request):
    ids = set()
    for _model, entries in readable_entries(request.user):
        ids.update(entries.get_content_type_ids())
    return ContentType.objects.filter(pk__in=ids).order_by("model")


class ScopedSiteHistoryFilterSet(SiteHistoryReportFilterSet):
    object_type = ContentTypeFilter(
        label=_("Type"), method="filter_object_type", queryset=_content_types
    )

    def get_action_choices(self):
        actions = set()
        for _model, entries in readable_entries(self.request.user):
            actions.update(entries.get_actions())
        return [choice for choice in log_action_registry.get_choices() if choice[0] in actions]

    def get_user_choices(self):
        return _users(self.request.user)

    def get_users_queryset(self):
        return _users(self.request.user)


class ScopedLogEntriesView(LogEntriesView):
    filterset_class = ScopedSiteHistoryFilterSet

    def get_filtered_queryset(self):
        """Wagtail's union of the log models (see LogEntriesView), each one scoped first."""
        queryset = None
        self.log_models = []
        for index, (model, entries) in enumerate(readable_entries(self.request.user)):
            self.log_models.append(model)
            sub_queryset = entries.values("pk", "timestamp").annotate(
                log_model_index=Value(index, output_field=IntegerField())
            )
            sub_queryset = self.filter_queryset(sub_queryset).order_by()
            queryset = sub_queryset if queryset is None else queryset.union(sub_queryset, all=True)
        return queryset.order_by("-timestamp")


def _admin(view):
    return never_cache(require_admin_access(view))


# Unnamed: links are reversed from Wagtail's names (wagtailadmin_reports:site_history...),
# which give these same addresses.
urlpatterns = [
    path("", _admin(ScopedLogEntriesView.as_view())),
    path("results/", _admin(ScopedLogEntriesView.as_view(results_only=True))),
]
