"""python manage.py import_h5p PATH [--title T]: validate and install one .h5p file."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from courses.h5p.storage import install_package
from courses.h5p.validation import H5PValidationError, validate_package


class Command(BaseCommand):
    help = "Validate an .h5p file and install it (libraries shared, content per package)."

    def add_arguments(self, parser):
        parser.add_argument("path", help="the .h5p file")
        parser.add_argument("--title", help="title to show (default: the title in h5p.json)")

    def handle(self, *args, path, title=None, **options):
        source = Path(path)
        if not source.is_file():
            raise CommandError(_("No such file: %(path)s") % {"path": path})
        try:
            validated = validate_package(source)
            package = install_package(validated, title=title, uploaded_by=None)
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
