"""python manage.py harvest_oai URL --library CODE [--set S] [--from DATE]
    [--prefix marc21|marcxml|oai_dc]

Harvests a member library's OAI-PMH repository into the union catalog, its copies held by
the library CODE. The source (URL, set, format, library) is registered on first use, so a
second run asks only for the changes since the first (or since --from) and adds nothing
that is already there.
"""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from libraries.harvest.client import UnsafeUrl, check_url
from libraries.harvest.services import HarvestRefused, harvest_now, parse_from
from libraries.models import HarvestRun, HarvestSource, Library


class Command(BaseCommand):
    help = "Harvest an OAI-PMH repository into the union catalog, held by a library."

    def add_arguments(self, parser):
        parser.add_argument("url", help="the repository's base URL")
        parser.add_argument(
            "--library", required=True, help="code of the library holding the copies"
        )
        parser.add_argument("--set", default="", dest="set_spec", help="an OAI set (setSpec)")
        parser.add_argument(
            "--prefix", choices=HarvestSource.Prefix.values, default=HarvestSource.Prefix.MARC21
        )
        parser.add_argument(
            "--from",
            dest="from_date",
            default="",
            help="changes since this date (YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ, UTC)",
        )
        parser.add_argument("--name", default="", help="a name for the source (first run)")

    def handle(self, *args, **options):
        code = options["library"].strip().upper()
        library = Library.objects.filter(code=code, is_active=True).first()
        if library is None:
            raise CommandError(_("No active library with code %(code)s.") % {"code": code})
        from_date = None
        if options["from_date"]:
            from_date = parse_from(options["from_date"])
            if from_date is None:
                raise CommandError(
                    _("--from must be a date: YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ (UTC), not %(v)s.")
                    % {"v": options["from_date"]}
                )
        url = options["url"].strip()
        try:
            check_url(url)
        except UnsafeUrl as exc:
            raise CommandError(exc.message)
        source, _created = HarvestSource.objects.get_or_create(
            base_url=url,
            set_spec=options["set_spec"].strip(),
            metadata_prefix=options["prefix"],
            library=library,
            defaults={"name": (options["name"] or url)[:200]},
        )
        try:
            run = harvest_now(source=source, from_date=from_date)
        except HarvestRefused as exc:
            raise CommandError(" ".join(exc.messages))
        self.stdout.write(
            _(
                "added: %(added)d, updated: %(updated)d, deleted: %(deleted)d, "
                "unchanged: %(unchanged)d, failed: %(failed)d; copies added: %(items_added)d, "
                "updated: %(items_updated)d, removed: %(items_removed)d"
            )
            % {
                name: getattr(run, name)
                for name in (
                    "added",
                    "updated",
                    "deleted",
                    "unchanged",
                    "failed",
                    "items_added",
                    "items_updated",
                    "items_removed",
                )
            }  # fmt: skip
        )
        for problem in run.errors:
            self.stderr.write(
                _("Problem: %(identifier)s: %(reason)s")
                % {"identifier": problem["identifier"] or "-", "reason": problem["reason"]}
            )
        if run.status == HarvestRun.Status.FAILED:
            raise CommandError(_("The harvest stopped: %(message)s") % {"message": run.message})
        if run.status == HarvestRun.Status.PARTIAL:
            raise CommandError(
                _("%(n)d record(s) could not be harvested.") % {"n": run.failed}, returncode=2
            )
