"""The admin chooser for H5P packages. Kept apart from admin_h5p (forms, services) so the
lesson blocks can import it while models are still loading."""

from django.utils.translation import gettext_lazy as _
from wagtail.admin.viewsets.chooser import ChooserViewSet


class H5PPackageChooserViewSet(ChooserViewSet):
    model = "courses.H5PPackage"
    icon = "media"
    choose_one_text = _("Choose an H5P activity")
    choose_another_text = _("Choose another H5P activity")
    edit_item_text = _("Edit this H5P activity")
    url_prefix = "h5p-chooser"
    name = "h5p_chooser"


h5p_chooser_viewset = H5PPackageChooserViewSet()
