"""Wagtail hooks of the library app: one admin module per area, and its part of the home page."""

from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.log_actions import LogFormatter

from libraries.catalog import admin as catalog_admin  # noqa: F401
from libraries.catalog.services import BULK_EDIT_ACTION, ITEM_CREATE_ACTION, ITEM_EDIT_ACTION
from libraries.circulation import admin as circulation_admin  # noqa: F401
from libraries.digital import admin as digital_admin  # noqa: F401
from libraries.harvest import admin as harvest_admin  # noqa: F401
from libraries.models import Item, NetworkPage
from libraries.models.network import members_by_district
from libraries.network import admin as network_admin  # noqa: F401
from libraries.network.audit import ExportFormatter, change_formatter

# The audit log's actions (libraries/network/audit.py), each with its label (the site history's
# "Action" filter) and the words its message starts with, before the changed values.
CHANGE_ACTIONS = {
    "libraries.library.create": (_("Create library"), _("Library created")),
    "libraries.library.edit": (_("Edit library"), _("Library changed")),
    "libraries.library.delete": (_("Delete library"), _("Library deleted")),
    "libraries.membership.create": (_("Grant role"), _("Role granted")),
    "libraries.membership.edit": (_("Change role"), _("Role changed")),
    "libraries.membership.delete": (_("Remove role"), _("Role removed")),
    "libraries.join_request.approve": (_("Approve join request"), _("Join request approved")),
    "libraries.join_request.reject": (_("Reject join request"), _("Join request rejected")),
    "libraries.invitation.create": (_("Invite member"), _("Invitation sent")),
    "libraries.invitation.resend": (_("Resend invitation"), _("Invitation sent again")),
    "libraries.invitation.revoke": (_("Withdraw invitation"), _("Invitation withdrawn")),
    "libraries.card.create": (_("Issue reader card"), _("Reader card issued")),
    "libraries.card.renew": (_("Renew reader card"), _("Reader card renewed")),
    "libraries.card.block": (_("Block reader card"), _("Reader card blocked")),
    "libraries.card.unblock": (_("Unblock reader card"), _("Reader card unblocked")),
    "libraries.card.link": (_("Link reader card to an account"), _("Reader card linked")),
    "libraries.card_application.approve": (
        _("Approve card application"),
        _("Card application approved"),
    ),
    "libraries.card_application.reject": (
        _("Reject card application"),
        _("Card application rejected"),
    ),
    "libraries.record.create": (_("Create record"), _("Record created")),
    "libraries.record.edit": (_("Edit record"), _("Record changed")),
    "libraries.record.delete": (_("Delete record"), _("Record deleted")),
    ITEM_CREATE_ACTION: (_("Add item"), _("Item added")),
    ITEM_EDIT_ACTION: (_("Edit item"), _("Item changed")),
    "libraries.item.delete": (_("Delete item"), _("Item deleted")),
    "libraries.shelf.create": (_("Create shelf"), _("Shelf created")),
    "libraries.shelf.edit": (_("Edit shelf"), _("Shelf changed")),
    "libraries.shelf.delete": (_("Delete shelf"), _("Shelf deleted")),
    "libraries.rule.create": (_("Create circulation rule"), _("Circulation rule created")),
    "libraries.rule.edit": (_("Edit circulation rule"), _("Circulation rule changed")),
    "libraries.rule.delete": (_("Delete circulation rule"), _("Circulation rule deleted")),
    "libraries.notice.create": (_("Create reader notice"), _("Reader notice created")),
    "libraries.notice.edit": (_("Edit reader notice"), _("Reader notice changed")),
    "libraries.notice.delete": (_("Delete reader notice"), _("Reader notice deleted")),
    "libraries.hold.cancel": (_("Cancel a reader's hold"), _("Hold cancelled by staff")),
    "libraries.marc_import": (_("Import a MARC file"), _("MARC file imported")),
    "libraries.digital_file.create": (_("Add e-book or document"), _("E-book or document added")),
    "libraries.digital_file.edit": (
        _("Edit e-book or document"),
        _("E-book or document changed"),
    ),
    "libraries.digital_file.delete": (
        _("Delete e-book or document"),
        _("E-book or document deleted"),
    ),
}


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

    for action, (label, verb) in CHANGE_ACTIONS.items():
        actions.register_action(action)(change_formatter(label, verb))
    actions.register_action("libraries.export")(ExportFormatter)
