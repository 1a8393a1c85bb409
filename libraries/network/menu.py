"""Admin menu items and viewsets shared by the areas whose screens open to every staff member."""

from wagtail.admin.menu import MenuItem
from wagtail.admin.viewsets.base import ViewSet

from libraries import access


class StaffMenuItem(MenuItem):
    """Shown to librarians and admins (and superusers), the people who work the screens."""

    def is_shown(self, request):
        return access.is_staff_member(request.user)


class StaffViewSet(ViewSet):
    """A staff screen that is not a model listing (an upload form, a print form, a link)."""

    menu_item_class = StaffMenuItem
