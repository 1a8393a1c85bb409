"""Forms of the stocktake pages: start a stocktake, upload a file of barcodes."""

from django import forms
from django.utils.translation import gettext_lazy as _

from libraries.models import Stocktake


class StocktakeForm(forms.ModelForm):
    class Meta:
        model = Stocktake
        fields = ["library", "call_number_prefix"]

    def __init__(self, *args, libraries, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["library"].queryset = libraries
        self.fields["library"].empty_label = None


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
