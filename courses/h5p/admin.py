"""Wagtail admin for H5P packages: upload (validated by the same service as import_h5p),
listing, a preview that plays the package, delete; and the chooser used by the H5P block.

The Django permissions courses.{view,add,change,delete}_h5ppackage (libraries/access.py) open
the screens; each package belongs to a library, and courses/h5p/access.py decides which
packages a user sees (listing, preview) and manages (edit, delete). Outside that scope a
package is not found (404), even one the user sees but may not change (the Wagtail admin
would turn a refusal into a redirect home). An upload that would add or upgrade library code
is refused unless the uploader may install libraries (network admins), naming the library.
Upload, edit and delete go through courses/h5p/storage.py, which writes the staff audit log.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from wagtail import hooks
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.views import generic
from wagtail.admin.views.generic.history import HistoryView
from wagtail.admin.views.generic.usage import UsageView
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.permission_policies.base import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy

from courses.h5p.access import (
    can_manage_package,
    manages_all_packages,
    owner_libraries_for,
    packages_managed_by,
    packages_visible_to,
)
from courses.h5p.storage import (
    MissingLibrariesError,
    PackageOwnerRefused,
    check_may_install,
    delete_package,
    install_package,
    missing_libraries,
    retitle_package,
)
from courses.h5p.validation import H5PValidationError, validate_package
from courses.models import H5PPackage
from courses.models.blocks import h5p_chooser_viewset


class H5PPackagePermissionPolicy(ModelPermissionPolicy):
    """Model permissions from the roles, narrowed to the packages a user sees or manages."""

    def user_has_permission_for_instance(self, user, action, instance):
        if not self.user_has_permission(user, action):
            return False
        if action in ("change", "delete"):
            return can_manage_package(user, instance)
        return packages_visible_to(user).filter(pk=instance.pk).exists()

    def instances_user_has_permission_for(self, user, action):
        if not self.user_has_permission(user, action):
            return H5PPackage.objects.none()
        if action in ("change", "delete"):
            return packages_managed_by(user)
        return packages_visible_to(user)


register_permission_policy(H5PPackage, H5PPackagePermissionPolicy(H5PPackage))


class H5PUploadForm(WagtailAdminModelForm):
    """Title (optional: h5p.json's title by default), the owner library and the .h5p file,
    checked in clean()."""

    file = forms.FileField(
        label=_("H5P file"),
        help_text=_("An .h5p file exported from H5P (h5p.org, Lumi, Moodle, WordPress…)."),
        widget=forms.ClearableFileInput(attrs={"accept": ".h5p"}),
    )

    class Meta:
        model = H5PPackage
        fields = ["title", "library"]

    def __init__(self, *args, for_user=None, **kwargs):
        super().__init__(*args, for_user=for_user, **kwargs)
        self.user = for_user
        self.fields["title"].required = False
        self.fields["title"].help_text = _("Leave empty to use the title inside the package.")
        owners = owner_libraries_for(for_user)
        library = self.fields["library"]
        library.queryset = owners
        library.help_text = _("Its administrators manage the activity (edit, delete).")
        if for_user is not None and manages_all_packages(for_user):
            library.required = False
            library.empty_label = _("The whole network (network administrators)")
        else:
            library.required = True
            library.empty_label = None
            first = owners.first()
            if first is not None:
                library.initial = first.pk
        self.validated = None

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("file")
        if upload is None:
            return cleaned
        try:
            self.validated = validate_package(upload)
        except H5PValidationError as exc:
            self.add_error("file", exc.message)
            return cleaned
        missing = missing_libraries(self.validated)
        if missing:
            self.add_error("file", MissingLibrariesError(missing).message)
            return cleaned
        try:
            check_may_install(self.validated, by=self.user)
        except H5PValidationError as exc:
            self.add_error("file", exc.message)
        return cleaned


class H5PEditForm(WagtailAdminModelForm):
    class Meta:
        model = H5PPackage
        fields = ["title"]


class ScopedPackageMixin:
    """The package of the URL only among those the user sees or, for a view that changes it,
    manages: any other is not found (404), whether or not it exists."""

    manages = False

    def get_object(self, *args, **kwargs):
        package = super().get_object(*args, **kwargs)
        user = self.request.user
        scope = packages_managed_by(user) if self.manages else packages_visible_to(user)
        if not scope.filter(pk=package.pk).exists():
            raise Http404
        return package


class ManageButtonsMixin:
    """Edit and delete buttons only on the packages the user manages."""

    def get_edit_url(self, instance=None):
        package = self.object if instance is None else instance
        if not can_manage_package(self.request.user, package):
            return None
        return super().get_edit_url(*([] if instance is None else [instance]))

    def get_delete_url(self, instance=None):
        package = self.object if instance is None else instance
        if not can_manage_package(self.request.user, package):
            return None
        return super().get_delete_url(*([] if instance is None else [instance]))


class H5PIndexView(ManageButtonsMixin, generic.IndexView):
    def get_base_queryset(self):
        return packages_visible_to(self.request.user).select_related(
            "main_library", "uploaded_by", "library"
        )


class H5PCreateView(generic.CreateView):
    def save_instance(self):
        return install_package(
            self.form.validated,
            by=self.request.user,
            library=self.form.cleaned_data.get("library"),
            title=self.form.cleaned_data.get("title") or None,
        )

    def save_action(self):
        response = super().save_action()
        count = len(self.form.validated.warnings)
        if count:
            messages.warning(
                self.request,
                ngettext(
                    "H5P accepted the package with %(count)d remark (ignored files, or content "
                    "that differs from its library's description); check the preview.",
                    "H5P accepted the package with %(count)d remarks (ignored files, or content "
                    "that differs from its library's description); check the preview.",
                    count,
                )
                % {"count": count},
            )
        return response

    def form_valid(self, form):
        try:
            return super().form_valid(form)
        except H5PValidationError as exc:  # e.g. a library removed or installed since clean()
            form.add_error("file", exc.message)
            self.produced_error_message = self.get_error_message()
            return self.form_invalid(form)


class H5PEditView(ScopedPackageMixin, generic.EditView):
    """Saved by the storage service, which writes the audit entry (courses.h5p.edit, with the
    owner library) instead of Wagtail's generic wagtail.edit."""

    manages = True

    def save_instance(self):
        try:
            return retitle_package(
                package=self.object, title=self.form.cleaned_data["title"], by=self.request.user
            )
        except PackageOwnerRefused:
            raise PermissionDenied


class H5PDeleteView(ScopedPackageMixin, generic.DeleteView):
    """Deleted by the storage service, which writes the audit entry (courses.h5p.delete, with
    the owner library) instead of Wagtail's generic wagtail.delete."""

    manages = True

    def delete_action(self):
        try:
            delete_package(self.object, by=self.request.user)
        except PackageOwnerRefused:
            raise PermissionDenied


class H5PInspectView(ScopedPackageMixin, ManageButtonsMixin, generic.InspectView):
    template_name = "courses/h5p/admin_inspect.html"

    def get_fields(self):
        return ["title", "main_library", "library", "file_size", "uploaded_by", "created_at"]


class H5PHistoryView(ScopedPackageMixin, HistoryView):
    pass


class H5PUsageView(ScopedPackageMixin, UsageView):
    pass


class H5PPackageViewSet(ModelViewSet):
    model = H5PPackage
    icon = "media"
    menu_label = _("H5P activities")
    menu_order = 250
    add_to_admin_menu = True
    url_prefix = "h5p"
    name = "h5p_packages"
    list_display = ["title", "main_library", "library", "uploaded_by", "created_at"]
    list_filter: list = []
    index_view_class = H5PIndexView
    add_view_class = H5PCreateView
    edit_view_class = H5PEditView
    delete_view_class = H5PDeleteView
    history_view_class = H5PHistoryView
    usage_view_class = H5PUsageView
    inspect_view_enabled = True
    inspect_view_class = H5PInspectView
    copy_view_enabled = False
    form_fields = ["title"]

    def get_form_class(self, for_update=False):
        return H5PEditForm if for_update else H5PUploadForm


h5p_package_viewset = H5PPackageViewSet()


@hooks.register("register_admin_viewset")
def register_h5p_viewsets():
    return [h5p_package_viewset, h5p_chooser_viewset]
