"""Inter-library loans between libraries of the network."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from libraries.access import libraries_visible_to, library_filter
from libraries.circulation import services as circulation
from libraries.circulation.services import CirculationError
from libraries.models import InterLibraryLoan


def _scoped(user):
    return InterLibraryLoan.objects.filter(
        library_filter(user, "requesting_library") | library_filter(user, "lending_library")
    ).select_related("item__record", "requesting_library", "lending_library", "patron")


@login_required
def ill_list(request):
    libraries = libraries_visible_to(request.user).filter(is_active=True)
    if not libraries.exists():
        raise PermissionDenied
    if request.method == "POST":
        library = libraries.filter(pk=request.POST.get("library") or 0).first()
        try:
            if library is None:
                raise CirculationError(_("Choose your library."))
            circulation.request_ill(
                item_barcode=request.POST.get("item_barcode", ""),
                card_number=request.POST.get("card_number", ""),
                note=request.POST.get("note", "")[:500],
                by=request.user,
                at=library,
            )
        except CirculationError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Request sent to the lending library."))
        return HttpResponseRedirect(reverse("libraries:ill_list"))
    requests = _scoped(request.user)
    incoming = requests.filter(library_filter(request.user, "lending_library"))
    outgoing = requests.filter(library_filter(request.user, "requesting_library"))
    return render(
        request,
        "libraries/circulation/ill_list.html",
        {
            "libraries": libraries,
            "incoming": incoming.filter(status__in=InterLibraryLoan.OPEN)[:100],
            "outgoing": outgoing.filter(~Q(status__in=["completed"]))[:100],
        },
    )


@login_required
@require_POST
def ill_decide(request, pk):
    ill = _scoped(request.user).filter(pk=pk).first()
    try:
        if ill is None:
            raise CirculationError(_("Unknown request."))
        if request.POST.get("decision") == "accept":
            circulation.accept_ill(ill_id=ill.pk, by=request.user)
            messages.success(request, _("Accepted: the item is now in transit."))
        else:
            circulation.reject_ill(
                ill_id=ill.pk,
                by=request.user,
                reason=request.POST.get("reason", "").strip()[:500] or _("Not available"),
            )
            messages.success(request, _("Request refused."))
    except CirculationError as error:
        messages.error(request, error.message)
    return HttpResponseRedirect(reverse("libraries:ill_list"))
