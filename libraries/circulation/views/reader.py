"""Public and reader-facing pages: apply for a card, my loans and holds, place a hold."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from libraries.circulation import patrons
from libraries.circulation import services as circulation
from libraries.circulation.forms import RegistrationForm
from libraries.circulation.services import CirculationError
from libraries.models import DigitalLoan, Hold, Library, Loan, Patron, Record
from training_site.throttle import card_applications


def register_card(request):
    form = RegistrationForm(request.POST or None)
    if request.method == "POST":
        if card_applications.exceeded(request):
            form.add_error(None, _("Too many applications from this connection. Try again later."))
            return render(
                request, "libraries/circulation/register.html", {"form": form}, status=429
            )
        if request.POST.get("website"):
            # A bot filled the hidden field: pretend success, store nothing.
            card_applications.count(request)
            return HttpResponseRedirect(reverse("libraries:register_card_done"))
        if form.is_valid():
            data = {k: v for k, v in form.cleaned_data.items() if k not in {"website", "consent"}}
            patrons.register(**data)
            card_applications.count(request)
            return HttpResponseRedirect(reverse("libraries:register_card_done"))
    return render(request, "libraries/circulation/register.html", {"form": form})


def register_card_done(request):
    return render(request, "libraries/circulation/register_done.html")


def _my_patron(request) -> Patron | None:
    return Patron.objects.select_related("home_library").filter(user=request.user).first()


@login_required
def my_loans(request):
    patron = _my_patron(request)
    if patron is None:
        return render(request, "libraries/circulation/no_card.html", status=404)
    loans = Loan.objects.on_loan_to(patron)
    digital_loans = DigitalLoan.objects.on_loan_to(patron).filter(due_at__gt=timezone.now())
    holds = Hold.objects.of_reader(patron).select_related("digital_file")
    history = []
    digital_history = []
    if patron.keep_loan_history:
        history = (
            Loan.objects.filter(patron=patron, returned_at__isnull=False)
            .select_related("item__record")
            .order_by("-returned_at")[:50]
        )
        digital_history = (
            DigitalLoan.objects.filter(patron=patron, returned_at__isnull=False)
            .select_related("file__record")
            .order_by("-returned_at")[:50]
        )
    return render(
        request,
        "libraries/circulation/my_loans.html",
        {
            "patron": patron,
            "loans": loans,
            "digital_loans": digital_loans,
            "holds": holds,
            "history": history,
            "digital_history": digital_history,
            "now": timezone.now(),
        },
    )


def _on_my_loans(request, action):
    """Run one of the reader's own actions and say how it went on their loans page."""
    try:
        result = action()
    except CirculationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, result.message)
    return HttpResponseRedirect(reverse("libraries:my_loans"))


@login_required
@require_POST
def my_renew(request, loan_id):
    loan = get_object_or_404(
        Loan.objects.select_related("item"), pk=loan_id, patron__user=request.user
    )
    return _on_my_loans(
        request, lambda: circulation.renew(item_barcode=loan.item.barcode, by=request.user)
    )


@login_required
@require_POST
def my_cancel_hold(request, hold_id):
    # Waiting lists of e-books are left through libraries:digital_cancel_wait.
    hold = get_object_or_404(Hold, pk=hold_id, patron__user=request.user, digital_file__isnull=True)
    return _on_my_loans(request, lambda: circulation.cancel_hold(hold_id=hold.pk, by=request.user))


@login_required
@require_POST
def place_hold(request, record_id):
    """Place a hold from the catalog record page (form: templates/.../hold_form.html)."""
    record = get_object_or_404(Record, pk=record_id)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        back = ""
    back = back or reverse("libraries:my_loans")
    patron = _my_patron(request)
    if patron is None:
        messages.error(request, _("You need a reader card linked to your account to place holds."))
        return HttpResponseRedirect(back)
    pickup = Library.objects.active().filter(pk=request.POST.get("pickup_library") or 0).first()
    if pickup is None:
        messages.error(request, _("Choose a pickup library."))
        return HttpResponseRedirect(back)
    try:
        result = circulation.place_hold(
            record=record, card_number=patron.card_number, pickup_library=pickup, by=request.user
        )
    except CirculationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, result.message)
    return HttpResponseRedirect(back)
