"""Reading the staff audit log (Wagtail's ModelLogEntry) in the courses' audit tests."""

from django.contrib.contenttypes.models import ContentType
from wagtail.models import ModelLogEntry


def mark() -> int:
    """The newest entry's primary key now: entries written later are what an action wrote."""
    newest = ModelLogEntry.objects.order_by("-pk").values_list("pk", flat=True).first()
    return newest or 0


def entries_since(marker: int) -> list[ModelLogEntry]:
    return list(ModelLogEntry.objects.filter(pk__gt=marker).order_by("pk"))


def entry_row(entry: ModelLogEntry) -> tuple:
    """(action, user pk, model, object pk, data without the batch): what the tests compare."""
    data = {key: value for key, value in entry.data.items() if key != "batch"}
    model = ContentType.objects.get_for_id(entry.content_type_id).model_class()
    return (entry.action, entry.user_id, model, int(entry.object_id), data)


def rows_since(marker: int) -> list[tuple]:
    return [entry_row(e) for e in entries_since(marker)]


def batches(entries) -> set:
    return {e.data.get("batch") for e in entries}
