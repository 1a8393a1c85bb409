"""Search columns and fingerprints keep the letters of every script.

Folding used to keep only ASCII: a title in Devanagari, Cyrillic, Arabic, Hebrew, Thai or CJK
folded to nothing, so such records could not be found by their words and records that shared
author, publisher and year were taken for one. Recompute the columns of the records whose
text is not all Latin; the others fold as before.
"""

from django.db import migrations

from training_site.text import fold

BATCH = 500
TEXT_FIELDS = ("title", "subtitle", "authors", "publisher", "subjects")
COLUMNS = (
    "search_exact",
    "search_folded",
    "title_folded",
    "authors_folded",
    "subjects_folded",
    "fingerprint",
)


def refresh_other_scripts(apps, schema_editor):
    # The search text is computed by the model's own rules (the same code save() runs).
    from libraries.models.catalog import Record as CurrentRecord

    Record = apps.get_model("libraries", "Record")
    changed = []
    loaded = ("pk", "isbn", "year", "place", "summary", *TEXT_FIELDS, *COLUMNS)
    rows = Record.objects.only(*loaded).order_by("pk")
    for record in rows.iterator(chunk_size=2000):
        if all(fold(getattr(record, name) or "").isascii() for name in TEXT_FIELDS):
            continue
        before = tuple(getattr(record, column) for column in COLUMNS)
        CurrentRecord.refresh_search_text(record)
        if tuple(getattr(record, column) for column in COLUMNS) != before:
            changed.append(record)
        if len(changed) >= BATCH:
            Record.objects.bulk_update(changed, COLUMNS)
            changed = []
    if changed:
        Record.objects.bulk_update(changed, COLUMNS)


class Migration(migrations.Migration):
    dependencies = [
        ("libraries", "0006_marc_import_files_private"),
    ]

    operations = [migrations.RunPython(refresh_other_scripts, migrations.RunPython.noop)]
