"""Staff screens of the digital collection in the Wagtail admin: list, upload, edit, delete.

Staff (librarian and up) see and change the files of libraries they reach
(libraries/access.py) and upload only into those; administrators of the owning library
delete a file that was never lent. Several files go up at once: the file field takes many,
and files can be dropped on it (the browser's own input; no script needed). Each file is
validated before anything is written and reported on its own line: added (with the record it
was matched to, and how) or refused (with the reason).
"""

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin import messages

from libraries import access
from libraries.catalog.search import Query, search_records
from libraries.digital.services import DigitalError, add_file, change_file, delete_file
from libraries.digital.validation import max_upload
from libraries.models import DigitalFile, DigitalLoan, Library, Record
from libraries.network.menu import StaffViewSet

MAX_FILES = 50


def _require_staff(request):
    if not access.is_staff_member(request.user):
        raise PermissionDenied


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".epub,.pdf"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, (list, tuple)) else [data]
        files = [f for f in files if f]
        if not files:
            raise ValidationError(self.error_messages["required"], code="required")
        if len(files) > MAX_FILES:
            raise ValidationError(_("At most 50 files at a time."))
        return [super(MultipleFileField, self).clean(f, initial) for f in files]


class AccessFields(forms.Form):
    access_level = forms.ChoiceField(
        label=_("Access"), choices=DigitalFile.Access.choices, initial=DigitalFile.Access.LENDING
    )
    licences = forms.IntegerField(
        label=_("Licences"),
        min_value=0,
        max_value=1000,
        initial=1,
        required=False,
        help_text=_("How many readers may borrow it at the same time (lending only)."),
    )
    cardholder_libraries = forms.ModelMultipleChoiceField(
        label=_("Card holders of"),
        queryset=Library.objects.none(),
        required=False,
        help_text=_(
            "Only for “card holders of chosen libraries”: readers of these libraries "
            "and of the libraries below them."
        ),  # fmt: skip
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cardholder_libraries"].queryset = Library.objects.active().order_by("path")

    def clean(self):
        data = super().clean()
        level = data.get("access_level")
        if level == DigitalFile.Access.LENDING and not (data.get("licences") or 0) >= 1:
            self.add_error("licences", _("A lending file needs at least one licence."))
        if level == DigitalFile.Access.CARDHOLDERS and not data.get("cardholder_libraries"):
            self.add_error(
                "cardholder_libraries",
                _("Choose the libraries whose card holders may read this file."),
            )
        return data


class UploadForm(AccessFields):
    files = MultipleFileField(
        label=_("EPUB or PDF files"),
        help_text=_("Choose or drop several files. Each is checked before it is stored."),
    )
    library = forms.ModelChoiceField(label=_("Owning library"), queryset=Library.objects.none())
    field_order = ["files", "library", "access_level", "licences", "cardholder_libraries"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["library"].queryset = (
            access.libraries_visible_to(user).filter(is_active=True).order_by("name")
        )


class EditForm(AccessFields):
    record = forms.IntegerField(
        label=_("Catalog record number"),
        min_value=1,
        help_text=_("The record this file belongs to. Pick another from the list below."),
    )
    label = forms.CharField(label=_("Label"), max_length=200, required=False)
    field_order = ["record", "label", "access_level", "licences", "cardholder_libraries"]

    def clean_record(self):
        record = Record.objects.filter(pk=self.cleaned_data["record"]).first()
        if record is None:
            raise ValidationError(_("There is no record with this number."))
        return record


def file_list(request):
    _require_staff(request)
    files = (
        access.digital_files_managed_by(request.user)
        .select_related("record", "library")
        .order_by("-created_at")
    )
    query = request.GET.get("q", "").strip()
    if query:
        files = files.filter(record__in=search_records(Query(text=query)).values("pk"))
    files = list(files[:200])
    on_loan = dict(
        DigitalLoan.objects.open()
        .filter(file__in=files)
        .values("file_id")
        .annotate(n=Count("pk"))
        .values_list("file_id", "n")
    )
    for file in files:
        file.on_loan = on_loan.get(file.pk, 0)
    return TemplateResponse(
        request, "libraries/digital/admin/list.html", {"files": files, "query": query}
    )


def upload(request):
    _require_staff(request)
    form = UploadForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        added, refused = [], []
        for upload_file in data["files"]:
            try:
                result = add_file(
                    upload=upload_file,
                    name=upload_file.name,
                    library=data["library"],
                    by=request.user,
                    access_level=data["access_level"],
                    licences=data.get("licences") or 0,
                    cardholder_libraries=data.get("cardholder_libraries") or [],
                )
            except DigitalError as error:
                refused.append({"name": upload_file.name, "reason": error.message})
            else:
                added.append({"name": upload_file.name, "result": result})
        return TemplateResponse(
            request,
            "libraries/digital/admin/uploaded.html",
            {"added": added, "refused": refused, "library": data["library"]},
            status=200 if added or not refused else 400,
        )
    return TemplateResponse(
        request,
        "libraries/digital/admin/upload.html",
        {"form": form, "max_upload": max_upload()},
    )


def _managed_file(request, pk: int) -> DigitalFile:
    _require_staff(request)
    return get_object_or_404(
        access.digital_files_managed_by(request.user).select_related("record", "library"), pk=pk
    )


def edit(request, pk: int):
    file = _managed_file(request, pk)
    initial = {
        "record": file.record_id,
        "label": file.label,
        "access_level": file.access,
        "licences": file.licences,
        "cardholder_libraries": list(file.cardholder_libraries.all()),
    }
    form = EditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            change_file(
                file=file,
                by=request.user,
                record=data["record"],
                access_level=data["access_level"],
                licences=data.get("licences") or 0,
                cardholder_libraries=data.get("cardholder_libraries") or [],
                label=data.get("label") or "",
            )
        except DigitalError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("The file was saved."))
            return redirect("digital_files:edit", pk=file.pk)
    candidates = []
    title = (file.metadata or {}).get("title") or file.record.title
    if title:
        candidates = list(search_records(Query(text=title, field="title"))[:10])
    return TemplateResponse(
        request,
        "libraries/digital/admin/edit.html",
        {
            "file": file,
            "form": form,
            "candidates": candidates,
            "metadata": file.metadata or {},
            "on_loan": DigitalLoan.objects.open().filter(file=file).count(),
            "may_delete": access.can_administer(request.user, file.library),
        },
    )


def delete(request, pk: int):
    file = _managed_file(request, pk)
    if request.method == "POST":
        try:
            delete_file(file=file, by=request.user)
        except DigitalError as error:
            messages.error(request, error.message)
            return redirect("digital_files:edit", pk=file.pk)
        messages.success(request, _("The file was deleted."))
        return redirect("digital_files:list")
    return TemplateResponse(request, "libraries/digital/admin/delete.html", {"file": file})


class DigitalFilesViewSet(StaffViewSet):
    name = "digital_files"
    icon = "doc-full-inverse"
    menu_label = _("E-books and documents")
    add_to_admin_menu = True
    menu_order = 255

    def get_urlpatterns(self):
        return [
            path("", file_list, name="list"),
            path("upload/", upload, name="upload"),
            path("<int:pk>/", edit, name="edit"),
            path("<int:pk>/delete/", delete, name="delete"),
        ]


def edit_url(file: DigitalFile) -> str:
    return reverse("digital_files:edit", args=[file.pk])


@hooks.register("register_admin_viewset")
def register_digital_admin():
    return DigitalFilesViewSet()
