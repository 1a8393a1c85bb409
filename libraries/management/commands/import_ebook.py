"""python manage.py import_ebook FILE_OR_FOLDER --library CODE [--licences N]
[--access open|members|cardholders|lending] [--cardholders CODE,CODE]

Validate and add one EPUB or PDF, or every .epub and .pdf of a folder, to a library's digital
collection, as the operator. Each file is matched to a catalog record (ISBN, else control
number, else fingerprint) or gets a new one. A refused file is reported and skipped; the
command fails when no file was added.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from libraries.digital.services import OPERATOR, DigitalError, add_file
from libraries.models import DigitalFile, Library

SUFFIXES = (".epub", ".pdf")


class Command(BaseCommand):
    help = "Add EPUB and PDF files (one file or a folder) to a library's digital collection."

    def add_arguments(self, parser):
        parser.add_argument("path", help="an .epub or .pdf file, or a folder of them")
        parser.add_argument("--library", required=True, metavar="CODE", help="owning library")
        parser.add_argument(
            "--access",
            choices=DigitalFile.Access.values,
            default=DigitalFile.Access.LENDING,
            help="who may read it (default: lending)",
        )
        parser.add_argument(
            "--licences", type=int, default=1, help="readers at a time when lending (default 1)"
        )
        parser.add_argument(
            "--cardholders",
            default="",
            metavar="CODES",
            help="comma-separated library codes whose card holders may read (--access cardholders)",
        )

    def handle(self, *args, path, library, access, licences, cardholders, **options):
        owner = Library.objects.filter(code=library.strip().upper()).first()
        if owner is None:
            raise CommandError(_("No library has the code %(code)s.") % {"code": library})
        chosen = []
        for code in filter(None, (c.strip().upper() for c in cardholders.split(","))):
            found = Library.objects.filter(code=code).first()
            if found is None:
                raise CommandError(_("No library has the code %(code)s.") % {"code": code})
            chosen.append(found)
        source = Path(path)
        if source.is_dir():
            files = sorted(p for p in source.iterdir() if p.suffix.lower() in SUFFIXES)
        elif source.is_file():
            files = [source]
        else:
            raise CommandError(_("No such file or folder: %(path)s") % {"path": path})
        added = refused = 0
        for book in files:
            try:
                with book.open("rb") as stream:
                    result = add_file(
                        upload=stream,
                        name=book.name,
                        library=owner,
                        by=OPERATOR,
                        access_level=access,
                        licences=licences if access == DigitalFile.Access.LENDING else 0,
                        cardholder_libraries=chosen,
                    )
            except DigitalError as error:
                refused += 1
                self.stderr.write(f"{book.name}: {error.message}")
                continue
            added += 1
            how = _("new record") if result.created_record else result.matched_by
            self.stdout.write(
                f"{book.name}: “{result.record.title}” (record {result.record.pk}, {how})"
            )
        self.stdout.write(
            _("Added %(added)d files, refused %(refused)d.") % {"added": added, "refused": refused}
        )
        if not added:
            raise CommandError(_("No file was added."))
