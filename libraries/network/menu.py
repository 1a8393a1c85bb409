"""Admin menu items shared by the areas whose screens open to every staff member."""

from wagtail.admin.menu import MenuItem

from libraries import access


class StaffMenuItem(MenuItem):
    """Shown to librarians and admins (and superusers), the people who work the screens."""

    def is_shown(self, request):
        return access.is_staff_member(request.user)
