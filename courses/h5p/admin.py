"""Wagtail admin for H5P packages: upload (validated by the same service as import_h5p),
listing, a preview that plays the package, delete; and the chooser used by the H5P block.

Who may do what comes from the Django permissions courses.{view,add,change,delete}_h5ppackage,
granted per role in libraries/access.py (H5P packages are network-wide content).
"""

from django import forms
from django.contrib import messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from wagtail import hooks
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.views import generic
from wagtail.admin.viewsets.model import ModelViewSet

from courses.h5p.storage import MissingLibrariesError, install_package, missing_libraries
from courses.h5p.validation import H5PValidationError, validate_package
from courses.models import H5PPackage
from courses.models.blocks import h5p_chooser_viewset


class H5PUploadForm(WagtailAdminModelForm):
    """Title (optional: h5p.json's title by default) and the .h5p file, checked in clean()."""

    file = forms.FileField(
        label=_("H5P file"),
        help_text=_("An .h5p file exported from H5P (h5p.org, Lumi, Moodle, WordPress…)."),
        widget=forms.ClearableFileInput(attrs={"accept": ".h5p"}),
    )

    class Meta:
        model = H5PPackage
        fields = ["title"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["title"].required = False
        self.fields["title"].help_text = _("Leave empty to use the title inside the package.")
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


class H5PEditForm(WagtailAdminModelForm):
    class Meta:
        model = H5PPackage
        fields = ["title"]


class H5PCreateView(generic.CreateView):
    def save_instance(self):
        return install_package(
            self.form.validated,
            title=self.form.cleaned_data.get("title") or None,
            uploaded_by=self.request.user,
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
        except H5PValidationError as exc:  # e.g. a library removed since clean()
            form.add_error("file", exc.message)
            self.produced_error_message = self.get_error_message()
            return self.form_invalid(form)


class H5PInspectView(generic.InspectView):
    template_name = "courses/h5p/admin_inspect.html"

    def get_fields(self):
        return ["title", "main_library", "file_size", "uploaded_by", "created_at"]


class H5PPackageViewSet(ModelViewSet):
    model = H5PPackage
    icon = "media"
    menu_label = _("H5P activities")
    menu_order = 250
    add_to_admin_menu = True
    url_prefix = "h5p"
    name = "h5p_packages"
    list_display = ["title", "main_library", "uploaded_by", "created_at"]
    list_filter: list = []
    add_view_class = H5PCreateView
    inspect_view_enabled = True
    inspect_view_class = H5PInspectView
    form_fields = ["title"]

    def get_form_class(self, for_update=False):
        return H5PEditForm if for_update else H5PUploadForm

    def get_queryset(self, request):
        return H5PPackage.objects.select_related("main_library", "uploaded_by")


h5p_package_viewset = H5PPackageViewSet()


@hooks.register("register_admin_viewset")
def register_h5p_viewsets():
    return [h5p_package_viewset, h5p_chooser_viewset]
