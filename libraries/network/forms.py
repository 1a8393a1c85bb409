"""Forms of the network's public pages and admin screens."""

from django import forms
from django.utils.translation import gettext_lazy as _

from libraries.models import JoinRequest
from libraries.network import services as network


class JoinRequestForm(forms.ModelForm):
    """The public "Join the network" form for a school library."""

    # Honeypot: hidden from people by CSS and aria-hidden; robots fill every field.
    website = forms.CharField(required=False, label=_("Leave this field empty"))

    class Meta:
        model = JoinRequest
        fields = [
            "school_name",
            "library_name",
            "address",
            "contact_name",
            "contact_email",
            "contact_phone",
            "parent",
            "message",
        ]
        help_texts = {
            "school_name": _("The full name, e.g. Trường THCS Nguyễn Du."),
            "library_name": _("Leave blank to use “Thư viện” followed by the school name."),
            "contact_email": _("The invitation to manage the library is sent here."),
            "parent": _("The district library your school belongs to."),
        }
        widgets = {"message": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = network.parent_choices()
        self.fields["parent"].empty_label = _("Choose a library")
        self.fields["contact_email"].widget.attrs["autocomplete"] = "email"
        self.fields["contact_phone"].widget = forms.TextInput(
            attrs={"type": "tel", "autocomplete": "tel"}
        )
        self.fields["contact_name"].widget.attrs["autocomplete"] = "name"
        self.fields["website"].widget.attrs.update({"tabindex": "-1", "autocomplete": "off"})

    def is_spam(self) -> bool:
        return bool(self.cleaned_data.get("website"))

    def clean(self):
        cleaned = super().clean()
        parent = cleaned.get("parent")
        school_name = cleaned.get("school_name")
        if parent and school_name:
            duplicate = network.find_duplicate(
                school_name=school_name,
                parent=parent,
                library_name=cleaned.get("library_name", ""),
            )
            if duplicate:
                raise forms.ValidationError(duplicate, code="duplicate")
        return cleaned


class RejectJoinRequestForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (sent to the school)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
    )


class NewAccountForm(forms.Form):
    """The invitee without an account chooses a name and a password."""

    display_name = forms.CharField(
        label=_("Your name"),
        max_length=150,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("Password (again)"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, invitation=None, **kwargs):
        super().__init__(*args, **kwargs)
        if invitation is not None and invitation.full_name:
            self.fields["display_name"].initial = invitation.full_name

    def clean(self):
        cleaned = super().clean()
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", _("The two passwords differ."))
        return cleaned
