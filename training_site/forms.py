from django import forms
from django.utils.translation import gettext_lazy as _

from training_site.models import User


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["display_name", "first_name", "last_name", "preferred_language"]
        labels = {"display_name": _("Name shown on the site")}
