"""Where each reader stopped in a digital book, resumed on any device."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("libraries", "0011_digital_collection"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ReadingPosition",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "locator",
                    models.CharField(
                        help_text="An EPUB CFI, or page:N in a PDF.",
                        max_length=1000,
                        verbose_name="position in the book",
                    ),
                ),
                ("progress", models.FloatField(default=0.0, verbose_name="share read")),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="read at")),
                (
                    "file",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="reading_positions",
                        to="libraries.digitalfile",
                        verbose_name="digital file",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="reading_positions",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="account",
                    ),
                ),
            ],
            options={
                "verbose_name": "reading position",
                "verbose_name_plural": "reading positions",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("user", "file"), name="readingposition_once_per_file"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("progress__gte", 0), ("progress__lte", 1)),
                        name="readingposition_progress_fraction",
                    ),
                ],
            },
        ),
    ]
