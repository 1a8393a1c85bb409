"""python manage.py import_h5p PATH [--title T] [--library CODE]: validate and install one
.h5p file, as the operator (who may install and upgrade libraries).

python manage.py import_h5p --refilter: filter every stored package's content again against
its libraries' semantics (run once after upgrading to the version that filters on upload).
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from courses.h5p.storage import OPERATOR, install_package, refilter_stored_content
from courses.h5p.validation import H5PValidationError, validate_package
from libraries.models import Library


class Command(BaseCommand):
    help = "Validate an .h5p file and install it (libraries shared, content per package)."

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", help="the .h5p file")
        parser.add_argument("--title", help="title to show (default: the title in h5p.json)")
        parser.add_argument(
            "--library",
            metavar="CODE",
            help="code of the library that owns the package (default: the whole network)",
        )
        parser.add_argument(
            "--refilter",
            action="store_true",
            help="filter the content of every stored package again (no PATH)",
        )

    def handle(self, *args, path=None, title=None, library=None, refilter=False, **options):
        if refilter:
            if path:
                raise CommandError(_("--refilter takes no file."))
            changed = refilter_stored_content()
            self.stdout.write(
                _("Filtered the content of %(count)d H5P packages again.") % {"count": len(changed)}
            )
            return
        if not path:
            raise CommandError(_("Name the .h5p file to import."))
        source = Path(path)
        if not source.is_file():
            raise CommandError(_("No such file: %(path)s") % {"path": path})
        owner = None
        if library:
            owner = Library.objects.filter(code=library.strip().upper()).first()
            if owner is None:
                raise CommandError(_("No library has the code %(code)s.") % {"code": library})
        try:
            validated = validate_package(source)
            package = install_package(validated, by=OPERATOR, library=owner, title=title)
        except H5PValidationError as exc:
            raise CommandError(f"{source.name}: {exc.message}")
        if validated.warnings and options["verbosity"] > 1:
            for warning in validated.warnings:
                self.stderr.write(_("warning: %(text)s") % {"text": warning})
        elif validated.warnings:
            self.stderr.write(
                _("%(count)d warnings (use -v 2 to list them).")
                % {"count": len(validated.warnings)}
            )
        self.stdout.write(
            _("Imported H5P package %(id)s (%(uuid)s): %(title)s")
            % {"id": package.pk, "uuid": package.uuid, "title": package.title}
        )
