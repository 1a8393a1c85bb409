"""The digital copies and online resources of a record, on its catalog page."""

from django import template

from libraries import access
from libraries.digital.services import availability
from libraries.models import DigitalFile
from libraries.models.digital import offer_ends_at

register = template.Library()


@register.inclusion_tag("libraries/digital/record_files.html", takes_context=True)
def digital_copies(context, record):
    request = context.get("request")
    user = getattr(request, "user", None)
    patron = access.reader_card_of(user)
    rows = []
    for file in DigitalFile.objects.of_record(record).prefetch_related("cardholder_libraries"):
        row = {"file": file, "may_read": access.may_read_digital(user, file)}
        if file.is_lending:
            row["availability"] = availability(file, patron)
            row["may_borrow"] = access.may_borrow_digital(patron, file)
        rows.append(row)
    return {
        "rows": rows,
        "links": list(record.external_links.all()),
        "user": user,
        "patron": patron,
        "next": request.get_full_path() if request else "",
        "csrf_token": context.get("csrf_token"),
    }


@register.filter
def add_offer_hours(ready_at):
    """When a licence kept for a waiting reader passes on (ready_at + 48 hours)."""
    return offer_ends_at(ready_at) if ready_at else None
