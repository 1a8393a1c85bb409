"""Wagtail hooks of the library app: one admin module per area, and its part of the home page."""

from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.log_actions import LogFormatter

from libraries.catalog import admin as catalog_admin  # noqa: F401
from libraries.catalog.services import BULK_EDIT_ACTION
from libraries.circulation import admin as circulation_admin  # noqa: F401
from libraries.digital import admin as digital_admin  # noqa: F401
from libraries.harvest import admin as harvest_admin  # noqa: F401
from libraries.models import Item, NetworkPage
from libraries.models.network import members_by_district
from libraries.network import admin as network_admin  # noqa: F401


@hooks.register("home_page_context")
def network_on_the_home_page(request) -> dict:
    members = members_by_district()
    return {
        "district_groups": members["district_groups"],
        "member_count": (
            len(members["top_libraries"])
            + len(members["other_members"])
            + sum(1 + len(schools) for _district, schools in members["district_groups"])
        ),
        "network_page": NetworkPage.objects.live().first(),
    }


@hooks.register("register_log_actions")
def register_library_log_actions(actions):
    """Actions of the staff audit log (libraries/network/audit.py: log_change)."""

    @actions.register_action(BULK_EDIT_ACTION)
    class ItemBulkEdit(LogFormatter):
        label = _("Change items together")

        def format_message(self, log_entry):
            names = sorted(log_entry.data.get("after", {}))
            fields = ", ".join(str(Item._meta.get_field(name).verbose_name) for name in names)
            return _("Changed with other items: %(fields)s") % {"fields": fields}
