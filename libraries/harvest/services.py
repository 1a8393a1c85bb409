"""The harvest run: a member library's repository, page by page, into the union catalog.

Each page is one transaction and each record one savepoint in it, so a record that cannot
be taken (broken MARC, a barcode of another library...) is reported with its identifier and
reason and leaves nothing behind, and the run goes on.

- A deleted header removes the copies this source wrote; the record goes too when the
  harvest created it and nothing else holds it (no copy, no other source, no hold).
- A record whose bytes are the same as last time is counted unchanged and not touched.
- A new identifier is first matched to the union catalog by the MARC import's rule (same
  control number with its agency, else same ISBN, else, with neither, the same fingerprint
  of title, author, publisher and year); a 001 without 003, or with Koha's installer
  default "OSt", is only the source system's own number (records.py). A match
  gets the library's copies, not a second record, and keeps its description; otherwise the
  record is created, catalogued by the source's library, and later versions update it.
- Copies follow the holdings (records.py): added, changed, removed (withdrawn instead
  when they have a loan history). A barcode used by another library's copy refuses the
  record; a copy of the same library with that barcode (an earlier MARC import) is adopted.
- Incremental: each successful run remembers the repository's clock at its start and the
  next run asks `from` there (in the repository's granularity, inclusive). Records that
  failed are asked for again by GetRecord on the next run.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import ProtectedError, Q, RestrictedError
from django.utils import timezone
from django.utils.translation import gettext as _

from libraries.catalog.marc import MAPPED_FIELDS, RecordMatcher
from libraries.catalog.services import CatalogError, next_barcodes, save_record, touch_records
from libraries.harvest.client import (
    HarvestError,
    OaiClient,
    OaiError,
    Page,
    RemoteRecord,
    parse_datestamp,
)
from libraries.harvest.records import (
    Copy,
    HarvestedMetadata,
    RecordRefused,
    branch_of,
    read_metadata,
)
from libraries.models import (
    HarvestedItem,
    HarvestedRecord,
    HarvestRun,
    HarvestSource,
    Item,
    Record,
)

logger = logging.getLogger(__name__)

MAX_RETRY_IDENTIFIERS = 1000
DAILY = datetime.timedelta(hours=23, minutes=50)  # a cron a few minutes late still counts
STALE_AFTER = datetime.timedelta(hours=6)
# Statuses our own circulation sets; a source saying "available" does not undo them.
CIRCULATING = (Item.Status.ON_LOAN, Item.Status.IN_TRANSIT, Item.Status.ON_HOLD_SHELF)


class HarvestRefused(ValidationError):
    """A harvest cannot be started (one is already waiting or running); for staff."""


def format_from(moment: datetime.datetime, granularity: str) -> str:
    moment = moment.astimezone(datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ" if granularity == "second" else "%Y-%m-%d")


def parse_from(text: str) -> datetime.datetime | None:
    """A `from` typed by staff: YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ (UTC), else None."""
    return parse_datestamp(text)


# --------------------------------------------------------------------------- starting


@transaction.atomic
def queue_run(*, source: HarvestSource, trigger: str, by=None) -> HarvestRun:
    """A waiting run of `source`; refused while another run of it waits or goes."""
    HarvestSource.objects.select_for_update().filter(pk=source.pk).first()
    busy = HarvestRefused(
        _("A harvest of %(source)s is already waiting or running.") % {"source": source.name}
    )
    if source.runs.filter(status__in=HarvestRun.OPEN).exists():
        raise busy
    try:
        with transaction.atomic():
            return HarvestRun.objects.create(
                source=source, trigger=trigger, requested_by=by if by and by.pk else None
            )
    except IntegrityError:  # the partial unique constraint: another request was first
        raise busy


def run_queued(run_id: int, *, from_date: datetime.datetime | None = None) -> HarvestRun:
    """Run a waiting harvest (a task retried after it started does nothing)."""
    now = timezone.now()
    if not HarvestRun.objects.filter(pk=run_id, status=HarvestRun.Status.QUEUED).update(
        status=HarvestRun.Status.RUNNING, started_at=now
    ):
        return HarvestRun.objects.get(pk=run_id)
    run = HarvestRun.objects.select_related("source__library").get(pk=run_id)
    harvest = _Harvest(run)
    try:
        harvest.harvest(from_date)
    except HarvestError as exc:
        run.status = HarvestRun.Status.FAILED
        run.message = exc.message
    except Exception as exc:  # noqa: BLE001 - the run's page must say what went wrong
        logger.exception("Harvest run %s of %s stopped", run.pk, run.source.base_url)
        run.status = HarvestRun.Status.FAILED
        run.message = _("The harvest stopped: %(e)s") % {"e": exc}
    run.finished_at = timezone.now()
    run.save()
    return run


def harvest_now(
    *, source: HarvestSource, trigger: str = HarvestRun.Trigger.COMMAND, by=None, from_date=None
) -> HarvestRun:
    """Queue and run a harvest in this process (the command line)."""
    run = queue_run(source=source, trigger=trigger, by=by)
    return run_queued(run.pk, from_date=from_date)


# --------------------------------------------------------------------------- the schedule


def close_stale_runs(now: datetime.datetime | None = None) -> int:
    """Runs a stopped worker left open for STALE_AFTER are marked stopped, so their source
    can be harvested again."""
    limit = (now or timezone.now()) - STALE_AFTER
    stale = HarvestRun.objects.filter(
        Q(status=HarvestRun.Status.QUEUED, created_at__lt=limit)
        | Q(status=HarvestRun.Status.RUNNING, started_at__lt=limit)
    )
    return stale.update(
        status=HarvestRun.Status.FAILED,
        finished_at=timezone.now(),
        message=_("No task worker finished this run; it was given up after six hours."),
    )


def due_sources(now: datetime.datetime | None = None) -> list[HarvestSource]:
    """Sources harvested daily with no run waiting or going and none begun in the last day."""
    recent = (now or timezone.now()) - DAILY
    return list(
        HarvestSource.objects.filter(daily=True)
        .exclude(runs__status__in=HarvestRun.OPEN)
        .exclude(runs__created_at__gt=recent)
        .select_related("library")
        .order_by("pk")
        .distinct()
    )


# --------------------------------------------------------------------------- one record


@dataclass
class Outcome:
    kind: str  # added, updated, deleted, unchanged
    items_added: int = 0
    items_updated: int = 0
    items_removed: int = 0


def match_probe(fields: dict) -> Record:
    """An unsaved record to match the union catalog with (the MARC import's matcher)."""
    probe = Record(**fields)
    probe.refresh_search_text()
    return probe


def _describe(record: Record, data: HarvestedMetadata) -> bool:
    """Give a record the harvested description; False when nothing differs."""
    same = all(getattr(record, k) == data.fields[k] for k in MAPPED_FIELDS)
    if same and (data.marc is None or bytes(record.marc or b"") == data.marc):
        return False
    for k in MAPPED_FIELDS:
        setattr(record, k, data.fields[k])
    if data.marc is not None:
        record.marc = data.marc
    save_record(record)
    return True


def _remove_copy(item: Item) -> None:
    """Delete a harvested copy; one with a circulation history is withdrawn instead."""
    HarvestedItem.objects.filter(item=item).delete()
    try:
        with transaction.atomic():
            item.delete()
    except (ProtectedError, RestrictedError):
        item.status = Item.Status.WITHDRAWN
        item.save(update_fields=["status", "updated_at"])
    touch_records([item.record_id])


class PageState:
    """What the records of one page need from the database, read in three queries: their
    links (by identifier), the source's copies by key, and the copies by barcode. Writes
    keep it up to date; after a record is rolled back it is read again."""

    def __init__(self, source: HarvestSource, records: list[RemoteRecord]):
        self.source = source
        self.identifiers = [r.identifier for r in records]
        self.keys: set[str] = set()
        self.barcodes: set[str] = set()
        self.by_key: dict[str, HarvestedItem] = {}
        self.by_barcode: dict[str, Item] = {}
        self.probes: dict[str, Record] = {}
        self.matcher = RecordMatcher([])
        self._read_links()

    def _read_links(self) -> None:
        self.links = {
            link.identifier: link
            for link in HarvestedRecord.objects.select_related("record").filter(
                source=self.source, identifier__in=self.identifiers
            )
        }

    def _read_copies(self) -> None:
        self.by_key = {
            hi.key: hi
            for hi in HarvestedItem.objects.select_related("item").filter(
                harvested__source=self.source, key__in=self.keys
            )
        }
        self.by_barcode = {
            item.barcode: item
            for item in Item.objects.select_related("library", "harvested_as").filter(
                barcode__in=self.barcodes
            )
        }

    def read_copies(self, parsed: dict[str, HarvestedMetadata]) -> None:
        """Read what the records to write need: their copies, and the union catalog's
        candidates for the new ones (one query for the page)."""
        self.probes = {
            identifier: match_probe(data.fields)
            for identifier, data in parsed.items()
            if identifier not in self.links
        }
        self.matcher = RecordMatcher(list(self.probes.values()))
        parsed = list(parsed.values())
        self.keys = {c.key for data in parsed for c in data.copies}
        self.barcodes = {c.barcode for data in parsed for c in data.copies if c.barcode}
        self._read_copies()

    def reload(self) -> None:
        self._read_links()
        self._read_copies()
        self.matcher = RecordMatcher(list(self.probes.values()))

    def remember(self, links: list[HarvestedItem]) -> None:
        for hi in links:
            hi.item.harvested_as = hi
            self.by_key[hi.key] = hi
            self.by_barcode[hi.item.barcode] = hi.item


def _sync_copies(
    link: HarvestedRecord, copies: list[Copy], state: PageState, *, fresh: bool
) -> tuple[int, int, int]:
    """Make the library's harvested copies of `link` those of the holdings. `fresh`: the
    link was just made, so it has no copies yet."""
    library = state.source.library
    record = link.record
    linked = {} if fresh else {hi.key: hi for hi in link.items.select_related("item")}
    new: list[tuple[Item, str]] = []
    adopted: list[HarvestedItem] = []
    changed: list[Item] = []
    touched = {record.pk} if not fresh else set()
    seen: set[str] = set()
    for copy in copies:
        if copy.key in seen:
            continue
        seen.add(copy.key)
        hi = linked.get(copy.key) or state.by_key.get(copy.key)
        if hi is not None and hi.harvested_id != link.pk:
            # The source moved this copy from another of its records.
            touched.add(hi.item.record_id)
            hi.harvested = link
            hi.save(update_fields=["harvested"])
        item = hi.item if hi is not None else None
        if item is None and copy.barcode in state.by_barcode:
            item = state.by_barcode[copy.barcode]
            if item.library_id != library.pk:
                raise RecordRefused(
                    _("barcode %(barcode)s is already used by a copy of %(library)s")
                    % {"barcode": copy.barcode, "library": item.library.code}
                )
            if hasattr(item, "harvested_as"):
                raise RecordRefused(
                    _("barcode %(barcode)s is already a copy harvested from another source")
                    % {"barcode": copy.barcode}
                )
            # The library's own copy (an earlier MARC import): adopted, then kept in step.
            adopted.append(HarvestedItem(harvested=link, item=item, key=copy.key))
        if item is None:
            item = Item(
                record=record,
                library=library,
                location=library,
                barcode=copy.barcode,
                call_number=copy.call_number or record.call_number,
                item_type=copy.item_type,
                status=copy.status,
                price=copy.price,
                acquired_on=copy.acquired_on,
                notes=copy.notes,
            )
            new.append((item, copy.key))
            continue
        status = copy.status
        if status == Item.Status.AVAILABLE and item.status in CIRCULATING:
            status = item.status
        wanted = {
            "record_id": record.pk,
            "barcode": copy.barcode or item.barcode,
            "call_number": copy.call_number or record.call_number,
            "item_type": copy.item_type,
            "status": status,
        }
        if any(getattr(item, k) != v for k, v in wanted.items()):
            if item.record_id != record.pk:
                touched.add(item.record_id)
            for k, v in wanted.items():
                setattr(item, k, v)
            changed.append(item)
    # Copies without a barcode get the library's next numbers, as the MARC import does.
    blank = [item for item, _key in new if not item.barcode]
    if blank:
        for item, barcode in zip(blank, next_barcodes(library, len(blank)), strict=True):
            item.barcode = barcode
    Item.objects.bulk_create([item for item, _key in new])
    links = HarvestedItem.objects.bulk_create(
        adopted + [HarvestedItem(harvested=link, item=item, key=key) for item, key in new]
    )
    for item in changed:
        item.save(update_fields=["record", "barcode", "call_number", "item_type", "status",
                                 "updated_at"])  # fmt: skip
    removed = 0
    for key, hi in linked.items():
        if key not in seen:
            _remove_copy(hi.item)
            removed += 1
    if new or changed or removed or adopted:
        touch_records(touched)
    state.remember(links)
    return len(new), len(changed), removed


def _forget(link: HarvestedRecord) -> int:
    """The source deleted the record: remove its copies, and the record when nothing else
    holds it. Returns the number of copies removed."""
    removed = 0
    for hi in link.items.select_related("item"):
        _remove_copy(hi.item)
        removed += 1
    record, created = link.record, link.created_record
    link.delete()
    if created:
        other = HarvestedRecord.objects.filter(record=record).order_by("pk").first()
        if other is not None:
            # Another source holds the record too: its description follows that source now.
            other.created_record = True
            other.save(update_fields=["created_record"])
        elif not record.items.exists() and not record.holds.exists():
            record.delete()  # leaves an OAI-PMH tombstone for our own harvesters
    return removed


def checksum_of(remote: RemoteRecord) -> str:
    return hashlib.sha256(remote.raw).hexdigest()


def apply_record(
    *, source: HarvestSource, remote: RemoteRecord, data: HarvestedMetadata | None, state: PageState
) -> Outcome:
    """Take one record of the source, read as `data` (None for a deleted one). Call it in a
    savepoint: it raises RecordRefused or CatalogError half-way."""
    link = state.links.get(remote.identifier)
    if remote.deleted:
        if link is None:
            return Outcome("unchanged")
        removed = _forget(link)
        del state.links[remote.identifier]
        return Outcome("deleted", items_removed=removed)
    fresh = link is None
    if fresh:
        record, _how = state.matcher.match(state.probes[remote.identifier])
        created = record is None
        if created:
            record = save_record(
                Record(**data.fields, marc=data.marc, source_library=source.library)
            )
            state.matcher.remember(record)  # a later record of the page may be the same
        link = HarvestedRecord.objects.create(
            source=source,
            identifier=remote.identifier,
            record=record,
            created_record=created,
            datestamp=remote.datestamp,
            checksum=checksum_of(remote),
        )
        state.links[remote.identifier] = link
        outcome = Outcome("added")
    else:
        changed = link.created_record and _describe(link.record, data)
        link.checksum, link.datestamp = checksum_of(remote), remote.datestamp
        link.save(update_fields=["checksum", "datestamp", "harvested_at"])
        outcome = Outcome("updated" if changed else "unchanged")
    if source.carries_marc:
        added, updated, removed = _sync_copies(link, data.copies, state, fresh=fresh)
        outcome.items_added, outcome.items_updated, outcome.items_removed = added, updated, removed
        if outcome.kind == "unchanged" and (added or updated or removed):
            outcome.kind = "updated"
    return outcome


# --------------------------------------------------------------------------- the run


class _Harvest:
    def __init__(self, run: HarvestRun):
        self.run = run
        self.source = run.source
        self.seen: set[str] = set()
        self.failed_ids: list[str] = []
        self.unidentified = 0

    def problem(self, identifier: str, reason: str) -> None:
        if len(self.run.errors) < HarvestRun.MAX_ERRORS:
            self.run.errors.append({"identifier": identifier[:300], "reason": str(reason)[:500]})
        else:
            self.run.errors_not_kept += 1

    def fail(self, identifier: str, reason: str) -> None:
        self.run.failed += 1
        self.problem(identifier, reason)
        if identifier:
            if identifier not in self.failed_ids:
                self.failed_ids.append(identifier)
        else:
            self.unidentified += 1

    def harvest(self, from_date: datetime.datetime | None) -> None:
        source, run = self.source, self.run
        client = OaiClient(source.base_url)
        try:
            identity = client.identify()
            source.granularity = identity.granularity
            started = (identity.response_date or timezone.now()).replace(microsecond=0)
            moment = from_date or source.next_from
            run.from_used = format_from(moment, identity.granularity) if moment else ""
            HarvestRun.objects.filter(pk=run.pk).update(from_used=run.from_used)
            self.list_all(client)
            self.retry_failed(client)
        finally:
            run.requests = client.requests
        self.finish(started)

    def list_all(self, client: OaiClient) -> None:
        source = self.source
        restarted = False
        while True:
            try:
                for page in client.list_records(
                    prefix=source.metadata_prefix,
                    set_spec=source.set_spec,
                    from_=self.run.from_used,
                ):
                    self.take(page)
                return
            except OaiError as exc:
                if exc.code != "badResumptionToken" or restarted:
                    raise
                restarted = True
                self.problem(
                    "",
                    _(
                        "The repository refused its own resumption token (%(e)s); the list "
                        "was asked for again from the start."
                    )
                    % {"e": exc.message},
                )

    def retry_failed(self, client: OaiClient) -> None:
        """Records that failed last time and did not come again in the list."""
        for identifier in self.source.retry_identifiers:
            if identifier in self.seen:
                continue
            try:
                page = client.get_record(identifier=identifier, prefix=self.source.metadata_prefix)
            except OaiError as exc:
                if exc.code != "idDoesNotExist":
                    raise
                page = Page(records=[RemoteRecord(identifier, "", deleted=True)])
            self.take(page)

    def take(self, page: Page) -> None:
        """One page in one transaction. When it is rolled back (an error that stops the
        run), the run's counts go back to what the database holds."""
        counts = {name: getattr(self.run, name) for name in PROGRESS_FIELDS}
        counts["errors"] = list(counts["errors"])
        noted = (list(self.failed_ids), self.unidentified)
        try:
            self._take(page)
        except BaseException:
            for name, value in counts.items():
                setattr(self.run, name, value)
            self.failed_ids, self.unidentified = noted
            raise

    @transaction.atomic
    def _take(self, page: Page) -> None:
        """Unchanged records cost no query; the others are read first, then each is written
        in its own savepoint."""
        run, source = self.run, self.source
        for identifier, reason in page.problems:
            self.fail(identifier, reason)
        state = PageState(source, page.records)
        todo: list[tuple[RemoteRecord, HarvestedMetadata | None]] = []
        for remote in page.records:
            self.seen.add(remote.identifier)
            link = state.links.get(remote.identifier)
            if remote.deleted:
                if link is None:  # never harvested, or already removed
                    run.unchanged += 1
                else:
                    todo.append((remote, None))
                continue
            if link is not None and link.checksum == checksum_of(remote):
                run.unchanged += 1
                continue
            try:
                data = read_metadata(
                    remote.metadata, source.metadata_prefix, branch=branch_of(source.set_spec)
                )
            except RecordRefused as exc:
                self.fail(remote.identifier, exc.reason)
                continue
            todo.append((remote, data))
        state.read_copies({r.identifier: data for r, data in todo if data is not None})
        for remote, data in todo:
            try:
                with transaction.atomic():
                    outcome = apply_record(source=source, remote=remote, data=data, state=state)
            except RecordRefused as exc:
                self.fail(remote.identifier, exc.reason)
            except CatalogError as exc:
                self.fail(remote.identifier, " ".join(exc.messages))
            except DatabaseError as exc:  # a value the database refuses: this record only
                self.fail(remote.identifier, _("the database refused it: %(e)s") % {"e": exc})
            else:
                setattr(run, outcome.kind, getattr(run, outcome.kind) + 1)
                run.items_added += outcome.items_added
                run.items_updated += outcome.items_updated
                run.items_removed += outcome.items_removed
                continue
            state.reload()  # what the rolled-back record wrote is gone
        HarvestRun.objects.filter(pk=run.pk).update(
            **{name: getattr(run, name) for name in PROGRESS_FIELDS}
        )

    def finish(self, started: datetime.datetime) -> None:
        source, run = self.source, self.run
        source.retry_identifiers = self.failed_ids[:MAX_RETRY_IDENTIFIERS]
        if self.unidentified or len(self.failed_ids) > MAX_RETRY_IDENTIFIERS:
            run.message = _(
                "Some failed records could not be noted for the next run: it asks again "
                "for every change since %(from)s."
            ) % {"from": run.from_used or _("the beginning")}
        else:
            source.next_from = started
        source.save(update_fields=["granularity", "next_from", "retry_identifiers"])
        has_problems = run.failed or run.errors or run.errors_not_kept
        run.status = HarvestRun.Status.PARTIAL if has_problems else HarvestRun.Status.DONE


PROGRESS_FIELDS = (
    "added",
    "updated",
    "deleted",
    "unchanged",
    "failed",
    "items_added",
    "items_updated",
    "items_removed",
    "errors",
    "errors_not_kept",
)
