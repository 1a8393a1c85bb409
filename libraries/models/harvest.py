"""Harvesting member libraries' own catalogs over OAI-PMH (Koha, DSpace, another instance of
this site): the sources, each run's report, and where every harvested record and copy came
from, so a second run and a deletion touch exactly what an earlier run wrote."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .catalog import Item, Record
from .network import Library


class HarvestSource(models.Model):
    """An OAI-PMH repository (one set and format of it) whose records the union catalog
    shows as held by `library`."""

    class Prefix(models.TextChoices):
        MARC21 = "marc21", _("MARC21 (MARCXML with holdings: records and copies)")
        # Koha before its 16.x releases, and Koha servers configured with their own formats
        # file, offer MARCXML under this name; the records and copies read the same.
        MARCXML = "marcxml", _("MARCXML (Koha's older name for MARC21, with holdings)")
        OAI_DC = "oai_dc", _("Dublin Core (records only, no copies)")

    MARC_PREFIXES = frozenset({Prefix.MARC21, Prefix.MARCXML})

    name = models.CharField(_("name"), max_length=200)
    base_url = models.URLField(
        _("OAI-PMH address"),
        max_length=500,
        help_text=_(
            "The repository's base URL, e.g. https://thuvien.example.edu.vn/cgi-bin/koha/oai.pl"
        ),
    )
    set_spec = models.CharField(
        _("set"), max_length=200, blank=True, help_text=_("Leave empty to harvest every record.")
    )
    metadata_prefix = models.CharField(
        _("format"), max_length=10, choices=Prefix.choices, default=Prefix.MARC21
    )
    library = models.ForeignKey(
        Library,
        verbose_name=_("library holding the copies"),
        on_delete=models.PROTECT,
        related_name="harvest_sources",
    )
    daily = models.BooleanField(
        _("harvest every day"),
        default=False,
        help_text=_("The task worker harvests the changes once a day."),
    )
    # Learned from Identify: "day" or "second" (the `from` argument is sent in that grain).
    granularity = models.CharField(max_length=10, blank=True, editable=False)
    # The repository's clock when the last successful run began: the next run asks for the
    # changes from here (inclusive, so nothing changed during that run is missed).
    next_from = models.DateTimeField(_("next harvest from"), null=True, blank=True)
    # Identifiers whose records failed: the next run fetches them again with GetRecord.
    retry_identifiers = models.JSONField(default=list, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("registered by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("registered at"), auto_now_add=True)

    class Meta:
        verbose_name = _("harvest source")
        verbose_name_plural = _("harvest sources")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["base_url", "set_spec", "metadata_prefix", "library"],
                name="harvestsource_unique",
            ),
            models.CheckConstraint(
                condition=Q(metadata_prefix__in=["marc21", "marcxml", "oai_dc"]),
                name="harvestsource_prefix_known",
            ),
        ]

    def __str__(self):
        return f"{self.name} → {self.library.code}"

    @property
    def carries_marc(self) -> bool:
        """Whether the format is MARCXML (records with their copies), under either name."""
        return self.metadata_prefix in self.MARC_PREFIXES


class HarvestRun(models.Model):
    """One harvest of a source: when, what `from` it asked for, what it changed, and the
    records it could not take (bounded: the first MAX_ERRORS, then only a count)."""

    MAX_ERRORS = 200

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting")
        RUNNING = "running", _("Harvesting")
        DONE = "done", _("Finished")
        PARTIAL = "partial", _("Finished with problems")
        FAILED = "failed", _("Stopped")

    class Trigger(models.TextChoices):
        MANUAL = "manual", _("Harvest now (staff)")
        SCHEDULE = "schedule", _("Daily schedule")
        COMMAND = "command", _("Command line")

    OPEN = (Status.QUEUED, Status.RUNNING)

    source = models.ForeignKey(
        HarvestSource, verbose_name=_("source"), on_delete=models.CASCADE, related_name="runs"
    )
    trigger = models.CharField(
        _("started by"), max_length=10, choices=Trigger.choices, default=Trigger.MANUAL
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    from_used = models.CharField(_("from"), max_length=20, blank=True)
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    added = models.PositiveIntegerField(_("added"), default=0)
    updated = models.PositiveIntegerField(_("updated"), default=0)
    deleted = models.PositiveIntegerField(_("deleted"), default=0)
    unchanged = models.PositiveIntegerField(_("unchanged"), default=0)
    failed = models.PositiveIntegerField(_("failed"), default=0)
    items_added = models.PositiveIntegerField(_("copies added"), default=0)
    items_updated = models.PositiveIntegerField(_("copies updated"), default=0)
    items_removed = models.PositiveIntegerField(_("copies removed"), default=0)
    requests = models.PositiveIntegerField(_("requests"), default=0)
    errors = models.JSONField(_("problems"), default=list, blank=True)
    errors_not_kept = models.PositiveIntegerField(default=0)
    message = models.TextField(_("message"), blank=True)

    class Meta:
        verbose_name = _("harvest run")
        verbose_name_plural = _("harvest runs")
        ordering = ["-created_at", "-pk"]
        constraints = [
            # One run of a source at a time: a second "harvest now" or a schedule that fires
            # while a run is waiting or going is refused by the database too.
            models.UniqueConstraint(
                fields=["source"],
                condition=Q(status__in=["queued", "running"]),
                name="harvestrun_one_open_per_source",
            ),
        ]

    def __str__(self):
        return f"{self.source} · {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN


class HarvestedRecord(models.Model):
    """A remote record (source + OAI identifier) and the local record it became or matched."""

    source = models.ForeignKey(
        HarvestSource, on_delete=models.PROTECT, related_name="harvested_records"
    )
    identifier = models.CharField(_("OAI identifier"), max_length=500)
    record = models.ForeignKey(
        Record, verbose_name=_("record"), on_delete=models.CASCADE, related_name="harvested_from"
    )
    # True: the harvest created the record, so its description follows the source. False: it
    # matched a record already in the union catalog, which keeps its cataloguing.
    created_record = models.BooleanField(default=False)
    datestamp = models.CharField(max_length=30, blank=True)
    checksum = models.CharField(max_length=64, blank=True)
    harvested_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("harvested record")
        verbose_name_plural = _("harvested records")
        constraints = [
            models.UniqueConstraint(
                fields=["source", "identifier"], name="harvestedrecord_source_identifier"
            )
        ]

    def __str__(self):
        return self.identifier


class HarvestedItem(models.Model):
    """A copy written by a harvest, keyed by the remote item's number (952 $9) or barcode."""

    harvested = models.ForeignKey(HarvestedRecord, on_delete=models.CASCADE, related_name="items")
    item = models.OneToOneField(Item, on_delete=models.CASCADE, related_name="harvested_as")
    key = models.CharField(max_length=100, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["harvested", "key"], name="harvesteditem_key")
        ]

    def __str__(self):
        return self.key
