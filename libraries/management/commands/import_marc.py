"""python manage.py import_marc PATH --library CODE [--format marc|marcxml] [--encoding E]"""

import os

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from tqdm import tqdm

from libraries.catalog.marc import MarcFileRefused, import_marc
from libraries.models import Library


class Command(BaseCommand):
    help = "Import a MARC21 or MARCXML file into a library's catalog (updates matching records)."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--library", required=True, help="code of the owning library")
        parser.add_argument("--format", choices=["marc", "marcxml"], default=None)
        parser.add_argument(
            "--encoding", default=None, help="override the leader, e.g. cp1251 or latin-1"
        )
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, **options):
        library = Library.objects.filter(code=options["library"].strip().upper()).first()
        if library is None:
            raise CommandError(_("No library with code %(code)s.") % {"code": options["library"]})
        path = options["path"]
        if not os.path.isfile(path):
            raise CommandError(_("No such file: %(path)s") % {"path": path})
        total = os.path.getsize(path)
        bar = tqdm(
            total=total,
            unit="B",
            unit_scale=True,
            disable=options["no_progress"],
            file=self.stderr._out,
        )

        def progress(done, _total, result):
            bar.update(done - bar.n)
            bar.set_postfix(records=result.read, failed=result.failed, refresh=False)

        try:
            with open(path, "rb") as stream:
                result = import_marc(
                    stream,
                    library=library,
                    file_format=options["format"],
                    encoding=options["encoding"],
                    total_bytes=total,
                    progress=progress,
                    batch_size=options["batch_size"],
                )
        except MarcFileRefused as exc:
            bar.close()
            raise CommandError(str(exc))
        bar.close()
        for problem in result.problems:
            self.stderr.write(_("Failed: %(problem)s") % {"problem": problem})
        for warning in result.warnings:
            self.stderr.write(_("Warning: %(warning)s") % {"warning": warning})
        self.stdout.write(
            _(
                "created: %(created)d, updated: %(updated)d, unchanged: %(unchanged)d, "
                "failed: %(failed)d, items created: %(items)d"
            )
            % {
                "created": result.created,
                "updated": result.updated,
                "unchanged": result.unchanged,
                "failed": result.failed,
                "items": result.items_created,
            }
        )
        if result.failed:
            raise CommandError(
                _("%(n)d record(s) could not be imported.") % {"n": result.failed}, returncode=2
            )
