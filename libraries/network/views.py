"""Public pages of the network: the join form and one page per member library."""

from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from libraries.models import Library
from libraries.network import services as network
from libraries.network.forms import JoinRequestForm
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
