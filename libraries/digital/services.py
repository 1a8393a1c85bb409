"""The digital collection's services: adding files, changing them, and lending licences.

Adding a file: the upload is validated (libraries/digital/validation.py) before anything is
written; then its record is found (MARC import's matching) or created, and the file stored in
private storage under a generated name. A refused file leaves no row and no file.

Lending: a reader borrows one licence of a lending file for the days the circulation rule for
item type "digital" gives at the owning library; returns it early or it ends by itself
(`expire`, run by a task and `manage.py expire_digital_loans`); no fines. When no licence is
free the reader joins the waiting list, a hold on the record naming the file; a licence that
comes free is offered to the first reader waiting, by email, for 48 hours, then to the next.
Every lending action locks the file's row first, so licences are counted one action at a time,
and each open loan holds a licence slot that the database lets no second open loan hold.
"""

from __future__ import annotations

import datetime
import io
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.files.base import File
from django.core.files.images import ImageFile
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from wagtail.images import get_image_model

from libraries import access
from libraries.catalog.services import CatalogError, save_record
from libraries.circulation.services import CirculationError, ensure_patron_may_borrow, rule_for
from libraries.digital.metadata import find_record, new_record
from libraries.digital.validation import BookRefused, ValidatedBook, validate_book
from libraries.models import (
    DigitalFile,
    DigitalLoan,
    DigitalText,
    DigitalWordPlace,
    Hold,
    Library,
    Patron,
    PatronCategory,
    Record,
)
from libraries.models.digital import DIGITAL_ITEM_TYPE, DIGITAL_OFFER_HOURS, offer_ends_at
from libraries.network.audit import changes, field_values, log_change
from libraries.network.services import site_url
from training_site.text import folded_words

logger = logging.getLogger(__name__)


class DigitalError(Exception):
    """A refusal; the message is shown to the librarian or reader as is."""

    def __init__(self, message: str, code: str = "refused"):
        super().__init__(message)
        self.message = message
        self.code = code


class Operator:
    """Whoever runs a command on the server (import_ebook, load_demo): acts for any library."""

    def __repr__(self) -> str:
        return "OPERATOR"


OPERATOR = Operator()

# What the staff audit log keeps of a file (libraries/network/audit.py): its place in the
# catalog and who may read it, never the reader data of its loans.
LOGGED_FIELDS = ("record", "library", "access", "licences", "label", "original_name", "sha256")


def _logged(file: DigitalFile) -> dict:
    values = field_values(file, LOGGED_FIELDS)
    values["cardholder_libraries"] = sorted(file.cardholder_libraries.values_list("pk", flat=True))
    return values


def _log(file: DigitalFile, action: str, by, before: dict, after: dict) -> None:
    log_change(
        file,
        action,
        by=None if by is OPERATOR else by,
        before=before,
        after=after,
        library=file.library,
    )


def _may_manage(by, library: Library) -> bool:
    return by is OPERATOR or access.reaches(by, library)


# --------------------------------------------------------------------------- adding files


@dataclass
class AddedFile:
    file: DigitalFile
    record: Record
    matched_by: str
    created_record: bool


def _check_access_level(access_level: str, licences: int, cardholder_libraries) -> None:
    if access_level not in DigitalFile.Access.values:
        raise DigitalError(_("Unknown access level: %(level)s.") % {"level": access_level})
    if access_level == DigitalFile.Access.LENDING and (licences or 0) < 1:
        raise DigitalError(_("A lending file needs at least one licence."), "licences")
    if access_level == DigitalFile.Access.CARDHOLDERS and not list(cardholder_libraries or []):
        raise DigitalError(
            _("Choose the libraries whose card holders may read this file."), "cardholders"
        )


# PostgreSQL keeps the words as a tsvector too, which holds at most 1 MB: a vocabulary is cut
# well below (a long novel's is about 150 KB).
MAX_VOCABULARY_CHARS = 400_000


def vocabulary(text: str) -> str:
    """Each distinct folded word of `text` once, padded with spaces (DigitalText.words)."""
    words = " ".join(w for w in dict.fromkeys(folded_words(text).split()) if len(w) < 100)
    if len(words) > MAX_VOCABULARY_CHARS:
        words = words[:MAX_VOCABULARY_CHARS].rsplit(" ", 1)[0]
    return f" {words} " if words else ""


_TOKEN = re.compile(r"\w+")


def first_places(text: str) -> dict[str, int]:
    """Each folded word of `text` and the offset of its first occurrence."""
    folded_tokens: dict[str, list[str]] = {}
    places: dict[str, int] = {}
    for found in _TOKEN.finditer(text):
        token = found.group()
        folded = folded_tokens.get(token)
        if folded is None:
            folded = folded_tokens[token] = folded_words(token).split()
        for word in folded:
            if word not in places and len(word) < 100:
                places[word] = found.start()
    return places


def _store_text(file: DigitalFile, text: str) -> None:
    """Every file's words are searched; only an open-access file keeps its body, and where
    each word first occurs in it, for the passages shown with search results."""
    body = text if file.is_open else ""
    stored, _created = DigitalText.objects.update_or_create(
        file=file, defaults={"record": file.record, "words": vocabulary(text), "body": body}
    )
    DigitalWordPlace.objects.filter(text=stored).delete()
    if body:
        DigitalWordPlace.objects.bulk_create(
            [DigitalWordPlace(text=stored, word=w, at=at) for w, at in first_places(body).items()],
            batch_size=2000,
        )


def _save_cover(book: ValidatedBook, record: Record) -> object | None:
    """The book's cover as a Wagtail image (None when it has none or it is not an image)."""
    if book.cover is None:
        return None
    image_model = get_image_model()
    try:
        with transaction.atomic():
            image = image_model(
                title=record.title[:255] or "cover",
                file=ImageFile(io.BytesIO(book.cover.data), name=f"cover.{book.cover.extension}"),
            )
            image.save()
    except Exception:  # noqa: BLE001 - a broken cover must not stop the book
        logger.warning("The cover of record %s could not be read; the book has none.", record.pk)
        return None
    return image


@transaction.atomic
def add_file(
    *,
    upload,
    name: str,
    library: Library,
    by,
    access_level: str,
    licences: int = 0,
    cardholder_libraries: Iterable[Library] = (),
    record: Record | None = None,
    label: str = "",
    validated: ValidatedBook | None = None,
) -> AddedFile:
    """Check an EPUB or PDF, find or create its record, store it for `library`.

    `upload` is a binary file object (an upload, an open file). `record` attaches the file to
    that record instead of the one its metadata matches. Raises DigitalError, having written
    nothing.
    """
    if not _may_manage(by, library) or not library.is_active:
        raise DigitalError(_("You may only add files to libraries you work for."), "not_allowed")
    cardholder_libraries = list(cardholder_libraries or [])
    _check_access_level(access_level, licences, cardholder_libraries)
    if validated is None:
        try:
            validated = validate_book(upload, name)
        except BookRefused as refused:
            raise DigitalError(refused.message, "invalid")
    twin = (
        DigitalFile.objects.filter(library=library, sha256=validated.sha256)
        .select_related("record")
        .first()
    )
    if twin is not None:
        raise DigitalError(
            _("%(library)s already has this file (record “%(title)s”).")
            % {"library": library.code, "title": twin.record.title},
            "duplicate",
        )
    created = False
    if record is not None:
        matched_by = "chosen"
    else:
        record, matched_by = find_record(validated.metadata)
        if record is None:
            record = new_record(validated.metadata, fallback_title=_stem(name))
            try:
                save_record(record, library=library)
            except CatalogError as error:
                raise DigitalError(error.message, "record")
            matched_by, created = "new", True
    cover = _save_cover(validated, record)
    if cover is not None and record.cover_id is None:
        record.cover = cover
        Record.objects.filter(pk=record.pk).update(cover=cover)
    digital = DigitalFile(
        record=record,
        library=library,
        kind=validated.kind,
        access=access_level,
        licences=licences if access_level == DigitalFile.Access.LENDING else 0,
        label=label[:200],
        original_name=(name or "")[:255],
        size=validated.size,
        sha256=validated.sha256,
        cover=cover,
        metadata=validated.metadata.as_dict() | {"pages": validated.pages},
        matched_by=matched_by,
        uploaded_by=None if by is OPERATOR else by,
    )
    upload.seek(0)
    digital.file.save(f"book.{validated.kind}", File(upload), save=False)
    try:
        with transaction.atomic():
            digital.save()
    except IntegrityError:
        digital.file.delete(save=False)
        raise DigitalError(
            _("%(library)s already has this file.") % {"library": library.code}, "duplicate"
        )
    except Exception:
        digital.file.delete(save=False)
        raise
    if cardholder_libraries:
        digital.cardholder_libraries.set(cardholder_libraries)
    if validated.text:
        _store_text(digital, validated.text)
    _log(digital, "libraries.digital_file.create", by, {}, _logged(digital))
    return AddedFile(file=digital, record=record, matched_by=matched_by, created_record=created)


def _stem(name: str) -> str:
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    return base.rsplit(".", 1)[0].replace("_", " ").replace("-", " ").strip() or _("Untitled")


@transaction.atomic
def change_file(
    *,
    file: DigitalFile,
    by,
    record: Record | None = None,
    access_level: str | None = None,
    licences: int | None = None,
    cardholder_libraries: Iterable[Library] | None = None,
    label: str | None = None,
    now=None,
) -> DigitalFile:
    """Attach the file to another record, or change its access, licences or label."""
    now = now or timezone.now()
    file = DigitalFile.objects.select_for_update().select_related("library").get(pk=file.pk)
    if not _may_manage(by, file.library):
        raise DigitalError(_("You may only change files of libraries you work for."), "not_allowed")
    logged_before = _logged(file)
    new_access = access_level or file.access
    new_licences = file.licences if licences is None else licences
    if new_access != DigitalFile.Access.LENDING:
        new_licences = 0
    chosen = list(cardholder_libraries) if cardholder_libraries is not None else None
    _check_access_level(
        new_access,
        new_licences,
        chosen if chosen is not None else file.cardholder_libraries.all(),
    )
    on_loan = DigitalLoan.objects.open().filter(file=file).count()
    if on_loan and new_access != DigitalFile.Access.LENDING:
        raise DigitalError(
            _("%(count)s readers have this file on loan: it stays a lending file until then.")
            % {"count": on_loan},
            "on_loan",
        )
    if on_loan > new_licences and new_access == DigitalFile.Access.LENDING:
        raise DigitalError(
            _("%(count)s licences are on loan: keep at least that many.") % {"count": on_loan},
            "on_loan",
        )
    was_open = file.is_open
    fields = ["access", "licences", "updated_at"]
    file.access, file.licences = new_access, new_licences
    if record is not None and record.pk != file.record_id:
        file.record = record
        file.matched_by = "chosen"
        fields += ["record", "matched_by"]
        Hold.objects.active().filter(digital_file=file).update(record=record)
        DigitalText.objects.filter(file=file).update(record=record)
    if label is not None:
        file.label = label[:200]
        fields.append("label")
    file.save(update_fields=fields)
    if chosen is not None:
        file.cardholder_libraries.set(chosen)
    if file.is_open and not was_open:
        _store_text(file, _text_of_stored(file))
    elif was_open and not file.is_open:
        DigitalText.objects.filter(file=file).update(body="")
        DigitalWordPlace.objects.filter(text_id=file.pk).delete()
    if new_access != DigitalFile.Access.LENDING:
        # Nobody waits for a licence of a file everyone allowed may now open.
        Hold.objects.active().filter(digital_file=file).update(
            status=Hold.Status.CANCELLED, closed_at=now
        )
    else:
        _offer_free_licences(file, now)
    before, after = changes(logged_before, _logged(file))
    if before or after:
        _log(file, "libraries.digital_file.edit", by, before, after)
    return file


def _text_of_stored(file: DigitalFile) -> str:
    with file.file.open("rb") as stream:
        data = io.BytesIO(stream.read())
    try:
        return validate_book(data, file.original_name).text
    except BookRefused:
        return ""


@transaction.atomic
def delete_file(*, file: DigitalFile, by) -> None:
    """Remove a file that was never lent (its loans keep the history otherwise)."""
    file = DigitalFile.objects.select_for_update().select_related("library").get(pk=file.pk)
    if by is not OPERATOR and not access.can_administer(by, file.library):
        raise DigitalError(
            _("Only administrators of the owning library may delete its files."), "not_allowed"
        )
    if DigitalLoan.objects.filter(file=file).exists():
        raise DigitalError(
            _("This file has been lent: its loans keep it. Change its access instead."), "lent"
        )
    storage, name = file.file.storage, file.file.name
    _log(file, "libraries.digital_file.delete", by, _logged(file), {})
    file.delete()
    transaction.on_commit(lambda: storage.delete(name))


# --------------------------------------------------------------------------- lending


@dataclass
class LendingResult:
    message: str
    loan: DigitalLoan | None = None
    hold: Hold | None = None
    repeated: bool = False


@dataclass
class Availability:
    licences: int
    on_loan: int
    offered: int
    waiting: int
    loan: DigitalLoan | None = None
    hold: Hold | None = None

    @property
    def free(self) -> int:
        return max(0, self.licences - self.on_loan - self.offered)

    @property
    def offered_until(self) -> datetime.datetime | None:
        if self.hold is not None and self.hold.status == Hold.Status.READY and self.hold.ready_at:
            return offer_ends_at(self.hold.ready_at)
        return None

    @property
    def may_borrow_now(self) -> bool:
        """What `borrow` would allow: a licence kept for the reader, or one free beyond the
        readers waiting ahead of them."""
        if self.offered_until is not None:
            return True
        ahead = self.waiting if self.hold is None else max(0, (self.position or 1) - 1)
        return self.free - ahead > 0

    @property
    def position(self) -> int | None:
        return getattr(self.hold, "position", None) if self.hold is not None else None


def _live_offers(file: DigitalFile, now):
    """Ready holds whose 48 hours are not over: each keeps a licence for its reader."""
    since = now - datetime.timedelta(hours=DIGITAL_OFFER_HOURS)
    return Hold.objects.filter(digital_file=file, status=Hold.Status.READY, ready_at__gt=since)


def availability(file: DigitalFile, patron: Patron | None = None, now=None) -> Availability:
    """How many licences are lent, offered and free, and the reader's own loan and hold."""
    now = now or timezone.now()
    current = DigitalLoan.objects.open().filter(file=file, due_at__gt=now)
    on_loan = current.count()
    offered = _live_offers(file, now).count()
    waiting = Hold.objects.digital_queue(file).count()
    result = Availability(file.licences, on_loan, offered, waiting)
    if patron is not None:
        result.loan = current.filter(patron=patron).first()
        result.hold = Hold.objects.active().filter(digital_file=file, patron=patron).first()
        if result.hold is not None and result.hold.status == Hold.Status.PENDING:
            result.hold.position = (
                Hold.objects.digital_queue(file)
                .filter(
                    Q(created_at__lt=result.hold.created_at)
                    | Q(created_at=result.hold.created_at, pk__lte=result.hold.pk)
                )
                .count()
            )
    return result


def _reader_of(by) -> Patron:
    """The reader card of the acting account, locked (limits are counted per reader)."""
    patron = (
        Patron.objects.select_for_update(of=("self",))
        .select_related("home_library")
        .filter(user_id=getattr(by, "pk", None))
        .first()
        if getattr(by, "is_authenticated", False)
        else None
    )
    if patron is None:
        raise DigitalError(
            _("You need a reader card linked to your account to borrow e-books."), "no_card"
        )
    try:
        ensure_patron_may_borrow(patron)
    except CirculationError as error:
        raise DigitalError(error.message, error.code)
    return patron


def _lock_file(file: DigitalFile | int) -> DigitalFile:
    pk = file.pk if isinstance(file, DigitalFile) else file
    found = (
        DigitalFile.objects.select_for_update(of=("self",))
        .select_related("library", "record")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise DigitalError(_("Unknown file."), "unknown_file")
    return found


def _settle(file: DigitalFile, now) -> tuple[int, int]:
    """End the locked file's loans past their end and its offers past 48 hours (the hourly
    `expire` does it too), so no action counts a licence that is free already."""
    loans = (
        DigitalLoan.objects.expired(now)
        .filter(file=file)
        .update(returned_at=now, ended=DigitalLoan.Ended.EXPIRED)
    )
    since = now - datetime.timedelta(hours=DIGITAL_OFFER_HOURS)
    offers = Hold.objects.filter(
        digital_file=file, status=Hold.Status.READY, ready_at__lte=since
    ).update(status=Hold.Status.EXPIRED, closed_at=now)
    return loans, offers


def _ends(moment) -> str:
    return timezone.localtime(moment).strftime("%H:%M %d/%m/%Y")


@transaction.atomic
def borrow(*, file: DigitalFile | int, by, now=None) -> LendingResult:
    """Lend one licence of a lending file to the reader whose account is `by`."""
    now = now or timezone.now()
    patron = _reader_of(by)
    file = _lock_file(file)
    if not file.is_lending:
        raise DigitalError(_("This file is not lent: open it directly."), "not_lending")
    if not access.may_borrow_digital(patron, file):
        raise DigitalError(
            _("Readers of your library cannot borrow the e-books of %(library)s.")
            % {"library": file.library.name},
            "not_allowed",
        )
    _settle(file, now)
    mine = DigitalLoan.objects.open().filter(file=file, patron=patron).first()
    if mine is not None:
        return LendingResult(
            _("Already on loan to you until %(date)s.") % {"date": _ends(mine.due_at)},
            loan=mine,
            repeated=True,
        )
    rule = rule_for(library=file.library, category=patron.category, item_type=DIGITAL_ITEM_TYPE)
    if DigitalLoan.objects.open().filter(patron=patron).count() >= rule.max_loans:
        raise DigitalError(
            _("Limit of %(limit)s e-book loans reached.") % {"limit": rule.max_loans}, "limit"
        )
    hold = Hold.objects.active().filter(digital_file=file, patron=patron).first()
    offers = _live_offers(file, now)
    if hold is not None and hold.status == Hold.Status.READY:
        offers = offers.exclude(pk=hold.pk)
    lent = list(DigitalLoan.objects.open().filter(file=file).values_list("slot", flat=True))
    free = file.licences - len(lent) - offers.count()
    if hold is None or hold.status != Hold.Status.READY:
        # Readers already waiting go first: only licences beyond them are free for others.
        ahead = Hold.objects.digital_queue(file)
        if hold is not None:
            ahead = ahead.filter(created_at__lt=hold.created_at)
        free -= ahead.count()
    if free <= 0:
        raise DigitalError(
            _("All %(count)s licences are on loan. Join the waiting list to be told by email.")
            % {"count": file.licences},
            "no_licence",
        )
    slot = next(n for n in range(1, file.licences + 1) if n not in set(lent))
    try:
        with transaction.atomic():
            loan = DigitalLoan.objects.create(
                file=file,
                slot=slot,
                patron=patron,
                patron_category=patron.category,
                library=file.library,
                borrowed_at=now,
                due_at=rule.due_from(now),
            )
    except IntegrityError:
        raise DigitalError(_("This licence was just lent. Try again."), "race")
    if hold is not None:
        Hold.objects.filter(pk=hold.pk).update(status=Hold.Status.FULFILLED, closed_at=now)
    return LendingResult(
        _("Borrowed until %(date)s. Happy reading!") % {"date": _ends(loan.due_at)}, loan=loan
    )


def _email_reader(patron: Patron, subject: str, body: str) -> None:
    to = patron.email or (patron.user.email if patron.user_id else "")
    if to:
        transaction.on_commit(lambda: send_mail(subject, body, None, [to], fail_silently=True))


def _offer_free_licences(file: DigitalFile, now) -> list[Hold]:
    """Offer free licences of a locked file to the first readers waiting (email, 48 hours)."""
    if not file.is_lending:
        return []
    lent = DigitalLoan.objects.open().filter(file=file).count()
    free = file.licences - lent - _live_offers(file, now).count()
    offered = []
    if free <= 0:
        return offered
    for hold in Hold.objects.digital_queue(file).select_related("patron__user")[:free]:
        hold.status = Hold.Status.READY
        hold.ready_at = now
        hold.save(update_fields=["status", "ready_at"])
        _email_reader(
            hold.patron,
            _("A licence of your e-book is free"),
            _(
                "“%(title)s” is kept for you until %(date)s. Borrow it on your loans page: "
                "%(url)s\nAfter that it goes to the next reader waiting."
            )
            % {
                "title": file.record.title,
                "date": _ends(offer_ends_at(now)),
                "url": site_url(reverse("libraries:my_loans")),
            },
        )
        offered.append(hold)
    return offered


@transaction.atomic
def return_loan(*, loan: DigitalLoan | int, by, now=None) -> LendingResult:
    """End a digital loan early (the reader's own); the licence goes to the next reader."""
    now = now or timezone.now()
    loan_id = loan.pk if isinstance(loan, DigitalLoan) else loan
    found = DigitalLoan.objects.filter(pk=loan_id).values_list("file_id", flat=True).first()
    if found is None:
        raise DigitalError(_("Unknown loan."), "unknown_loan")
    file = _lock_file(found)
    loan = DigitalLoan.objects.select_related("patron").get(pk=loan_id)
    own = loan.patron is not None and loan.patron.user_id == getattr(by, "pk", None)
    if not own and not (by is OPERATOR or access.reaches(by, file.library)):
        raise DigitalError(_("Unknown loan."), "unknown_loan")
    if loan.returned_at is not None:
        return LendingResult(_("This loan has already ended."), loan=loan, repeated=True)
    loan.returned_at = now
    loan.ended = DigitalLoan.Ended.RETURNED if own else DigitalLoan.Ended.WITHDRAWN
    loan.save(update_fields=["returned_at", "ended"])
    _offer_free_licences(file, now)
    return LendingResult(_("Returned. Thank you!"), loan=loan)


@transaction.atomic
def wait_for(*, file: DigitalFile | int, by, now=None) -> LendingResult:
    """Put the reader on the waiting list of a lending file (a hold naming the file)."""
    now = now or timezone.now()
    patron = _reader_of(by)
    file = _lock_file(file)
    if not file.is_lending:
        raise DigitalError(_("This file is not lent: open it directly."), "not_lending")
    if not access.may_borrow_digital(patron, file):
        raise DigitalError(
            _("Readers of your library cannot borrow the e-books of %(library)s.")
            % {"library": file.library.name},
            "not_allowed",
        )
    _settle(file, now)
    if DigitalLoan.objects.open().filter(file=file, patron=patron).exists():
        raise DigitalError(_("You already have this e-book on loan."), "has_loan")
    existing = Hold.objects.active().filter(patron=patron, record_id=file.record_id).first()
    if existing is not None:
        if existing.digital_file_id == file.pk:
            return LendingResult(
                _("You are already on the waiting list."), hold=existing, repeated=True
            )
        raise DigitalError(_("You already have a hold on this title."), "duplicate")
    try:
        with transaction.atomic():
            hold = Hold.objects.create(
                record_id=file.record_id,
                patron=patron,
                pickup_library=file.library,
                digital_file=file,
                created_at=now,
            )
    except IntegrityError:
        raise DigitalError(_("You already have a hold on this title."), "duplicate")
    _offer_free_licences(file, now)
    hold.refresh_from_db()
    if hold.status == Hold.Status.READY:
        return LendingResult(
            _("A licence is free: borrow it before %(date)s.")
            % {"date": _ends(offer_ends_at(now))},
            hold=hold,
        )
    position = Hold.objects.digital_queue(file).filter(created_at__lte=hold.created_at).count()
    return LendingResult(
        _("You are on the waiting list, number %(position)s. We will email you.")
        % {"position": position},
        hold=hold,
    )


@transaction.atomic
def cancel_wait(*, hold: Hold | int, by, now=None) -> LendingResult:
    """Leave a waiting list; a licence kept for the reader goes to the next one."""
    now = now or timezone.now()
    hold_id = hold.pk if isinstance(hold, Hold) else hold
    file_id = (
        Hold.objects.filter(pk=hold_id, digital_file__isnull=False)
        .values_list("digital_file_id", flat=True)
        .first()
    )
    if file_id is None:
        raise DigitalError(_("Unknown hold."), "unknown_hold")
    file = _lock_file(file_id)
    hold = Hold.objects.select_related("patron").get(pk=hold_id)
    own = hold.patron.user_id is not None and hold.patron.user_id == getattr(by, "pk", None)
    if not own and not (by is OPERATOR or access.reaches(by, file.library)):
        raise DigitalError(_("Unknown hold."), "unknown_hold")
    if hold.status not in Hold.ACTIVE:
        return LendingResult(_("This hold is already closed."), hold=hold, repeated=True)
    hold.status = Hold.Status.CANCELLED
    hold.closed_at = now
    hold.save(update_fields=["status", "closed_at"])
    _offer_free_licences(file, now)
    return LendingResult(_("You have left the waiting list."), hold=hold)


@dataclass
class ExpiryResult:
    loans_ended: int = 0
    offers_expired: int = 0
    offers_made: int = 0
    files: set[int] = field(default_factory=set)


def expire(*, now=None) -> ExpiryResult:
    """End loans past their end, pass on offers not taken in 48 hours, offer free licences.

    One short transaction per file, so a long run never holds many locks.
    """
    now = now or timezone.now()
    result = ExpiryResult()
    since = now - datetime.timedelta(hours=DIGITAL_OFFER_HOURS)
    file_ids = set(DigitalLoan.objects.expired(now).values_list("file_id", flat=True))
    file_ids |= set(
        Hold.objects.filter(
            digital_file__isnull=False, status=Hold.Status.READY, ready_at__lte=since
        ).values_list("digital_file_id", flat=True)
    )
    file_ids |= set(
        Hold.objects.filter(digital_file__isnull=False, status=Hold.Status.PENDING).values_list(
            "digital_file_id", flat=True
        )
    )
    for file_id in sorted(file_ids):
        with transaction.atomic():
            file = _lock_file(file_id)
            loans, offers = _settle(file, now)
            result.loans_ended += loans
            result.offers_expired += offers
            result.offers_made += len(_offer_free_licences(file, now))
            result.files.add(file_id)
    return result


@transaction.atomic
def anonymise_child_digital_loans(*, older_than_days: int, now=None) -> int:
    """Remove the reader from children's ended digital loans, as for print loans."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(days=older_than_days)
    return DigitalLoan.objects.filter(
        patron__isnull=False,
        returned_at__lt=cutoff,
        patron__category=PatronCategory.CHILD,
        patron__keep_loan_history=False,
    ).update(patron=None)
