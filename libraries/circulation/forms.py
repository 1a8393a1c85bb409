"""Forms of the circulation area: cards at the desk and the public card application."""

import datetime
import unicodedata

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from libraries.models import Library, Patron, PatronCategory, RegistrationRequest
from libraries.models.patrons import CHILD_AGE, age_on

# What a reader tells about themselves, at the desk and in the online application alike.
CARD_DETAILS = [
    "school_class",
    "address",
    "phone",
    "email",
    "guardian_name",
    "guardian_contact",
    "guardian_consent",
]


class DateInput(forms.DateInput):
    input_type = "date"


def _clean_plain(form, *names):
    """Plain text, stored NFC with single spaces (templates escape it on output)."""
    for name in names:
        if name in form.cleaned_data and isinstance(form.cleaned_data[name], str):
            value = unicodedata.normalize("NFC", form.cleaned_data[name])
            form.cleaned_data[name] = " ".join(value.split())


def _check_child(form, cleaned):
    """Children need a guardian's name, contact and consent (Decree 13/2023)."""
    age = age_on(cleaned.get("date_of_birth"), timezone.localdate())
    if age is not None and (age < 3 or age > 120):
        form.add_error("date_of_birth", _("Please check the date of birth."))
    if age is not None and age < CHILD_AGE:
        if not cleaned.get("guardian_name"):
            form.add_error("guardian_name", _("A parent or guardian's name is required."))
        if not cleaned.get("guardian_contact"):
            form.add_error(
                "guardian_contact", _("A parent or guardian's phone or email is required.")
            )
        if "guardian_consent" in form.fields and not cleaned.get("guardian_consent"):
            form.add_error(
                "guardian_consent", _("A parent or guardian must agree for a child under 16.")
            )
    return age


class DeskCardForm(forms.ModelForm):
    class Meta:
        model = Patron
        fields = ["home_library", "full_name", "category", "date_of_birth", *CARD_DETAILS]
        widgets = {"date_of_birth": DateInput()}

    def __init__(self, *args, libraries, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["home_library"].queryset = libraries
        self.fields["home_library"].empty_label = None

    def clean(self):
        cleaned = super().clean()
        _clean_plain(self, "full_name", "school_class", "address", "guardian_name")
        _check_child(self, cleaned)
        return cleaned


class RegistrationForm(forms.ModelForm):
    """The public application for a reader card. `website` is a honeypot left empty by people."""

    website = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )
    consent = forms.BooleanField(
        label=_("I agree that the library keeps these details to run my reader card."),
        required=True,
    )

    class Meta:
        model = RegistrationRequest
        fields = ["full_name", "date_of_birth", "category", "home_library", *CARD_DETAILS]
        widgets = {"date_of_birth": DateInput()}
        help_texts = {
            "school_class": _("For students: school and class, e.g. THCS A, 7A2."),
            "guardian_name": _("Required for readers under 16."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["home_library"].queryset = Library.objects.active().order_by("name")
        # "Child" follows from the date of birth (under 16); staff cards are made by staff.
        self.fields["category"].choices = [
            (value, label)
            for value, label in PatronCategory.choices
            if value not in {PatronCategory.STAFF, PatronCategory.CHILD}
        ]
        self.fields["guardian_consent"].label = _(
            "I am the parent or guardian and I agree to this application."
        )

    def clean(self):
        cleaned = super().clean()
        _clean_plain(self, "full_name", "school_class", "address", "guardian_name")
        if not cleaned.get("phone") and not cleaned.get("email"):
            self.add_error("phone", _("Give a phone number or an email address."))
        if not cleaned.get("school_class") and not cleaned.get("address"):
            self.add_error("address", _("Give your school and class, or your address."))
        dob = cleaned.get("date_of_birth")
        if dob and dob > timezone.localdate() - datetime.timedelta(days=365):
            self.add_error("date_of_birth", _("Please check the date of birth."))
        else:
            _check_child(self, cleaned)
        return cleaned
