"""Stocktaking pages: start, scan (keeps up with a scanner), upload, report, export, close."""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from libraries.access import libraries_visible_to, library_filter
from libraries.models import Stocktake
from libraries.stocktake import services as inventory
from libraries.stocktake.forms import BarcodeFileForm, StocktakeForm
from libraries.stocktake.report_pdf import stocktake_report_pdf
from libraries.stocktake.services import StocktakeError
from training_site.spreadsheets import attachment, spreadsheet_response

MAX_BATCH = 500


def _stocktakes(request):
    if not libraries_visible_to(request.user).exists():
        raise PermissionDenied
    return Stocktake.objects.filter(library_filter(request.user, "library")).select_related(
        "library", "shelf"
    )


@login_required
def stocktake_list(request):
    stocktakes = _stocktakes(request)
    libraries = libraries_visible_to(request.user).filter(is_active=True)
    form = StocktakeForm(request.POST or None, libraries=libraries)
    if request.method == "POST" and form.is_valid():
        try:
            stocktake = inventory.start_stocktake(
                library=form.cleaned_data["library"],
                call_number_prefix=form.cleaned_data["call_number_prefix"],
                shelf=form.cleaned_data["shelf"],
                by=request.user,
            )
        except StocktakeError as error:
            form.add_error(None, error.message)
        else:
            return HttpResponseRedirect(reverse("libraries:stocktake_detail", args=[stocktake.pk]))
    return render(
        request,
        "libraries/inventory/list.html",
        {"stocktakes": stocktakes[:50], "form": form},
    )


@login_required
def stocktake_detail(request, pk):
    stocktake = get_object_or_404(_stocktakes(request), pk=pk)
    return render(
        request,
        "libraries/inventory/detail.html",
        {
            "stocktake": stocktake,
            "counts": inventory.counts(stocktake),
            "upload_form": BarcodeFileForm(),
            "recent": stocktake.scans.select_related(
                "item__record", "item__library", "item__shelf"
            ).order_by("-pk")[:20],
        },
    )


@login_required
@require_POST
def stocktake_scan(request, pk):
    """JSON batch of barcodes ({"barcodes": [...]}) or a single form field `code`."""
    stocktake = get_object_or_404(_stocktakes(request), pk=pk)
    if request.content_type == "application/json":
        try:
            barcodes = json.loads(request.body or b"{}").get("barcodes", [])
        except (ValueError, AttributeError):
            return JsonResponse({"error": _("Bad request.")}, status=400)
        if not isinstance(barcodes, list) or len(barcodes) > MAX_BATCH:
            return JsonResponse({"error": _("Bad request.")}, status=400)
        barcodes = [str(b)[:64] for b in barcodes]
    else:
        barcodes = [request.POST.get("code", "")[:64]]
    try:
        scans = inventory.record_scans(
            stocktake_id=stocktake.pk, barcodes=barcodes, by=request.user
        )
    except StocktakeError as error:
        if request.content_type == "application/json":
            return JsonResponse({"error": error.message}, status=409)
        messages.error(request, error.message)
        return HttpResponseRedirect(reverse("libraries:stocktake_detail", args=[pk]))
    results = [
        {
            "barcode": s.barcode,
            "result": s.result,
            "label": inventory.scan_label(s),
            "home": inventory.home_of(s.item) if s.result == "misplaced" and s.item else "",
        }
        for s in scans
    ]
    if request.content_type == "application/json":
        return JsonResponse(
            {"accepted": len(barcodes), "new": results, "counts": inventory.counts(stocktake)}
        )
    for entry in results:
        messages.info(request, f"{entry['barcode']}: {entry['label']}")
    return HttpResponseRedirect(reverse("libraries:stocktake_detail", args=[pk]))


@login_required
@require_POST
def stocktake_upload(request, pk):
    stocktake = get_object_or_404(_stocktakes(request), pk=pk)
    form = BarcodeFileForm(request.POST, request.FILES)
    if not form.is_valid():
        for error in form.errors.get("file", []):
            messages.error(request, error)
        return HttpResponseRedirect(reverse("libraries:stocktake_detail", args=[pk]))
    codes = form.cleaned_data["file"]
    try:
        scans = inventory.record_scans(stocktake_id=stocktake.pk, barcodes=codes, by=request.user)
    except StocktakeError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("%(lines)s barcodes read, %(new)s new.") % {"lines": len(codes), "new": len(scans)},
        )
    return HttpResponseRedirect(reverse("libraries:stocktake_detail", args=[pk]))


@login_required
def stocktake_report(request, pk):
    stocktake = get_object_or_404(_stocktakes(request), pk=pk)
    return render(
        request,
        "libraries/inventory/report.html",
        {"stocktake": stocktake, "report": inventory.report(stocktake)},
    )


@login_required
def stocktake_export(request, pk, fmt):
    """The report as CSV, XLSX or PDF."""
    stocktake = get_object_or_404(_stocktakes(request), pk=pk)
    report = inventory.report(stocktake)
    name = f"stocktake-{stocktake.library.code}-{stocktake.pk}"
    header = [
        _("Section"),
        _("Barcode"),
        _("Title"),
        _("Call number"),
        _("Owner"),
        _("Shelf"),
        _("Status"),
    ]
    if fmt == "pdf":
        return attachment(
            stocktake_report_pdf(report, header),
            content_type="application/pdf",
            filename=f"{name}.pdf",
        )
    return spreadsheet_response(
        fmt, header=header, rows=report.rows(), title=_("Stocktake"), filename=name
    )


@login_required
@require_POST
def stocktake_close(request, pk):
    stocktake = get_object_or_404(_stocktakes(request), pk=pk)
    try:
        closed = inventory.close_stocktake(
            stocktake_id=stocktake.pk,
            by=request.user,
            mark_missing=request.POST.get("mark_missing") == "yes",
        )
    except StocktakeError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("Stocktake closed; %(n)s items marked missing.") % {"n": closed.missing_marked},
        )
    return HttpResponseRedirect(reverse("libraries:stocktake_report", args=[pk]))
