from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.static import serve

from training_site.forms import ProfileForm


@login_required
def profile(request):
    """The user's own details and preferred language."""
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        translation.activate(user.preferred_language)
        messages.success(request, _("Your profile has been saved."))
        response = HttpResponseRedirect(request.path)
        response.set_cookie("django_language", user.preferred_language, samesite="Lax")
        return response
    return render(request, "account/profile.html", {"form": form})


def serve_media(request, path):
    """MEDIA_URL served by Django when settings.SERVE_MEDIA is on (dev, tests, small LAN).

    MEDIA_ROOT is read per request so a test that points it elsewhere is honoured.
    """
    return serve(request, path, document_root=settings.MEDIA_ROOT)
