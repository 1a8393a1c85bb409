"""Forms of the stocktake pages: start a stocktake, upload a file of barcodes."""

from django import forms
from django.utils.translation import gettext_lazy as _

from libraries.models import Shelf, Stocktake


class StocktakeForm(forms.ModelForm):
    """Count the whole library, the call numbers starting with a prefix, or one shelf."""

    class Meta:
        model = Stocktake
        fields = ["library", "shelf", "call_number_prefix"]

    def __init__(self, *args, libraries, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["library"].queryset = libraries
        self.fields["library"].empty_label = None
        shelves = Shelf.objects.filter(library__in=libraries).select_related("library")
        self.fields["shelf"].queryset = shelves
        self.fields["shelf"].label_from_instance = lambda shelf: f"{shelf} ({shelf.library.code})"
        self.fields["shelf"].empty_label = _("All shelves")

    def clean(self):
        cleaned = super().clean()
        library, shelf = cleaned.get("library"), cleaned.get("shelf")
        if shelf is not None and library is not None and shelf.library_id != library.pk:
            self.add_error("shelf", _("This shelf belongs to another library."))
        if shelf is not None and (cleaned.get("call_number_prefix") or "").strip():
            self.add_error(
                "call_number_prefix",
                _("Count either one shelf or a call-number prefix, not both."),
            )
        return cleaned


class BarcodeFileForm(forms.Form):
    file = forms.FileField(
        label=_("Text file of barcodes (one per line)"),
        help_text=_("From a portable scanner; at most 2 MB."),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > 2 * 1024 * 1024:
            raise forms.ValidationError(_("The file is larger than 2 MB."))
        raw = upload.read()
        if b"\x00" in raw:
            raise forms.ValidationError(_("This is not a text file."))
        for encoding in ("utf-8-sig", "cp1258", "latin-1"):
            try:
                text = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        codes = []
        for line in text.splitlines():
            code = line.strip().split(",")[0].split(";")[0].split("\t")[0].strip()
            if code:
                if len(code) > 64:
                    raise forms.ValidationError(_("A line is too long to be a barcode."))
                codes.append(code)
        if not codes:
            raise forms.ValidationError(_("The file contains no barcodes."))
        return codes
