"""Staff revoke certificates with a reason category (shown on the public verification page and
the PDF), a note for staff and who revoked. Certificates revoked before have no reason on
record: they get "other"."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def reason_for_earlier_revocations(apps, schema_editor):
    Certificate = apps.get_model("courses", "Certificate")
    Certificate.objects.filter(revoked_at__isnull=False, revoked_reason="").update(
        revoked_reason="other"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("courses", "0004_h5p_install_permission_and_package_owner"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="certificate",
            name="revoked_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="revoked by",
            ),
        ),
        migrations.AddField(
            model_name="certificate",
            name="revoked_note",
            field=models.TextField(blank=True, max_length=1000, verbose_name="note for staff"),
        ),
        migrations.AddField(
            model_name="certificate",
            name="revoked_reason",
            field=models.CharField(
                blank=True,
                choices=[
                    ("issued_in_error", "Issued in error"),
                    ("not_earned", "Requirements not met fairly"),
                    ("duplicate", "Replaced by another certificate"),
                    ("learner_request", "Withdrawn at the learner's request"),
                    ("other", "Other reason"),
                ],
                max_length=20,
                verbose_name="reason for revoking",
            ),
        ),
        migrations.RunPython(reason_for_earlier_revocations, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="certificate",
            constraint=models.CheckConstraint(
                condition=models.Q(("revoked_at__isnull", True), ("revoked_reason", ""))
                | (models.Q(("revoked_at__isnull", False)) & ~models.Q(("revoked_reason", ""))),
                name="certificate_revoked_with_reason",
            ),
        ),
    ]
