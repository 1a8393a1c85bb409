"""Union catalog search: the same answers on SQLite and PostgreSQL, with or without accents.

Each record keeps two search texts, written by `Record.refresh_search_text()` with the
folding rules of `training_site.text`:

* ``search_exact``: NFC, lower case, every run of non-letters/digits turned into one space,
  padded with a space at both ends (`` lịch sử việt nam ``);
* ``search_folded``: the same text with diacritics removed and đ -> d (`` lich su viet nam ``).

A query word matches a record when some word of the folded text starts with the folded query
word (``LIKE '% viet%'``); every query word must match. Records whose exact text also holds
the query words with their accents rank first. Only the newest CANDIDATE_LIMIT matches are
ranked, so a query matching half the catalog stays fast.

On PostgreSQL a trigram GIN index (pg_trgm) on ``search_folded`` serves the LIKE for rare
words; for common words the planner walks the primary key backwards and stops after the
newest matches. (A full-text GIN index on a tsvector of the same text was tried: the planner
underestimated its matches and chose a bitmap scan plus sort, 363 ms against 11 ms, so the
LIKE alone is used; it also gives exactly the SQLite answers.) Within the window of the
newest RECENT_WINDOW records the LIKEs are written so that no index serves them: walking at
most 20,000 rows by primary key beats a trigram bitmap of the whole table for common words
("khoa hoc tu nhien" 135 ms -> 11 ms). When the window holds too few matches only the older
rows are asked for the rest. The page count is the number of candidates (no COUNT query).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.core.cache import cache
from django.db import connection
from django.db.models import (
    Case,
    Exists,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Greatest, Substr

from libraries.models import DigitalText, DigitalWordPlace, Item, Library, Record
from training_site.text import exact_words, fold, folded_words, normalise_isbn

CANDIDATE_LIMIT = 1000
RECENT_WINDOW = 20_000


class _Unindexed(Func):
    """``(column || '')``: the same text, but no index applies to it.

    Inside the window of newest records the planner should walk the primary key backwards
    (at most RECENT_WINDOW rows, about 10 ms) and stop at CANDIDATE_LIMIT matches. Given the
    bare column it misjudged several common words ("khoa hoc tu nhien": 141 rows expected,
    62,505 read) and built a trigram bitmap of the whole table first: 135 ms.
    """

    template = "(%(expressions)s || '')"
    output_field = TextField()


def _newest_matches(qs, window_qs, model, fields=("pk",)) -> list:
    """Ids of the newest CANDIDATE_LIMIT records of `qs` (rows of `fields` when given more
    than the id: the id first).

    PostgreSQL misjudges how many rows several LIKEs on related words match ("khoa hoc tu
    nhien") and may read 30,000 matches to keep 1,000. So first look only among the newest
    RECENT_WINDOW records (`window_qs`: the same filter, written so that no index serves the
    LIKEs): if that already gives CANDIDATE_LIMIT matches they are exactly the newest ones;
    otherwise (rarer words) ask the rest of the table, where the index is selective.
    """
    if connection.vendor == "postgresql" and not qs.query.is_empty():
        edge = cache.get_or_set(
            f"catalog:recent-edge:{RECENT_WINDOW}",
            lambda: list(
                model.objects.order_by("-pk").values_list("pk", flat=True)[
                    RECENT_WINDOW - 1 : RECENT_WINDOW
                ]
            ),
            timeout=600,  # a stale edge only widens the window a little
        )
        if edge:
            recent = list(
                _rows(window_qs.filter(pk__gte=edge[0]).order_by("-pk"), fields)[:CANDIDATE_LIMIT]
            )
            if len(recent) == CANDIDATE_LIMIT:
                return recent
            # The window holds every match above the edge: ask the rest of the table only
            # for the older ones still missing, not the window's matches a second time.
            older = _rows(qs.filter(pk__lt=edge[0]).order_by("-pk"), fields)
            return recent + list(older[: CANDIDATE_LIMIT - len(recent)])
    return list(_rows(qs.order_by("-pk"), fields)[:CANDIDATE_LIMIT])


def _rows(qs, fields):
    return qs.values_list(*fields) if len(fields) > 1 else qs.values_list(fields[0], flat=True)


FIELDS = ("all", "title", "author", "subject", "isbn")
_FIELD_COLUMNS = {
    "all": "search_folded",
    "title": "title_folded",
    "author": "authors_folded",
    "subject": "subjects_folded",
}


@dataclass(frozen=True)
class Query:
    text: str = ""
    field: str = "all"
    library: str = ""  # library code
    language: str = ""
    year_from: int | None = None
    year_to: int | None = None
    available: bool = False

    def is_empty(self) -> bool:
        return not (self.text.strip() or self.library or self.language or self.year_from
                    or self.year_to or self.available)  # fmt: skip


def query_words(text: str) -> tuple[list[str], list[str]]:
    """The query's folded words and, index for index, its exact (NFC lower-case) words."""
    folded, exact = [], []
    for word in exact_words(text).split():
        f = folded_words(word)
        if not f:
            continue
        folded.extend(f.split())
        exact.append(word)
    # A word that starts another query word adds nothing ("ngo ngoc" = "ngoc"): drop it.
    folded = [w for w in dict.fromkeys(folded)
              if not any(o != w and o.startswith(w) for o in folded)]  # fmt: skip
    return folded[:8], exact[:8]


def _like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_records(query: Query):
    """Records matching the query, best first (exact accents, then title hits, then id)."""
    return search(query)[0]


def search(query: Query):
    """`search_records()` and how many records it holds (the page count needs no query)."""
    plan = _plan(query)
    if plan is None:
        return Record.objects.none(), 0
    candidates = _newest_matches(plan.matches, plan.window, Record)
    ranks = list(plan.ranks)
    if plan.words and query.field == "all" and len(candidates) < CANDIDATE_LIMIT:
        # Second step: words inside digital files (their own small table), ranked after
        # every record whose description matched.
        inside = _inside_books(plan.filtered, plan.words, exclude=candidates)
        if inside:
            described = set(candidates)
            ranks.append(
                Case(When(pk__in=described, then=Value(100)), default=Value(0),
                     output_field=IntegerField())
            )  # fmt: skip
            candidates = candidates + inside[: CANDIDATE_LIMIT - len(candidates)]
    qs = Record.objects.filter(pk__in=candidates)
    if ranks:
        qs = qs.annotate(score=_total(ranks)).order_by("-score", "pk")
    else:
        qs = qs.annotate(score=Value(0, output_field=IntegerField())).order_by("-pk")
    qs = qs.defer(*LISTING_DEFERRED)
    return qs, len(candidates)


# Columns a result list never shows.
LISTING_DEFERRED = ("marc", "search_exact", "search_folded", "title_folded", "authors_folded",
                    "subjects_folded", "summary")  # fmt: skip


def ranked_ids(query: Query) -> list[int]:
    """The ids `search()` holds, in its order, without its ranked query: each candidate's
    score is computed by the query that finds it (at most CANDIDATE_LIMIT rows) and the
    candidates are sorted here by the same rule (score, highest first, then id; no words:
    newest first). A result page then reads only its own records: `records_by_id()`."""
    plan = _plan(query)
    if plan is None:
        return []
    if not plan.ranks:
        return _newest_matches(plan.matches, plan.window, Record)
    score = _total(plan.ranks)
    rows = _newest_matches(
        plan.matches.annotate(score=score), plan.window.annotate(score=score), Record,
        fields=("pk", "score"),
    )  # fmt: skip
    if plan.words and query.field == "all" and len(rows) < CANDIDATE_LIMIT:
        inside = _inside_books(
            plan.filtered.annotate(score=score), plan.words, exclude=[pk for pk, _s in rows],
            fields=("pk", "score"),
        )  # fmt: skip
        # Every record whose description matched ranks before the books (search(): +100).
        rows = [(pk, s + 100) for pk, s in rows] if inside else rows
        rows = rows + inside[: CANDIDATE_LIMIT - len(rows)]
    rows.sort(key=lambda row: (-row[1], row[0]))
    return [pk for pk, _s in rows]


def records_by_id(ids) -> list[Record]:
    """The records of `ids` in that order, with the columns a result list shows."""
    ids = list(ids)
    found = Record.objects.defer(*LISTING_DEFERRED).in_bulk(ids)
    return [found[pk] for pk in ids if pk in found]


def _total(ranks):
    score = ranks[0]
    for rank in ranks[1:]:
        score = score + rank
    return score


@dataclass
class _Plan:
    filtered: object  # the query's filters other than its words (library, year, ...)
    matches: object  # those and every word, written for the indexes
    window: object  # the same, written for a walk of the newest records (no index)
    ranks: list
    words: list[str]


def _plan(query: Query) -> _Plan | None:
    """What a search asks the database, or None when it can find nothing."""
    qs = Record.objects.all()
    ranks = []
    likes = []  # (column, text): every one must be contained in the column
    words, exact = query_words(query.text) if query.field != "isbn" else ([], [])
    if query.field == "isbn":
        digits = re.sub(r"[^0-9Xx]", "", query.text)
        isbn13 = normalise_isbn(digits)
        if not digits:
            return None
        qs = qs.filter(isbn=isbn13 or digits)
    elif words:
        column = _FIELD_COLUMNS.get(query.field, "search_folded")
        for word in words:
            likes.append(("search_folded", f" {word}"))
            if column != "search_folded":
                likes.append((column, f" {word}"))
        for word in dict.fromkeys(exact):
            ranks.append(
                Case(
                    When(search_exact__contains=f" {word}", then=Value(10)),
                    default=Value(0),
                    output_field=IntegerField(),
                )
            )
        for word in dict.fromkeys(words):
            ranks.append(
                Case(
                    When(title_folded__contains=f" {word}", then=Value(1)),
                    default=Value(0),
                    output_field=IntegerField(),
                )
            )
    elif query.text.strip():
        return None

    items = Item.objects.filter(record=OuterRef("pk"))
    if query.library:
        library = Library.objects.filter(code=query.library.upper()).first()
        if library is None:
            return None
        items = items.filter(library=library)
        if not query.available:  # else the available copy below is in that library too
            qs = qs.filter(Exists(items))
    if query.available:
        qs = qs.filter(Exists(items.filter(status=Item.Status.AVAILABLE)))
    if query.language:
        qs = qs.filter(language=query.language)
    if query.year_from:
        qs = qs.filter(year__gte=query.year_from)
    if query.year_to:
        qs = qs.filter(year__lte=query.year_to)

    # Only the newest CANDIDATE_LIMIT matches are ranked and shown: a query matching half
    # the network's catalog ("việt nam") must not score every row. Same rule on both DBs.
    # One small query; the page and the count then work on at most CANDIDATE_LIMIT ids.
    matches = qs.filter(Q(*(Q(**{f"{col}__contains": text}) for col, text in likes)))
    window = qs.alias(
        **{f"_scan_{col}": _Unindexed(F(col)) for col in dict.fromkeys(c for c, _t in likes)}
    )
    window = window.filter(*(Q(**{f"_scan_{col}__contains": text}) for col, text in likes))
    return _Plan(filtered=qs, matches=matches, window=window, ranks=ranks, words=words)


# --------------------------------------------------------------------------- inside books


def texts_with(words: list[str]):
    """DigitalText rows whose words hold every (folded) query word at a word start: on
    PostgreSQL a prefix tsquery on the stored tsvector of migration libraries/0011 (GIN
    index), elsewhere the same LIKE as the record search."""
    texts = DigitalText.objects.all()
    if connection.vendor == "postgresql":
        query = " & ".join(f"{word}:*" for word in words if word.replace("_", "").isalnum())
        if not query:
            return texts.none()
        return texts.extra(  # noqa: S610 - constant SQL; the query travels as a parameter
            where=["libraries_digitaltext.words_tsv @@ to_tsquery('simple'::regconfig, %s)"],
            params=[query],
        )
    return texts.filter(*(Q(words__contains=f" {word}") for word in words))


def _inside_books(qs, words: list[str], *, exclude: list[int], fields=("pk",)) -> list:
    """Newest records (among `qs`, the query's other filters) with a digital file whose words
    hold every query word: first the matching files' records (a small table, its own index),
    then, only when there are some, the query's other filters on those records."""
    excluded = set(exclude)
    found = list(
        texts_with(words)
        .order_by("-record_id")
        .values_list("record_id", flat=True)
        .distinct()[: CANDIDATE_LIMIT + len(excluded)]
    )
    found = [pk for pk in found if pk not in excluded][:CANDIDATE_LIMIT]
    if not found:
        return []
    return list(_rows(qs.filter(pk__in=found).order_by("-pk"), fields))


_VARIANTS: dict[str, str] = {}


def _variants() -> dict[str, str]:
    """Folded letter -> every Latin letter (both cases) that folds to it: "d" -> "dDđĐ"."""
    if not _VARIANTS:
        found: dict[str, set[str]] = {}
        for code in [*range(0x20, 0x250), *range(0x1E00, 0x1F00)]:
            ch = chr(code)
            folded = fold(ch)
            if len(folded) == 1:
                found.setdefault(folded, set()).update({ch, ch.upper(), ch.lower()})
        _VARIANTS.update({k: "".join(sorted(v)) for k, v in found.items()})
    return _VARIANTS


def _word_classes(word: str) -> list[str]:
    """Per letter of a folded word, every letter that folds to it (both cases)."""
    variants = _variants()
    return [variants.get(ch, ch) for ch in word]


def _word_pattern(word: str) -> re.Pattern:
    """A word start matching `word` (folded) in text with or without its accents."""
    parts = [f"[{re.escape(chars)}]" for chars in _word_classes(word)]
    return re.compile(r"(?<!\w)" + "".join(parts))


def _passages(ids: list[int], words: list[str], width: int):
    """(record_id, a window of the text, where the first query word starts in it) per open
    file of the records: the word's first place (DigitalWordPlace) gives the offset and only
    that slice of the text is read (stored uncompressed on PostgreSQL)."""
    first = (
        DigitalWordPlace.objects.filter(text=OuterRef("pk"), word__startswith=words[0])
        .order_by("at")
        .values("at")[:1]
    )
    rows = (
        texts_with(words)
        .filter(record_id__in=ids)
        .annotate(first_at=Subquery(first))
        .filter(first_at__isnull=False)
        .annotate(start=Greatest(F("first_at") - width - 20, Value(0)))
        .annotate(window=Substr("body", F("start") + 1, 2 * width + 80))
        .order_by("record_id", "file_id")
    )
    for record_id, first_at, start, window in rows.values_list(
        "record_id", "first_at", "start", "window"
    ):
        yield record_id, window, first_at - start


def body_snippets(record_ids, text: str, *, width: int = 80) -> dict[int, dict]:
    """For records on a result page: a short passage of an open-access file around the first
    query word, as {"before", "match", "after"}. Only records whose file holds every word;
    files of other access levels are found by their words but show no passage."""
    words, _exact = query_words(text)
    ids = list(record_ids)
    if not words or not ids:
        return {}
    pattern = _word_pattern(words[0])
    snippets: dict[int, dict] = {}
    for record_id, body, offset in _passages(ids, words, width):
        found = pattern.search(body, offset)
        if record_id in snippets or found is None:
            continue
        start, end = found.span()
        while end < len(body) and body[end].isalnum():
            end += 1
        before = body[max(0, start - width) : start]
        after = body[end : end + width]
        before = before.split(" ", 1)[-1] if start > width and " " in before else before
        after = after.rsplit(" ", 1)[0] if end + width < len(body) and " " in after else after
        snippets[record_id] = {
            "before": ("… " if start > width else "") + " ".join(before.split()) + " ",
            "match": body[start:end],
            "after": " " + " ".join(after.split()) + (" …" if end + width < len(body) else ""),
        }
    return snippets
