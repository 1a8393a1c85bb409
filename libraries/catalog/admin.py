"""Catalog screens in the Wagtail admin: records, items, MARC import, barcode labels.

Who may do what:
* Records are shared by the whole network. Every staff member (librarian and up) sees and
  edits all records (a school librarian fixing a typo helps every school); only
  administrators delete them, and a record with items cannot be deleted.
* Items belong to a library. Staff see and change only items of libraries they reach
  (libraries/access.py), and may only choose those libraries as the owning library.
* Shelves belong to a library; staff keep the shelves of the libraries they reach, and an
  item's shelf is one of its owning library's.
* Several items are changed at once (status, location, item type, shelf) from the item list:
  all selected items must be within reach or nothing changes; each change is logged.
* MARC imports go into a library the user reaches; label sheets only print reachable items.
  The uploaded file is checked before anything is written, kept under a generated name in
  private storage (never under /media/) and deleted once its job has run.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import ProtectedError, Q
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.http import urlencode
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.defaults import permission_denied
from wagtail import hooks
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.ui.menus import MenuItem as UIMenuItem
from wagtail.admin.ui.tables import BulkActionsCheckboxColumn
from wagtail.admin.utils import get_valid_next_url_from_request
from wagtail.admin.views import generic
from wagtail.admin.views.bulk_action import BulkAction
from wagtail.admin.views.generic.history import HistoryView
from wagtail.admin.viewsets.base import ViewSetGroup
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets.button import HeaderButton
from wagtail.permission_policies.base import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy

from libraries import access
from libraries.catalog.labels import LAYOUTS, render_labels
from libraries.catalog.marc import HEAD_BYTES, MarcFileRefused, detect_format
from libraries.catalog.search import Query, search_records
from libraries.catalog.services import (
    HAND_SET_STATUSES,
    MAX_BULK_ITEMS,
    CatalogError,
    bulk_update_items,
    save_item,
    touch_records,
)
from libraries.catalog.tasks import enqueue_import
from libraries.models import Item, Library, MarcImportJob, Record, Shelf
from libraries.models.catalog import DESCRIPTIVE_FIELDS
from libraries.network.audit import (
    AuditedCreateMixin,
    AuditedDeleteMixin,
    AuditedEditMixin,
    AuditedHistoryMixin,
    staff_library_of,
)
from libraries.network.menu import StaffViewSet
from training_site.text import normalise_isbn

MAX_UPLOAD_BYTES = 200 * 1024 * 1024
MAX_LABELS = 2000


# --------------------------------------------------------------------------- records


class RecordForm(WagtailAdminModelForm):
    def clean_isbn(self):
        value = (self.cleaned_data.get("isbn") or "").strip()
        if not value:
            return ""
        isbn13 = normalise_isbn(value)
        if not isbn13:
            raise ValidationError(_("This is not a valid ISBN-10 or ISBN-13 (check the digits)."))
        return isbn13

    class Meta:
        model = Record
        fields = [*DESCRIPTIVE_FIELDS, "cover"]
        widgets = {"isbn": forms.TextInput(attrs={"maxlength": 17})}


class FoldedSearchMixin:
    """Admin listing search through the catalog's accent-insensitive search."""

    def search_queryset(self, queryset):
        if not self.is_searching:
            return queryset
        return self.filter_by_search(queryset, self.search_query)


class RecordIndexView(FoldedSearchMixin, generic.IndexView):
    def filter_by_search(self, queryset, text):
        return queryset.filter(pk__in=search_records(Query(text=text)).values("pk"))


class RecordPermissionPolicy(ModelPermissionPolicy):
    def user_has_permission_for_instance(self, user, action, instance):
        if action == "delete" and instance.items.exists():
            return False
        return self.user_has_permission(user, action)


class AuditedRecord:
    """Records are the network's: an entry is read by the staff of the library the editor
    works for (and those above it), and by network admins."""

    audit_action_prefix = "libraries.record"
    audit_fields = (*DESCRIPTIVE_FIELDS, "cover")

    def audit_library(self, instance):
        return staff_library_of(self.request.user)


class RecordCreateView(AuditedRecord, AuditedCreateMixin, generic.CreateView):
    pass


class RecordEditView(AuditedRecord, AuditedEditMixin, generic.EditView):
    pass


class RecordDeleteView(AuditedRecord, AuditedDeleteMixin, generic.DeleteView):
    pass


class RecordHistoryView(AuditedHistoryMixin, HistoryView):
    pass


class RecordViewSet(ModelViewSet):
    model = Record
    icon = "doc-full"
    menu_label = _("Records")
    form_class = RecordForm
    index_view_class = RecordIndexView
    add_view_class = RecordCreateView
    edit_view_class = RecordEditView
    delete_view_class = RecordDeleteView
    history_view_class = RecordHistoryView
    list_display = ["title", "authors", "year", "isbn", "call_number"]
    search_fields = ["title"]
    list_filter = ["language"]
    ordering = ["-pk"]

    def get_form_class(self, for_update=False):
        return RecordForm


# --------------------------------------------------------------------------- items


class ItemPermissionPolicy(ModelPermissionPolicy):
    """Model permissions from the roles, narrowed to items of libraries the user reaches."""

    def user_has_permission_for_instance(self, user, action, instance):
        return self.user_has_permission(user, action) and access.reaches(user, instance.library)

    def instances_user_has_permission_for(self, user, action):
        if not self.user_has_permission(user, action):
            return Item.objects.none()
        return Item.objects.filter(access.library_filter(user, "library"))


register_permission_policy(Record, RecordPermissionPolicy(Record))
register_permission_policy(Item, ItemPermissionPolicy(Item))


class ItemForm(WagtailAdminModelForm):
    barcode = forms.CharField(
        label=_("barcode"),
        max_length=32,
        required=False,
        help_text=_("Leave empty to give the copy the library's next barcode."),
    )

    class Meta:
        model = Item
        fields = [
            "record",
            "library",
            "location",
            "barcode",
            "call_number",
            "shelf",
            "item_type",
            "status",
            "acquired_on",
            "price",
            "notes",
        ]
        widgets = {"record": forms.NumberInput(attrs={"min": 1})}
        help_texts = {"record": _("Number of the bibliographic record (shown in Records).")}

    def __init__(self, *args, for_user=None, **kwargs):
        super().__init__(*args, for_user=for_user, **kwargs)
        self.user = for_user
        reachable = access.libraries_visible_to(for_user) if for_user else Library.objects.none()
        self.fields["library"].queryset = reachable.filter(is_active=True).order_by("name")
        self.fields["location"].queryset = Library.objects.active().order_by("name")
        self.fields["location"].required = False
        self.fields["record"].widget = forms.NumberInput(attrs={"min": 1})
        self.fields["shelf"].queryset = shelves_within_reach(for_user)
        self.fields["shelf"].label_from_instance = shelf_label

    def clean_barcode(self):
        return (self.cleaned_data.get("barcode") or "").strip().upper()

    def save(self, commit=True):
        item = super().save(commit=False)
        if commit:
            try:
                save_item(item, by=self.user)
            except CatalogError as exc:
                raise PermissionDenied(exc.message) from exc
        return item

    def _post_clean(self):
        super()._post_clean()
        barcode = self.cleaned_data.get("barcode")
        if barcode:
            clash = Item.objects.filter(barcode=barcode).exclude(pk=self.instance.pk)
            if clash.exists():
                self.add_error("barcode", _("This barcode is already used in the network."))


def shelves_within_reach(user):
    if user is None:
        return Shelf.objects.none()
    return Shelf.objects.filter(access.library_filter(user, "library")).select_related("library")


def shelf_label(shelf: Shelf) -> str:
    return f"{shelf} ({shelf.library.code})"


def items_within_reach(user):
    return Item.objects.filter(access.library_filter(user, "library"))


class ScopedItemsMixin:
    def get_base_queryset(self):
        return (
            items_within_reach(self.request.user)
            .select_related("record", "library", "location", "shelf")
            .order_by("-pk")
        )


class ItemIndexView(ScopedItemsMixin, FoldedSearchMixin, generic.IndexView):
    """The items within reach, with checkboxes for the bulk actions (change, print labels)."""

    @cached_property
    def columns(self):
        return [BulkActionsCheckboxColumn("bulk_actions", obj_type="item"), *super().columns]

    def _get_title_column(self, *args, **kwargs):
        return super()._get_title_column(
            *args, **kwargs, get_title_id=lambda instance: f"item_{instance.pk}_title"
        )

    @cached_property
    def header_buttons(self):
        return [
            *super().header_buttons,
            HeaderButton(
                _("Print labels"), url=reverse("catalog_labels:print"), icon_name="clipboard-list"
            ),
        ]

    def get_list_more_buttons(self, instance):
        label_url = reverse("catalog_labels:print") + f"?item={instance.pk}"
        return [
            *super().get_list_more_buttons(instance),
            UIMenuItem(_("Print label"), url=label_url, icon_name="clipboard-list", priority=50),
        ]

    def filter_by_search(self, queryset, text):
        return queryset.filter(
            Q(barcode__iexact=text.strip())
            | Q(record__in=search_records(Query(text=text)).values("pk"))
        )


class ScopedObjectMixin:
    def get_object(self, queryset=None):
        obj = super().get_object(queryset)
        if not access.reaches(self.request.user, obj.library):
            raise PermissionDenied
        return obj


class AuditedItem:
    """Items are created and changed through catalog/services.py save_item, which logs the
    change (every path, not only this screen); deleting is logged here."""

    audit_action_prefix = "libraries.item"
    audit_logged_by_service = True


class ItemCreateView(AuditedItem, AuditedCreateMixin, generic.CreateView):
    pass


class ItemEditView(AuditedItem, AuditedEditMixin, ScopedObjectMixin, generic.EditView):
    pass


class ItemDeleteView(AuditedDeleteMixin, ScopedObjectMixin, generic.DeleteView):
    audit_action_prefix = "libraries.item"

    def delete_action(self):
        record_id = self.object.record_id
        super().delete_action()
        touch_records([record_id])  # harvesters asking for changes see the copy gone


class ItemHistoryView(AuditedHistoryMixin, HistoryView):
    def get_base_object_queryset(self):
        return items_within_reach(self.request.user)


class ItemViewSet(ModelViewSet):
    model = Item
    icon = "tag"
    menu_label = _("Items")
    form_class = ItemForm
    index_view_class = ItemIndexView
    index_template_name = "libraries/catalog/admin/item_index.html"
    add_view_class = ItemCreateView
    edit_view_class = ItemEditView
    delete_view_class = ItemDeleteView
    history_view_class = ItemHistoryView
    list_display = ["barcode", "record", "library", "status", "call_number", "shelf"]
    list_filter = ["status", "item_type"]
    search_fields = ["barcode"]
    copy_view_enabled = False
    inspect_view_enabled = False

    def get_form_class(self, for_update=False):
        return ItemForm


# --------------------------------------------------------------------------- bulk actions


def selected_items(request):
    """The items a bulk action's link names (`id`, or `id=all` for every item within reach),
    all of them within the user's reach: one out of reach, or unknown, refuses the whole
    selection (PermissionDenied), so a forged id never changes anything."""
    if not request.user.has_perm("libraries.change_item"):
        raise PermissionDenied
    within_reach = items_within_reach(request.user).select_related("record", "library", "shelf")
    wanted = request.GET.getlist("id")
    if "all" in wanted:
        return list(within_reach.order_by("pk")[: MAX_BULK_ITEMS + 1])
    if not all(value.isdigit() for value in wanted):
        raise PermissionDenied
    ids = {int(value) for value in wanted}
    items = list(within_reach.filter(pk__in=ids).order_by("pk"))
    if len(items) != len(ids):
        raise PermissionDenied
    return items


class ItemBulkAction(BulkAction):
    """A bulk action on the item list; refusals answer 403 instead of Wagtail's redirect."""

    models = [Item]

    def __init__(self, request, model):
        super().__init__(request, model)
        if not get_valid_next_url_from_request(request):
            self.next_url = reverse("catalog_items:index")

    def dispatch(self, request, *args, **kwargs):
        try:
            return super().dispatch(request, *args, **kwargs)
        except PermissionDenied as error:
            return permission_denied(request, error)

    @cached_property
    def selection(self) -> list:
        return selected_items(self.request)

    def get_actionable_objects(self):
        return self.selection, {"items_with_no_access": []}


UNCHANGED = ""
NO_SHELF = "none"


class BulkItemForm(forms.Form):
    """What to change on every selected item; blank fields stay as they are."""

    status = forms.ChoiceField(label=_("Status"), required=False)
    location = forms.ModelChoiceField(
        label=_("Current location"), queryset=Library.objects.none(), required=False
    )
    item_type = forms.ChoiceField(label=_("Item type"), required=False)
    shelf = forms.ChoiceField(label=_("Shelf"), required=False)

    def __init__(self, *args, items, **kwargs):
        super().__init__(*args, **kwargs)
        unchanged = (UNCHANGED, _("Leave unchanged"))
        statuses = dict(Item.Status.choices)
        self.fields["status"].choices = [unchanged] + [(s, statuses[s]) for s in HAND_SET_STATUSES]
        self.fields["location"].queryset = Library.objects.active().order_by("name")
        self.fields["location"].empty_label = _("Leave unchanged")
        self.fields["item_type"].choices = [unchanged, *Item.Type.choices]
        libraries = {item.library_id for item in items}
        self.shelves = {
            str(shelf.pk): shelf
            for shelf in Shelf.objects.filter(library_id__in=libraries).select_related("library")
        }
        self.fields["shelf"].choices = [
            unchanged,
            (NO_SHELF, _("No shelf")),
            *((pk, shelf_label(shelf)) for pk, shelf in self.shelves.items()),
        ]

    def changes(self) -> dict:
        data, changes = self.cleaned_data, {}
        for name in ("status", "item_type"):
            if data.get(name):
                changes[name] = data[name]
        if data.get("location"):
            changes["location"] = data["location"]
        shelf = data.get("shelf")
        if shelf == NO_SHELF:
            changes["shelf"] = None
        elif shelf:
            changes["shelf"] = self.shelves[shelf]
        return changes

    def clean(self):
        cleaned = super().clean()
        if not self.errors and not self.changes():
            raise ValidationError(_("Choose at least one change."))
        return cleaned


class ChangeItemsBulkAction(ItemBulkAction):
    display_name = _("Change")
    action_type = "change"
    aria_label = _("Change the selected items")
    template_name = "libraries/catalog/admin/bulk_change.html"
    action_priority = 10

    def get_form_class(self):
        return BulkItemForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "items": self.selection}

    def form_valid(self, form):
        try:
            changed = bulk_update_items(
                item_ids=[item.pk for item in self.selection],
                by=self.request.user,
                changes=form.changes(),
            )
        except CatalogError as error:
            form.add_error(None, error.message)
            return self.form_invalid(form)
        messages.success(
            self.request,
            ngettext("%(count)s item changed.", "%(count)s items changed.", len(changed))
            % {"count": len(changed)},
        )
        return redirect(self.next_url)


class PrintLabelsBulkAction(ItemBulkAction):
    display_name = _("Print labels")
    action_type = "print_labels"
    aria_label = _("Print labels for the selected items")
    action_priority = 20

    def get(self, request, *args, **kwargs):
        query = urlencode([("item", item.pk) for item in self.selection[:MAX_LABELS]])
        return redirect(reverse("catalog_labels:print") + "?" + query)

    def post(self, request, *args, **kwargs):
        return self.get(request, *args, **kwargs)


hooks.register("register_bulk_action", ChangeItemsBulkAction)
hooks.register("register_bulk_action", PrintLabelsBulkAction)


# --------------------------------------------------------------------------- shelves


class ShelfForm(WagtailAdminModelForm):
    class Meta:
        model = Shelf
        fields = ["library", "code", "name"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["library"].queryset = (
            access.libraries_visible_to(self.for_user).filter(is_active=True).order_by("name")
        )

    def clean_code(self):
        return " ".join((self.cleaned_data.get("code") or "").split()).upper()


class ScopedShelves:
    def get_base_queryset(self):
        return Shelf.objects.filter(
            access.library_filter(self.request.user, "library")
        ).select_related("library")

    def get_queryset(self):
        return self.get_base_queryset()

    def get_base_object_queryset(self):
        return self.get_base_queryset()


class AuditedShelf:
    audit_action_prefix = "libraries.shelf"


class ShelfIndexView(ScopedShelves, generic.IndexView):
    pass


class ShelfCreateView(AuditedShelf, AuditedCreateMixin, generic.CreateView):
    pass


class ShelfEditView(AuditedShelf, AuditedEditMixin, ScopedShelves, generic.EditView):
    pass


class ShelfHistoryView(AuditedHistoryMixin, HistoryView):
    def get_base_object_queryset(self):
        return Shelf.objects.filter(access.library_filter(self.request.user, "library"))


class ShelfDeleteView(AuditedShelf, AuditedDeleteMixin, ScopedShelves, generic.DeleteView):
    def form_valid(self, form):
        try:
            return super().form_valid(form)
        except ProtectedError:
            messages.error(
                self.request,
                gettext("This shelf has stocktakes: it is kept for their reports."),
            )
            return redirect(self.index_url_name)


class ShelfViewSet(ModelViewSet):
    model = Shelf
    icon = "table"
    menu_label = _("Shelves")
    form_class = ShelfForm
    index_view_class = ShelfIndexView
    add_view_class = ShelfCreateView
    edit_view_class = ShelfEditView
    delete_view_class = ShelfDeleteView
    history_view_class = ShelfHistoryView
    list_display = ["code", "name", "library"]
    search_fields = ["code", "name"]
    ordering = ["library__code", "code"]
    copy_view_enabled = False
    inspect_view_enabled = False

    def get_form_class(self, for_update=False):
        return ShelfForm


# --------------------------------------------------------------------------- MARC import


def _require_staff(request):
    if not access.is_staff_member(request.user):
        raise PermissionDenied


class MarcUploadForm(forms.Form):
    file = forms.FileField(label=_("MARC file"), help_text=_("Binary MARC21 (.mrc) or MARCXML."))
    library = forms.ModelChoiceField(label=_("Library"), queryset=Library.objects.none())
    file_format = forms.ChoiceField(
        label=_("Format"),
        choices=[("", _("Detect from the file"))] + list(MarcImportJob.Format.choices),
        required=False,
    )
    encoding = forms.CharField(
        label=_("Character set"),
        required=False,
        max_length=30,
        help_text=_(
            "Leave empty: UTF-8 or MARC-8 is decided per record. Give e.g. cp1251 for old files "
            "in a local code page."
        ),
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["library"].queryset = (
            access.libraries_visible_to(user).filter(is_active=True).order_by("name")
        )

    def clean_encoding(self):
        value = (self.cleaned_data.get("encoding") or "").strip()
        if value:
            try:
                "".encode(value)
            except LookupError:
                raise ValidationError(_("Unknown character set."))
        return value

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise ValidationError(_("The file is larger than 200 MB."))
        head = upload.read(HEAD_BYTES)
        upload.seek(0)
        try:
            self.detected_format = detect_format(head)
        except MarcFileRefused as exc:
            raise ValidationError(str(exc))
        return upload

    def clean(self):
        data = super().clean()
        chosen = data.get("file_format")
        detected = getattr(self, "detected_format", None)
        if chosen and detected and chosen != detected:
            self.add_error("file_format", _("The file does not look like this format."))
        return data


def marc_upload(request):
    _require_staff(request)
    form = MarcUploadForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        job = MarcImportJob(
            library=form.cleaned_data["library"],
            uploaded_by=request.user,
            original_name=upload.name[:255],
            file_format=form.cleaned_data["file_format"] or form.detected_format,
            encoding=form.cleaned_data["encoding"],
        )
        job.file.save(upload.name, upload, save=False)  # stored as marc_import_name says
        try:
            job.save()
        except Exception:
            job.file.delete(save=False)
            raise
        enqueue_import(job)
        return redirect("catalog_marc:job", pk=job.pk)
    jobs = MarcImportJob.objects.filter(access.library_filter(request.user, "library"))
    return TemplateResponse(
        request,
        "libraries/catalog/admin/marc_upload.html",
        {"form": form, "jobs": jobs.select_related("library")[:20]},
    )


def _job_for(request, pk):
    _require_staff(request)
    return get_object_or_404(
        MarcImportJob.objects.filter(access.library_filter(request.user, "library")).select_related(
            "library"
        ),
        pk=pk,
    )


def marc_job(request, pk):
    return TemplateResponse(
        request, "libraries/catalog/admin/marc_job.html", {"job": _job_for(request, pk)}
    )


def marc_job_status(request, pk):
    job = _job_for(request, pk)
    return JsonResponse(
        {
            "status": job.status,
            "status_label": str(job.get_status_display()),
            "progress": job.progress,
            "created": job.created_count,
            "updated": job.updated_count,
            "failed": job.failed_count,
            "items": job.items_count,
            "finished": job.status in (MarcImportJob.Status.DONE, MarcImportJob.Status.FAILED),
        }
    )


class MarcImportViewSet(StaffViewSet):
    name = "catalog_marc"
    icon = "upload"
    menu_label = _("Import MARC")

    def get_urlpatterns(self):
        return [
            path("", marc_upload, name="upload"),
            path("<int:pk>/", marc_job, name="job"),
            path("<int:pk>/status/", marc_job_status, name="status"),
        ]


# --------------------------------------------------------------------------- labels


class LabelForm(forms.Form):
    barcodes = forms.CharField(
        label=_("Barcodes"),
        widget=forms.Textarea(attrs={"rows": 8, "autofocus": True}),
        help_text=_("Scan or type one barcode per line."),
    )
    layout = forms.ChoiceField(
        label=_("Label sheet"), choices=[(k, v.label) for k, v in LAYOUTS.items()]
    )
    start_at = forms.IntegerField(
        label=_("Start at label"),
        min_value=1,
        initial=1,
        help_text=_("Skip labels already used on the first sheet (1 = top left)."),
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_barcodes(self):
        codes = list(
            dict.fromkeys(
                line.strip().upper()
                for line in self.cleaned_data["barcodes"].split()
                if line.strip()
            )
        )
        if not codes:
            raise ValidationError(_("Give at least one barcode."))
        if len(codes) > MAX_LABELS:
            raise ValidationError(_("At most 2000 labels at a time."))
        items = {
            i.barcode: i
            for i in Item.objects.filter(barcode__in=codes)
            .filter(access.library_filter(self.user, "library"))
            .select_related("record", "library", "shelf")
        }
        missing = [c for c in codes if c not in items]
        if missing:
            raise ValidationError(
                _("Not found among your library's items: %(codes)s")
                % {"codes": ", ".join(missing[:20])}
            )
        self.items = [items[c] for c in codes]
        return codes


class AddedTodayForm(forms.Form):
    """Fill the label form with the items added today at one library within reach."""

    added_today = forms.ModelChoiceField(
        label=_("Items added today at"), queryset=Library.objects.none(), empty_label=None
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["added_today"].queryset = (
            access.libraries_visible_to(user).filter(is_active=True).order_by("path")
        )


def items_added_today(user, library: Library):
    """Items of `library` (within the user's reach) created today, local time."""
    return items_within_reach(user).filter(library=library, created_at__date=timezone.localdate())


def print_labels(request):
    _require_staff(request)
    initial = {}
    today_form = AddedTodayForm(
        request.GET if "added_today" in request.GET else None, user=request.user
    )
    if request.method == "GET" and request.GET.getlist("item"):
        ids = [i for i in request.GET.getlist("item") if i.isdigit()]
        barcodes = Item.objects.filter(pk__in=ids).filter(
            access.library_filter(request.user, "library")
        )
        initial["barcodes"] = "\n".join(barcodes.order_by("pk").values_list("barcode", flat=True))
    elif request.method == "GET" and today_form.is_valid():
        library = today_form.cleaned_data["added_today"]
        barcodes = items_added_today(request.user, library).order_by("pk")
        initial["barcodes"] = "\n".join(barcodes.values_list("barcode", flat=True)[:MAX_LABELS])
        if not initial["barcodes"]:
            messages.info(
                request,
                gettext("No item was added today at %(library)s.") % {"library": library.name},
            )
    form = LabelForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        pdf = render_labels(
            form.items, layout=form.cleaned_data["layout"], start_at=form.cleaned_data["start_at"]
        )
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = 'inline; filename="labels.pdf"'
        return response
    return TemplateResponse(
        request, "libraries/catalog/admin/labels.html", {"form": form, "today_form": today_form}
    )


class LabelsViewSet(StaffViewSet):
    name = "catalog_labels"
    icon = "clipboard-list"
    menu_label = _("Print labels")

    def get_urlpatterns(self):
        return [path("", print_labels, name="print")]


class CatalogGroup(ViewSetGroup):
    menu_label = _("Catalog")
    menu_icon = "folder-open-inverse"
    menu_order = 250
    items = (RecordViewSet("catalog_records"), ItemViewSet("catalog_items"),
             ShelfViewSet("catalog_shelves"), MarcImportViewSet(), LabelsViewSet())  # fmt: skip


def marc_job_url(job: MarcImportJob) -> str:
    return reverse("catalog_marc:job", args=[job.pk])


@hooks.register("register_admin_viewset")
def register_catalog_admin():
    return CatalogGroup()
