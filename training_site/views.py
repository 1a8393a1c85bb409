import posixpath

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseRedirect
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


# /media/ holds what staff and users upload (H5P content, images, documents), so nothing in
# it may run as a page of this site. Only what a page embeds is shown inline: images, fonts,
# audio and video, JSON and captions, and the player's code (js, css) in H5P library folders,
# which only network admins install. Everything else (HTML, SVG, XML, scripts elsewhere,
# documents, unknown types) is a download. README.md (Production) does the same in nginx.
MEDIA_INLINE = frozenset(
    {
        *("png", "jpg", "jpeg", "gif", "webp", "avif", "bmp", "ico", "tif", "tiff"),
        *("woff", "woff2", "ttf", "otf", "eot"),
        *("mp3", "m4a", "wav", "oga", "ogg", "opus", "mp4", "m4v", "webm", "ogv"),
        *("json", "vtt", "webvtt"),
    }
)
PLAYER_CODE = frozenset({"js", "css"})
PLAYER_CODE_ROOT = "h5p/libraries/"
# SVG keeps its type so <img> still draws it (an <img> ignores Content-Disposition); every
# other download is plain bytes, so no browser renders it or runs it as a script or style.
DOWNLOAD_KEEPS_TYPE = frozenset({"svg"})
MEDIA_CSP = "sandbox"
DOWNLOAD_CSP = "sandbox; default-src 'none'; style-src 'unsafe-inline'"
# Old MARC uploads were kept here under their uploader's name; they are private now.
NOT_PUBLIC = ("marc-imports/",)


def media_headers(path: str) -> dict[str, str]:
    """The headers that keep a file under /media/ from running as a page of the site."""
    extension = posixpath.splitext(path)[1].lstrip(".").lower()
    headers = {"X-Content-Type-Options": "nosniff"}
    if extension in PLAYER_CODE and path.startswith(PLAYER_CODE_ROOT):
        return headers
    if extension in MEDIA_INLINE:
        return {**headers, "Content-Security-Policy": MEDIA_CSP}
    headers |= {"Content-Disposition": "attachment", "Content-Security-Policy": DOWNLOAD_CSP}
    if extension not in DOWNLOAD_KEEPS_TYPE:
        headers["Content-Type"] = "application/octet-stream"
    return headers


def serve_media(request, path):
    """MEDIA_URL served by Django when settings.SERVE_MEDIA is on (dev, tests, small LAN).

    MEDIA_ROOT is read per request so a test that points it elsewhere is honoured.
    """
    path = posixpath.normpath(path).lstrip("/")  # what serve() opens, ".." resolved
    if path.startswith(NOT_PUBLIC):
        raise Http404
    response = serve(request, path, document_root=settings.MEDIA_ROOT)
    for name, value in media_headers(path).items():
        response[name] = value
    return response
