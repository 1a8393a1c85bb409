"""Demo step: circulation rules, reader cards at every demo library, loans (one overdue), holds.

Idempotent: cards are found again by library and name, loans by item, holds by reader and
title. Uses the catalog demo's items when present (barcodes starting with the library code),
otherwise creates a few records and items of its own.
"""

import contextlib
import datetime

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from libraries.access import STAFF_ROLES, reaches
from libraries.circulation.patrons import card_expiry, next_card_number
from libraries.circulation.services import CirculationError, check_out, place_hold
from libraries.models import (
    CirculationRule,
    Item,
    Library,
    Loan,
    Membership,
    Patron,
    PatronCategory,
    Record,
)

DEMO_CODES = ["TVT", "HBT", "DDA", "CGY", "THCSA", "THCSB", "THPTC", "THPTD", "THE", "THF"]

# library code (None = every library), category, item type, loan days, max loans, renewals,
# holds allowed, fine per day (VND)
RULES = [
    (None, "", "", 14, 5, 2, True, 0),
    (None, PatronCategory.CHILD, "", 14, 2, 1, True, 0),
    (None, PatronCategory.STUDENT, "", 14, 3, 1, True, 0),
    (None, PatronCategory.STUDENT, Item.Type.TEXTBOOK, 270, 10, 0, False, 0),
    (None, PatronCategory.TEACHER, "", 30, 10, 3, True, 0),
    (None, PatronCategory.ADULT, "", 21, 5, 2, True, 1000),
    (None, "", Item.Type.REFERENCE, 1, 1, 0, False, 0),
    ("TVT", PatronCategory.ADULT, "", 28, 8, 2, True, 1000),
]

# name, category, years old, guardian
READERS = [
    ("Vũ Thị Đọc", PatronCategory.ADULT, 34, ""),
    ("Nguyễn Hoàng Nam", PatronCategory.STUDENT, 17, ""),
    ("Trần Bảo Ngọc", PatronCategory.CHILD, 11, "Trần Văn Bảo"),
    ("Lê Minh Giáo", PatronCategory.TEACHER, 41, ""),
]

DEMO_TITLES = [
    ("Dế Mèn phiêu lưu ký", "Tô Hoài"),
    ("Truyện Kiều", "Nguyễn Du"),
    ("Tắt đèn", "Ngô Tất Tố"),
    ("Số đỏ", "Vũ Trọng Phụng"),
]


def _say(stdout, text):
    if stdout is not None:
        stdout.write(text)


def _staff_for(library: Library):
    """A member of staff who may work at the library's desk, or None."""
    User = get_user_model()
    superuser = User.objects.filter(is_superuser=True, is_active=True).first()
    for membership in Membership.objects.filter(role__in=STAFF_ROLES).select_related(
        "user", "library"
    ):
        if reaches(membership.user, library):
            return membership.user
    return superuser


def _items(library: Library) -> list[Item]:
    # The same first lendable copies on every run (on loan counts: a second run finds its
    # own loans again instead of lending other copies).
    items = list(
        Item.objects.filter(
            library=library,
            barcode__startswith=library.code,
            status__in=[Item.Status.AVAILABLE, Item.Status.ON_LOAN],
        ).order_by("barcode")[:4]
    )
    if len(items) >= 3:
        return items
    for n, (title, author) in enumerate(DEMO_TITLES, start=1):
        record = Record.objects.filter(title=title, authors=author).first()
        record = record or Record.objects.create(title=title, authors=author, language="vie")
        Item.objects.get_or_create(
            barcode=f"{library.code}C{n:04d}",
            defaults={
                "record": record,
                "library": library,
                "location": library,
                "call_number": "895.922",
            },
        )
    return list(
        Item.objects.filter(library=library, barcode__startswith=f"{library.code}C").order_by(
            "barcode"
        )
    )


def _reader(library: Library, name: str, category: str, age: int, guardian: str) -> Patron:
    patron = Patron.objects.filter(home_library=library, full_name=name).first()
    if patron:
        return patron
    today = timezone.localdate()
    return Patron.objects.create(
        card_number=next_card_number(library),
        home_library=library,
        full_name=name,
        category=category,
        date_of_birth=today.replace(year=today.year - age, day=min(today.day, 28)),
        guardian_name=guardian,
        guardian_contact="0912 000 111" if guardian else "",
        guardian_consent=bool(guardian),
        email="" if guardian else f"{library.code.lower()}.{age}@demo.thuvien.vn",
        expires_on=card_expiry(category),
        keep_loan_history=category != PatronCategory.CHILD,
    )


@transaction.atomic
def load(stdout=None) -> None:
    libraries = {lib.code: lib for lib in Library.objects.filter(code__in=DEMO_CODES)}
    for code, category, item_type, days, max_loans, renewals, holds, fine in RULES:
        if code and code not in libraries:
            continue
        CirculationRule.objects.get_or_create(
            library=libraries.get(code),
            patron_category=category,
            item_type=item_type,
            defaults={
                "loan_days": days,
                "max_loans": max_loans,
                "renewals": renewals,
                "holds_allowed": holds,
                "fine_per_day": fine,
            },
        )
    bandoc = get_user_model().objects.filter(username="bandoc").first()
    for code in DEMO_CODES:
        library = libraries.get(code)
        if library is None:
            continue
        readers = [_reader(library, *row) for row in READERS]
        if code == "THCSA" and bandoc and not Patron.objects.filter(user=bandoc).exists():
            readers[0].user = bandoc
            readers[0].save(update_fields=["user"])
        staff = _staff_for(library)
        if staff is None:
            continue
        items = _items(library)
        now = timezone.now()
        plan = [
            (items[0], readers[0], now - datetime.timedelta(days=40)),  # overdue
            (items[1], readers[1], now - datetime.timedelta(days=3)),
        ]
        for item, reader, when in plan:
            if item.loans.filter(returned_at__isnull=True).exclude(patron=reader).exists():
                continue
            try:
                check_out(
                    item_barcode=item.barcode,
                    card_number=reader.card_number,
                    by=staff,
                    at=library,
                    now=when,
                )
            except CirculationError as error:
                _say(stdout, f"  {code}: {error.message}\n")
        with contextlib.suppress(CirculationError):  # already placed on an earlier run
            place_hold(
                record=items[0].record,
                card_number=readers[3].card_number,
                pickup_library=library,
                by=staff,
            )
    _say(
        stdout,
        f"Circulation: {CirculationRule.objects.count()} rules, "
        f"{Patron.objects.count()} reader cards, "
        f"{Loan.objects.filter(returned_at__isnull=True).count()} open loans.\n",
    )
