"""The harvest source form: a library the user administers, an address the harvester may read."""

from django import forms
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminModelForm

from libraries import access
from libraries.harvest.client import UnsafeUrl, check_url
from libraries.models import HarvestSource


class HarvestSourceForm(WagtailAdminModelForm):
    base_url = forms.URLField(
        label=_("OAI-PMH address"),
        max_length=500,
        assume_scheme="https",
        help_text=HarvestSource._meta.get_field("base_url").help_text,
    )

    class Meta:
        model = HarvestSource
        fields = [
            "name",
            "base_url",
            "set_spec",
            "metadata_prefix",
            "library",
            "daily",
            "next_from",
        ]
        help_texts = {
            "next_from": _(
                "Filled in by each successful harvest. Empty: the next harvest takes every "
                "record again (unchanged ones are skipped)."
            )
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["library"].queryset = (
            access.libraries_administered_by(self.for_user).filter(is_active=True).order_by("name")
        )

    def clean_base_url(self):
        url = (self.cleaned_data.get("base_url") or "").strip()
        try:
            check_url(url)
        except UnsafeUrl as exc:
            raise forms.ValidationError(exc.message)
        return url

    def clean_set_spec(self):
        return (self.cleaned_data.get("set_spec") or "").strip()

    def save(self, commit=True):
        if self.instance.pk is None and self.for_user is not None:
            self.instance.created_by = self.for_user
        return super().save(commit=commit)
