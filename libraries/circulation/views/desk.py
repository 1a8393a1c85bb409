"""The circulation desk: scan a card, then scan items. Works with a keyboard-only USB scanner.

Every action calls libraries/circulation.py. With JavaScript the page posts to the same
URL and gets JSON back; without it, a plain form post and a redirect.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from libraries.access import (
    is_staff_member,
    libraries_visible_to,
    library_filter,
    patron_visible_at,
    reaches,
    scope_patrons,
    visiting_categories,
)
from libraries.circulation import patrons
from libraries.circulation import services as circulation
from libraries.circulation.cards import reader_card_pdf
from libraries.circulation.forms import DeskCardForm
from libraries.circulation.services import CirculationError, normalise_code
from libraries.models import Hold, Item, Library, Loan, Patron, Transfer

MODES = {
    "checkout": circulation.check_out,
    "checkin": circulation.check_in,
    "renew": circulation.renew,
}
SESSION_LIBRARY = "desk_library"
SESSION_CARD = "desk_card"


def _staff_libraries(request):
    """Libraries where the user works (lazy: evaluated only by pages that list them)."""
    return libraries_visible_to(request.user).filter(is_active=True).order_by("path")


def _remember(request, key, value) -> None:
    """Write the session only on change: a scan should not cost a session UPDATE."""
    if request.session.get(key) != value:
        request.session[key] = value


def _current_library(request, libraries) -> Library:
    """The desk's library: asked for, remembered, or the first one reached; 403 if none."""
    wanted = request.POST.get("library") or request.GET.get("library")
    wanted = wanted or request.session.get(SESSION_LIBRARY)
    library = None
    if wanted and str(wanted).isdigit():
        library = libraries.filter(pk=wanted).first()
    library = library or libraries.first()
    if library is None:
        raise PermissionDenied
    _remember(request, SESSION_LIBRARY, library.pk)
    return library


def _visible_card(user, code: str, library: Library) -> Patron | None:
    """The reader with this card number, if this desk may see them; else None, as if unknown."""
    patron = Patron.objects.select_related("home_library").filter(card_number=code).first()
    return patron if patron_visible_at(user, patron, library) else None


def _current_patron(request, library: Library) -> Patron | None:
    """The reader chosen at this desk, asked again: the desk or the rules may have changed."""
    card = request.session.get(SESSION_CARD)
    if not card:
        return None
    patron = _visible_card(request.user, card, library)
    if patron is None:
        request.session.pop(SESSION_CARD, None)
    return patron


def patron_panel_context(user, patron: Patron | None, library: Library) -> dict:
    """The reader's loans, holds and warnings, as far as this member of staff may see them."""
    if patron is None:
        return {"patron": None, "library": library}
    full_view = reaches(user, patron.home_library)
    loans = (
        Loan.objects.filter(patron=patron, returned_at__isnull=True)
        .select_related("item__record", "library")
        .order_by("due_at")
    )
    holds = Hold.objects.active().filter(patron=patron).select_related("record", "pickup_library")
    if not full_view:
        loans = loans.filter(library_filter(user, "library"))
        holds = holds.filter(library_filter(user, "pickup_library"))
    now = timezone.now()
    loans = list(loans)
    holds = list(holds)
    warnings = []
    if patron.status == Patron.Status.BLOCKED:
        warnings.append(_("Card blocked: %(reason)s") % {"reason": patron.blocked_reason or "—"})
    elif patron.status != Patron.Status.ACTIVE or patron.is_expired():
        warnings.append(
            _("Card not valid (%(status)s, expires %(date)s).")
            % {
                "status": patron.get_status_display(),
                "date": patron.expires_on.strftime("%d/%m/%Y"),
            }
        )
    overdue = sum(1 for loan in loans if loan.due_at < now)
    if overdue:
        warnings.append(_("%(count)s overdue item(s).") % {"count": overdue})
    ready = [
        h for h in holds if h.status == Hold.Status.READY and h.pickup_library_id == library.pk
    ]
    if ready:
        warnings.append(
            _("%(count)s hold(s) waiting on the hold shelf here.") % {"count": len(ready)}
        )
    return {
        "patron": patron,
        "full_view": full_view,
        "loans": loans,
        "holds": holds,
        "warnings": warnings,
        "now": now,
        "library": library,
    }


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@login_required
def desk(request):
    libraries = _staff_libraries(request)
    library = _current_library(request, libraries)
    context = patron_panel_context(request.user, _current_patron(request, library), library)
    context.update(
        {
            "libraries": libraries,
            "mode": request.session.get("desk_mode", "checkout"),
            "modes": [
                ("checkout", _("Check out"), "F2"),
                ("checkin", _("Check in"), "F3"),
                ("renew", _("Renew"), "F4"),
            ],
        }
    )
    return render(request, "libraries/desk/desk.html", context)


def _handle_scan(request, library: Library, code: str, mode: str) -> tuple[str, str]:
    """Returns (level, message). A scanned card number selects the reader."""
    if not code:
        return "info", _("Scan a card or an item.")
    card = _visible_card(request.user, code, library)
    if (
        card is None
        and patrons.looks_like_card_number(code)
        and not Item.objects.filter(barcode=code).exists()
    ):
        # The same answer whether the card does not exist or is not this desk's to see.
        return "error", _("Unknown card number: %(code)s.") % {"code": code}
    if card is not None:
        _remember(request, SESSION_CARD, card.card_number)
        if mode == "checkin":
            _remember(request, "desk_mode", "checkout")
        return "success", _("Reader: %(name)s (%(card)s)") % {
            "name": card.full_name,
            "card": card.card_number,
        }
    try:
        if mode == "checkout":
            patron_card = request.session.get(SESSION_CARD)
            if not patron_card:
                return "error", _("Scan the reader's card first.")
            result = circulation.check_out(
                item_barcode=code, card_number=patron_card, by=request.user, at=library
            )
        elif mode == "renew":
            result = circulation.renew(item_barcode=code, by=request.user, at=library)
        else:
            result = circulation.check_in(item_barcode=code, by=request.user, at=library)
            if patron_visible_at(request.user, result.patron, library):
                _remember(request, SESSION_CARD, result.patron.card_number)
    except CirculationError as error:
        return "error", error.message
    message = " ".join([result.message, *result.notices, *_shelf_note(result, mode)])
    if result.repeated:
        return "warning", message
    if result.notices or result.transfer or result.hold:
        return "warning", message
    return "success", message


def _shelf_note(result, mode: str) -> list[str]:
    """Where the copy lives, when it has a shelf: shown on check-out and on a check-in that
    puts it back here (not when it goes to the hold shelf or in transit)."""
    item = result.item
    if mode == "renew" or item is None or not item.shelf_id:
        return []
    if mode == "checkin" and (result.transfer or result.hold):
        return []
    return [_("Shelf: %(shelf)s.") % {"shelf": item.shelf}]


@login_required
@require_POST
def desk_scan(request):
    libraries = _staff_libraries(request)
    library = _current_library(request, libraries)
    mode = request.POST.get("mode", "checkout")
    if mode not in MODES:
        mode = "checkout"
    _remember(request, "desk_mode", mode)
    if request.POST.get("action") == "clear":
        request.session.pop(SESSION_CARD, None)
        level, message = "info", _("Ready for the next reader.")
    else:
        level, message = _handle_scan(
            request, library, normalise_code(request.POST.get("code")), mode
        )
    if _wants_json(request):
        context = patron_panel_context(request.user, _current_patron(request, library), library)
        panel = render_to_string("libraries/desk/_patron.html", context, request=request)
        return JsonResponse(
            {
                "ok": level != "error",
                "level": level,
                "message": message,
                "mode": request.session["desk_mode"],
                "panel": panel,
            }
        )
    getattr(messages, level if level != "info" else "info")(request, message)
    return HttpResponseRedirect(
        reverse("libraries:desk") + "?" + urlencode({"library": library.pk})
    )


@login_required
def overdue_list(request):
    libraries = _staff_libraries(request)
    library = _current_library(request, libraries)
    visiting = visiting_categories(library)
    loans = list(circulation.overdue_loans(library))
    for loan in loans:
        # A reader of another library is named only where this desk may see them.
        loan.reader_visible = patron_visible_at(
            request.user, loan.patron, library, visiting=visiting
        )
    transfers = (
        Transfer.objects.open()
        .filter(to_library=library)
        .select_related("item__record", "from_library")
    )
    return render(
        request,
        "libraries/desk/overdue.html",
        {"library": library, "libraries": libraries, "loans": loans, "transfers": transfers},
    )


@login_required
def card_new(request):
    if not is_staff_member(request.user):
        raise PermissionDenied
    libraries = _staff_libraries(request)
    form = DeskCardForm(request.POST or None, libraries=libraries)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            patron = patrons.create_card(
                by=request.user,
                home_library=data.pop("home_library"),
                full_name=data.pop("full_name"),
                category=data.pop("category"),
                **data,
            )
        except CirculationError as error:
            form.add_error(None, error.message)
        else:
            request.session[SESSION_CARD] = patron.card_number
            messages.success(request, _("Card %(card)s issued.") % {"card": patron.card_number})
            return HttpResponseRedirect(reverse("libraries:desk"))
    return render(request, "libraries/desk/card_form.html", {"form": form})


@login_required
def card_list(request):
    if not is_staff_member(request.user):
        raise PermissionDenied
    query = request.GET.get("q", "").strip()
    cards = scope_patrons(request.user, Patron.objects.select_related("home_library", "user"))
    if query:
        cards = cards.filter(Q(full_name__icontains=query) | Q(card_number__icontains=query))
    cards = cards.annotate(
        open_loans=Count("loans", filter=Q(loans__returned_at__isnull=True))
    ).order_by("full_name")[:100]
    return render(request, "libraries/desk/card_list.html", {"cards": cards, "query": query})


@login_required
@require_POST
def card_renew(request, pk):
    patron = get_object_or_404(scope_patrons(request.user, Patron.objects.all()), pk=pk)
    try:
        patron = patrons.renew_card(patron_id=patron.pk, by=request.user)
    except CirculationError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("Card renewed until %(date)s.") % {"date": patron.expires_on.strftime("%d/%m/%Y")},
        )
    return HttpResponseRedirect(reverse("libraries:card_list") + "?q=" + patron.card_number)


@login_required
@require_POST
def card_update(request, pk):
    """Block, unblock or link a site account, from the card list."""
    patron = get_object_or_404(scope_patrons(request.user, Patron.objects.all()), pk=pk)
    action = request.POST.get("action")
    try:
        if action == "link":
            patrons.link_account(
                patron_id=patron.pk, by=request.user, login=request.POST.get("login", "")
            )
            messages.success(request, _("Site account linked."))
        else:
            patrons.set_card_status(
                patron_id=patron.pk,
                by=request.user,
                blocked=action == "block",
                reason=request.POST.get("reason", ""),
            )
            messages.success(request, _("Card updated."))
    except CirculationError as error:
        messages.error(request, error.message)
    return HttpResponseRedirect(reverse("libraries:card_list") + "?q=" + patron.card_number)


@login_required
def card_pdf(request, pk):
    queryset = Patron.objects.select_related("home_library")
    if not (hasattr(request.user, "patron") and request.user.patron.pk == int(pk)):
        queryset = scope_patrons(request.user, queryset)
    patron = get_object_or_404(queryset, pk=pk)
    response = HttpResponse(reader_card_pdf(patron), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="card-{patron.card_number}.pdf"'
    return response
