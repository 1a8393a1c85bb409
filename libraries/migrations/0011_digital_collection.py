"""The digital collection: e-book and document files, licences, digital loans."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

import libraries.models.catalog
import libraries.models.digital


class Migration(migrations.Migration):
    dependencies = [
        ("libraries", "0010_staff_work"),
        ("wagtailimages", "0027_image_description"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="DigitalFile",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[("epub", "EPUB e-book"), ("pdf", "PDF document")],
                        max_length=10,
                        verbose_name="format",
                    ),
                ),
                (
                    "label",
                    models.CharField(
                        blank=True,
                        help_text="Tells several files of one record apart (e.g. “Volume 2”, “Teacher's guide”).",
                        max_length=200,
                        verbose_name="label",
                    ),
                ),
                (
                    "access",
                    models.CharField(
                        choices=[
                            ("open", "Open to everyone"),
                            ("members", "Members of the network (logged in)"),
                            ("cardholders", "Card holders of chosen libraries"),
                            ("lending", "Lending with licences"),
                        ],
                        default="lending",
                        max_length=12,
                        verbose_name="access",
                    ),
                ),
                (
                    "licences",
                    models.PositiveSmallIntegerField(
                        default=0,
                        help_text="How many readers may borrow it at the same time (lending only).",
                        verbose_name="licences",
                    ),
                ),
                (
                    "file",
                    models.FileField(
                        max_length=200,
                        storage=libraries.models.catalog.private_storage,
                        upload_to=libraries.models.digital.digital_file_name,
                        verbose_name="file",
                    ),
                ),
                (
                    "original_name",
                    models.CharField(blank=True, max_length=255, verbose_name="file name"),
                ),
                ("size", models.PositiveBigIntegerField(default=0, verbose_name="size (bytes)")),
                ("sha256", models.CharField(editable=False, max_length=64, verbose_name="SHA-256")),
                (
                    "metadata",
                    models.JSONField(blank=True, default=dict, verbose_name="metadata in the file"),
                ),
                (
                    "matched_by",
                    models.CharField(blank=True, max_length=20, verbose_name="matched by"),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="added at")),
                ("updated_at", models.DateTimeField(auto_now=True)),
            ],
            options={
                "verbose_name": "digital file",
                "verbose_name_plural": "digital files",
                "ordering": ["-created_at"],
            },
        ),
        migrations.CreateModel(
            name="DigitalLoan",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("slot", models.PositiveSmallIntegerField(verbose_name="licence")),
                (
                    "patron_category",
                    models.CharField(
                        choices=[
                            ("child", "Child"),
                            ("student", "Student"),
                            ("teacher", "Teacher"),
                            ("adult", "Adult"),
                            ("staff", "Staff"),
                        ],
                        max_length=10,
                        verbose_name="reader category",
                    ),
                ),
                (
                    "borrowed_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, verbose_name="borrowed at"
                    ),
                ),
                ("due_at", models.DateTimeField(verbose_name="ends at")),
                (
                    "returned_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="returned at"),
                ),
                (
                    "ended",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("returned", "Returned by the reader"),
                            ("expired", "Ended at the end of the loan"),
                            ("withdrawn", "Ended by the library"),
                        ],
                        max_length=10,
                        verbose_name="how it ended",
                    ),
                ),
            ],
            options={
                "verbose_name": "digital loan",
                "verbose_name_plural": "digital loans",
            },
        ),
        migrations.CreateModel(
            name="ExternalLink",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("url", models.URLField(max_length=2000, verbose_name="address")),
                ("note", models.CharField(blank=True, max_length=500, verbose_name="note")),
                (
                    "link_text",
                    models.CharField(blank=True, max_length=500, verbose_name="link text"),
                ),
                ("content_type", models.CharField(blank=True, max_length=100, verbose_name="type")),
            ],
            options={
                "verbose_name": "external e-resource",
                "verbose_name_plural": "external e-resources",
                "ordering": ["pk"],
            },
        ),
        migrations.RemoveConstraint(
            model_name="hold",
            name="hold_captured_has_item",
        ),
        migrations.AlterField(
            model_name="circulationrule",
            name="item_type",
            field=models.CharField(
                blank=True,
                choices=[
                    ("book", "Book"),
                    ("textbook", "Textbook"),
                    ("reference", "Reference"),
                    ("periodical", "Periodical"),
                    ("media", "Audio-visual"),
                    ("digital", "Digital file (e-book loan)"),
                ],
                max_length=20,
                verbose_name="item type",
            ),
        ),
        migrations.CreateModel(
            name="DigitalText",
            fields=[
                (
                    "file",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="text",
                        serialize=False,
                        to="libraries.digitalfile",
                    ),
                ),
                ("words", models.TextField(blank=True, default="")),
                ("body", models.TextField(blank=True, default="")),
            ],
            options={
                "verbose_name": "text of a digital file",
                "verbose_name_plural": "texts of digital files",
            },
        ),
        migrations.AddField(
            model_name="digitalfile",
            name="cardholder_libraries",
            field=models.ManyToManyField(
                blank=True,
                help_text="Readers whose card belongs to these libraries (or those below them).",
                related_name="+",
                to="libraries.library",
                verbose_name="card holders of",
            ),
        ),
        migrations.AddField(
            model_name="digitalfile",
            name="cover",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="wagtailimages.image",
                verbose_name="cover image",
            ),
        ),
        migrations.AddField(
            model_name="digitalfile",
            name="library",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="digital_files",
                to="libraries.library",
                verbose_name="owning library",
            ),
        ),
        migrations.AddField(
            model_name="digitalfile",
            name="record",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="digital_files",
                to="libraries.record",
                verbose_name="record",
            ),
        ),
        migrations.AddField(
            model_name="digitalfile",
            name="uploaded_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="uploaded by",
            ),
        ),
        migrations.AddField(
            model_name="hold",
            name="digital_file",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="holds",
                to="libraries.digitalfile",
                verbose_name="digital file",
            ),
        ),
        migrations.AddConstraint(
            model_name="hold",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("status", "pending"),
                    models.Q(("status__in", ["in_transit", "ready"]), _negated=True),
                    ("item__isnull", False),
                    models.Q(("digital_file__isnull", False), ("status", "ready")),
                    _connector="OR",
                ),
                name="hold_captured_has_item",
            ),
        ),
        migrations.AddConstraint(
            model_name="hold",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("digital_file__isnull", True), ("item__isnull", True), _connector="OR"
                ),
                name="hold_digital_has_no_item",
            ),
        ),
        migrations.AddField(
            model_name="digitalloan",
            name="file",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="loans",
                to="libraries.digitalfile",
                verbose_name="digital file",
            ),
        ),
        migrations.AddField(
            model_name="digitalloan",
            name="library",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="digital_loans",
                to="libraries.library",
                verbose_name="lent by",
            ),
        ),
        migrations.AddField(
            model_name="digitalloan",
            name="patron",
            field=models.ForeignKey(
                blank=True,
                help_text="Empty once the loan has been anonymised.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="digital_loans",
                to="libraries.patron",
                verbose_name="reader",
            ),
        ),
        migrations.AddField(
            model_name="externallink",
            name="record",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="external_links",
                to="libraries.record",
                verbose_name="record",
            ),
        ),
        migrations.AddField(
            model_name="digitaltext",
            name="record",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="+", to="libraries.record"
            ),
        ),
        migrations.AddIndex(
            model_name="digitalfile",
            index=models.Index(fields=["record", "access"], name="digitalfile_record_access"),
        ),
        migrations.AddConstraint(
            model_name="digitalfile",
            constraint=models.UniqueConstraint(
                fields=("library", "sha256"), name="digitalfile_once_per_library"
            ),
        ),
        migrations.AddConstraint(
            model_name="digitalfile",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("access", "lending"), _negated=True),
                    ("licences__gte", 1),
                    _connector="OR",
                ),
                name="digitalfile_lending_has_licences",
            ),
        ),
        migrations.AddConstraint(
            model_name="digitalfile",
            constraint=models.CheckConstraint(
                condition=models.Q(("kind__in", ["epub", "pdf"])), name="digitalfile_known_kind"
            ),
        ),
        migrations.AddIndex(
            model_name="digitalloan",
            index=models.Index(fields=["patron", "returned_at"], name="digitalloan_patron"),
        ),
        migrations.AddIndex(
            model_name="digitalloan",
            index=models.Index(fields=["returned_at", "due_at"], name="digitalloan_open_due"),
        ),
        migrations.AddIndex(
            model_name="digitalloan",
            index=models.Index(fields=["library", "borrowed_at"], name="digitalloan_library"),
        ),
        migrations.AddConstraint(
            model_name="digitalloan",
            constraint=models.UniqueConstraint(
                condition=models.Q(("returned_at__isnull", True)),
                fields=("file", "slot"),
                name="digitalloan_one_open_per_licence",
            ),
        ),
        migrations.AddConstraint(
            model_name="digitalloan",
            constraint=models.UniqueConstraint(
                condition=models.Q(("returned_at__isnull", True)),
                fields=("file", "patron"),
                name="digitalloan_one_open_per_reader",
            ),
        ),
        migrations.AddConstraint(
            model_name="digitalloan",
            constraint=models.CheckConstraint(
                condition=models.Q(("slot__gte", 1)), name="digitalloan_slot_positive"
            ),
        ),
        migrations.AddConstraint(
            model_name="digitalloan",
            constraint=models.CheckConstraint(
                condition=models.Q(("due_at__gt", models.F("borrowed_at"))),
                name="digitalloan_ends_after_start",
            ),
        ),
        migrations.AddConstraint(
            model_name="externallink",
            constraint=models.UniqueConstraint(
                fields=("record", "url"), name="externallink_once_per_record"
            ),
        ),
        migrations.CreateModel(
            name="DigitalWordPlace",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("word", models.CharField(max_length=100)),
                ("at", models.PositiveIntegerField()),
                (
                    "text",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="places",
                        to="libraries.digitaltext",
                    ),
                ),
            ],
            options={
                "verbose_name": "place of a word in a digital file",
                "verbose_name_plural": "places of words in digital files",
                "constraints": [
                    models.UniqueConstraint(fields=("text", "word"), name="digitalwordplace_once")
                ],
            },
        ),
    ]


# PostgreSQL only: the words of digital files as a stored tsvector (a generated column the
# models need not know) with a GIN index, for the catalog search's second step
# (libraries/catalog/search.py, a word-prefix tsquery). Stored, so even a scan of the table
# computes nothing; a trigram index would not help: a book's vocabulary holds nearly every
# trigram. SQLite runs a LIKE on `words` instead.
PG_INDEXES = [
    "ALTER TABLE libraries_digitaltext ADD COLUMN IF NOT EXISTS words_tsv tsvector "
    "GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, words)) STORED",
    "CREATE INDEX IF NOT EXISTS digitaltext_words_fts ON libraries_digitaltext "
    "USING gin (words_tsv)",
    # A passage is cut from the body by offset: stored uncompressed, PostgreSQL reads only
    # the pages of that slice.
    "ALTER TABLE libraries_digitaltext ALTER COLUMN body SET STORAGE EXTERNAL",
    # Word-prefix lookups (word LIKE 'harp%') within one file, whatever the collation.
    "CREATE INDEX IF NOT EXISTS digitalwordplace_prefix ON libraries_digitalwordplace "
    "(text_id, word text_pattern_ops)",
]
PG_DROP = [
    "DROP INDEX IF EXISTS digitalwordplace_prefix",
    "DROP INDEX IF EXISTS digitaltext_words_fts",
    "ALTER TABLE libraries_digitaltext DROP COLUMN IF EXISTS words_tsv",
]


def add_pg_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in PG_INDEXES:
            schema_editor.execute(sql)


def drop_pg_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in PG_DROP:
            schema_editor.execute(sql)


Migration.operations.append(migrations.RunPython(add_pg_indexes, drop_pg_indexes))
