"""Public pages of the network: the join form and one page per member library."""

from django.contrib import messages
from django.contrib.auth import login
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from libraries import access
from libraries.models import Library
from libraries.network import invitations
from libraries.network import services as network
from libraries.network.forms import JoinRequestForm, NewAccountForm
from training_site.throttle import join_requests


@require_http_methods(["GET", "POST"])
def join(request):
    """A school library asks to join the network; the parent library's admins decide."""
    form = JoinRequestForm(request.POST or None)
    if request.method == "POST" and join_requests.exceeded(request):
        form.add_error(None, _("Too many requests from this connection. Try again later."))
        return render(request, "libraries/join.html", {"form": form}, status=429)
    if request.method == "POST" and form.is_valid():
        join_requests.count(request)
        if form.is_spam():
            # Tell robots it worked, keep nothing.
            return redirect("libraries:join_done")
        data = {k: v for k, v in form.cleaned_data.items() if k != "website"}
        try:
            network.submit_join_request(**data)
        except network.JoinRequestError as error:
            form.add_error(None, error)
        else:
            return redirect("libraries:join_done")
    return render(request, "libraries/join.html", {"form": form})


def join_done(request):
    return render(request, "libraries/join_done.html")


def library_detail(request, code):
    """A member library's public page: who it is and where, never who its members are."""
    library = get_object_or_404(
        Library.objects.active().select_related("parent"), code=code.upper()
    )
    children = library.children.active().order_by("name")
    return render(
        request,
        "libraries/library_detail.html",
        {"library": library, "children": children},
    )


@never_cache
@require_http_methods(["GET", "POST"])
def invitation(request, token):
    """Accept an invitation: choose a password (new account) or confirm as the invited account.

    A forged or replaced link is 404, a used, withdrawn or expired one 410; someone logged in
    as another account is refused (403 on POST) and never given the membership.
    """
    found = invitations.invitation_for_token(token)
    if found is None:
        context = {"message": _("This invitation link is not valid.")}
        return render(request, "libraries/invitation_closed.html", context, status=404)
    try:
        invitations.ensure_open(found)
    except invitations.InvitationError as error:
        context = {"message": " ".join(error.messages)}
        return render(request, "libraries/invitation_closed.html", context, status=410)
    way = invitations.who_accepts(found, request.user)
    form = None
    if way == "new_account":
        form = NewAccountForm(request.POST or None, invitation=found)
    status = 200
    if request.method == "POST":
        if way in ("login", "other_account"):
            status = 403
        elif form is None or form.is_valid():
            data = form.cleaned_data if form is not None else {}
            try:
                acceptance = invitations.accept_invitation(
                    token=token,
                    user=request.user if request.user.is_authenticated else None,
                    password=data.get("password1", ""),
                    display_name=data.get("display_name", ""),
                )
            except invitations.InvitationError as error:
                if form is not None and getattr(error, "code", "") == "password":
                    form.add_error("password1", error)
                else:
                    context = {"message": " ".join(error.messages)}
                    return render(request, "libraries/invitation_closed.html", context, status=410)
            else:
                return _welcome(request, acceptance)
    login_url = reverse("account_login") + "?" + urlencode({"next": request.path})
    context = {"invitation": found, "way": way, "form": form, "login_url": login_url}
    return render(request, "libraries/invitation.html", context, status=status)


def _welcome(request, acceptance):
    if acceptance.account_created:
        login(request, acceptance.user, backend="django.contrib.auth.backends.ModelBackend")
    invitation = acceptance.invitation
    messages.success(
        request,
        _("Welcome: you are now %(role)s at %(library)s.")
        % {"role": invitation.get_role_display(), "library": invitation.library.name},
    )
    if invitation.role in access.STAFF_ROLES:
        return redirect("wagtailadmin_home")
    return redirect("/")
