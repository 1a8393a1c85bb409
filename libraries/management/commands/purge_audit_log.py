"""python manage.py purge_audit_log [--days N] [--dry-run]: delete audit log entries (Wagtail's
ModelLogEntry and PageLogEntry rows) older than AUDIT_LOG_RETENTION_DAYS, default 730 days.
Run it daily from cron (docs/OPERATIONS.md, "Audit log")."""

import datetime

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from wagtail.models import ModelLogEntry, PageLogEntry

BATCH = 5000  # rows deleted per statement, so a first purge of years of entries stays short


class Command(BaseCommand):
    help = "Delete staff audit log entries older than AUDIT_LOG_RETENTION_DAYS (or --days)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help="Keep this many days of entries (default: AUDIT_LOG_RETENTION_DAYS).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Count the entries; delete nothing."
        )

    def handle(self, *args, days=None, dry_run=False, **options):
        if days is None:
            days = settings.AUDIT_LOG_RETENTION_DAYS
        if days < 1:
            raise CommandError("--days must be 1 or more.")
        cutoff = timezone.now() - datetime.timedelta(days=days)
        total = 0
        for model in (ModelLogEntry, PageLogEntry):
            old = model.objects.filter(timestamp__lt=cutoff)
            if dry_run:
                total += old.count()
                continue
            while True:
                with transaction.atomic():
                    pks = list(old.order_by("pk").values_list("pk", flat=True)[:BATCH])
                    if not pks:
                        break
                    total += model.objects.filter(pk__in=pks).delete()[0]
        verb = "Would delete" if dry_run else "Deleted"
        self.stdout.write(f"{verb} {total} audit log entries older than {days} days.")
