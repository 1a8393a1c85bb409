"""python manage.py export_marc --library CODE [--format marc|marcxml] [-o FILE]"""

import sys

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from libraries.catalog.marc import export_marc
from libraries.models import Library


class Command(BaseCommand):
    help = "Write a library's records (catalogued or held) as UTF-8 MARC21 or MARCXML."

    def add_arguments(self, parser):
        parser.add_argument("--library", required=True)
        parser.add_argument("--format", choices=["marc", "marcxml"], default="marc")
        parser.add_argument("-o", "--output", default="-", help="file to write (default stdout)")

    def handle(self, *args, **options):
        library = Library.objects.filter(code=options["library"].strip().upper()).first()
        if library is None:
            raise CommandError(_("No library with code %(code)s.") % {"code": options["library"]})
        if options["output"] == "-":
            out = getattr(self.stdout._out, "buffer", None) or sys.stdout.buffer
            count = export_marc(out, library=library, file_format=options["format"])
            out.flush()
        else:
            with open(options["output"], "wb") as out:
                count = export_marc(out, library=library, file_format=options["format"])
        self.stderr.write(_("%(n)d record(s) exported.") % {"n": count})
