"""Shelves, invitations, notice templates (staff work in one place)."""

import django.db.models.deletion
import django.db.models.functions.text
import wagtail.models.preview
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("libraries", "0009_harvest_sources"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # --- Shelves: a per-library list; items and stocktakes may name one.
        migrations.CreateModel(
            name="Shelf",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "code",
                    models.CharField(
                        help_text="Short, printed on spine labels, e.g. A1 or TN-2.",
                        max_length=20,
                        verbose_name="code",
                    ),
                ),
                (
                    "name",
                    models.CharField(
                        blank=True,
                        help_text="e.g. Children's stories",
                        max_length=100,
                        verbose_name="name",
                    ),
                ),
                (
                    "library",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="shelves",
                        to="libraries.library",
                        verbose_name="library",
                    ),
                ),
            ],
            options={
                "verbose_name": "shelf",
                "verbose_name_plural": "shelves",
                "ordering": ["library__code", "code"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("library", "code"), name="shelf_code_per_library"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("code", ""), _negated=True),
                        name="shelf_code_not_empty",
                    ),
                ],
            },
        ),
        migrations.AddField(
            model_name="item",
            name="shelf",
            field=models.ForeignKey(
                blank=True,
                help_text="A shelf of the owning library.",
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="items",
                to="libraries.shelf",
                verbose_name="shelf",
            ),
        ),
        migrations.AddField(
            model_name="stocktake",
            name="shelf",
            field=models.ForeignKey(
                blank=True,
                help_text="Count one shelf: the items placed on it in the catalog.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="stocktakes",
                to="libraries.shelf",
                verbose_name="shelf",
            ),
        ),
        # One open stocktake per call-number prefix (as before) or per shelf, never both.
        migrations.RemoveConstraint(model_name="stocktake", name="stocktake_one_open_per_shelf"),
        migrations.AddConstraint(
            model_name="stocktake",
            constraint=models.UniqueConstraint(
                condition=models.Q(("shelf__isnull", True), ("status", "open")),
                fields=("library", "call_number_prefix"),
                name="stocktake_one_open_per_prefix",
            ),
        ),
        migrations.AddConstraint(
            model_name="stocktake",
            constraint=models.UniqueConstraint(
                condition=models.Q(("shelf__isnull", False), ("status", "open")),
                fields=("shelf",),
                name="stocktake_one_open_by_shelf",
            ),
        ),
        migrations.AddConstraint(
            model_name="stocktake",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("shelf__isnull", True), ("call_number_prefix", ""), _connector="OR"
                ),
                name="stocktake_shelf_or_prefix",
            ),
        ),
        # --- Members invited by email.
        migrations.CreateModel(
            name="Invitation",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("email", models.EmailField(max_length=254, verbose_name="email")),
                ("full_name", models.CharField(blank=True, max_length=150, verbose_name="name")),
                (
                    "role",
                    models.CharField(
                        choices=[
                            ("network_admin", "Network administrator"),
                            ("library_admin", "Library administrator"),
                            ("librarian", "Librarian"),
                            ("teacher", "Teacher"),
                            ("student", "Student"),
                            ("reader", "Reader"),
                        ],
                        max_length=20,
                        verbose_name="role",
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending", "Waiting for acceptance"),
                            ("accepted", "Accepted"),
                            ("revoked", "Revoked"),
                        ],
                        default="pending",
                        max_length=10,
                        verbose_name="status",
                    ),
                ),
                ("secret_hash", models.CharField(editable=False, max_length=64)),
                ("sent_at", models.DateTimeField(verbose_name="sent at")),
                ("expires_at", models.DateTimeField(verbose_name="valid until")),
                (
                    "closed_at",
                    models.DateTimeField(
                        blank=True, null=True, verbose_name="accepted or revoked at"
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="invited at")),
                (
                    "library",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="invitations",
                        to="libraries.library",
                        verbose_name="library",
                    ),
                ),
                (
                    "invited_by",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="invited by",
                    ),
                ),
                (
                    "accepted_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="accepted by",
                    ),
                ),
                (
                    "revoked_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="revoked by",
                    ),
                ),
            ],
            options={
                "verbose_name": "invitation",
                "verbose_name_plural": "invitations",
                "ordering": ["-created_at", "-pk"],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("status", "pending")),
                        fields=("email", "library", "role"),
                        name="invitation_one_pending_per_role",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("email", django.db.models.functions.text.Lower("email"))
                        ),
                        name="invitation_email_lower",
                    ),
                ],
            },
        ),
        # --- Libraries' own wording of the notices to readers.
        migrations.CreateModel(
            name="NoticeTemplate",
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
                        choices=[
                            ("overdue", "Overdue items"),
                            ("hold_available", "Hold available"),
                            ("card_approved", "Reader card approved"),
                        ],
                        max_length=20,
                        verbose_name="notice",
                    ),
                ),
                (
                    "language",
                    models.CharField(
                        choices=[("vi", "Vietnamese"), ("en", "English")],
                        default="vi",
                        help_text=(
                            "Readers who chose English on their account receive the English text."
                        ),
                        max_length=10,
                        verbose_name="language",
                    ),
                ),
                ("subject", models.CharField(max_length=200, verbose_name="subject")),
                ("body", models.TextField(verbose_name="text")),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "library",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="notice_templates",
                        to="libraries.library",
                        verbose_name="library",
                    ),
                ),
            ],
            options={
                "verbose_name": "notice template",
                "verbose_name_plural": "notice templates",
                "ordering": ["library__code", "kind", "language"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("library", "kind", "language"),
                        name="notice_template_once",
                        violation_error_message=(
                            "This library already has this notice in this language."
                        ),
                    )
                ],
            },
            bases=(wagtail.models.preview.PreviewableMixin, models.Model),
        ),
    ]
