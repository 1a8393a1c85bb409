"""Text forms every area compares by: NFC, accent-folded words, names, ISBNs, fingerprints.

Model-free, so models, services and search all use the same rules. Folding removes
diacritics, never letters: Vietnamese letters fold to ASCII (``Đường`` -> ``duong``); letters
with no decomposition (ø, ł, æ …) take their usual ASCII spelling; letters of other scripts
stay as they are, with the vowel signs that belong to them (Devanagari, Thai …), while
diacritics that are only marks (Latin accents, Arabic harakat, Hebrew points) go. A title in
Devanagari or Cyrillic thus keeps its words for search and for record fingerprints.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

from stdnum import isbn as stdnum_isbn

_NON_WORD_ASCII = re.compile(r"[\W_]+")
_NON_ALNUM_ASCII = re.compile(r"[^a-z0-9]+")


def _ranges(codes) -> str:
    """A regex character class body for a sorted list of code points."""
    parts, start, previous = [], None, None
    for code in codes:
        if start is None:
            start = previous = code
        elif code == previous + 1:
            previous = code
        else:
            parts.append((start, previous))
            start = previous = code
    if start is not None:
        parts.append((start, previous))
    return "".join(
        re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}"
        for a, b in parts
    )


_MARKS = [c for c in range(0x300, 0x10000) if unicodedata.category(chr(c)).startswith("M")]
# Word characters of any script: letters and digits, and the marks that belong to them.
_WORD = re.compile(rf"(?:[^\W_]|[{_ranges(_MARKS)}])+")
# Marks that are only diacritics: removed by folding.
_DIACRITICS = frozenset(
    [*range(0x300, 0x370), *range(0x1AB0, 0x1B00), *range(0x1DC0, 0x1E00)]
    + [*range(0x20D0, 0x2100), *range(0xFE20, 0xFE30)]
    + [*range(0x064B, 0x0660), 0x0670, *range(0x0591, 0x05C8)]
)
# Spacing modifier letters (ʼ ʻ ˈ …) mark romanised text; they fold away like accents.
_MODIFIERS = range(0x02B0, 0x0300)
_EXTRA_FOLDS = str.maketrans(
    {"ø": "o", "ł": "l", "æ": "ae", "œ": "oe", "ß": "ss", "ı": "i", "þ": "th", "ð": "d"}
)


def nfc(value: str) -> str:
    return unicodedata.normalize("NFC", value or "")


def _fold_char(ch: str) -> str:
    value = unicodedata.normalize("NFD", ch.replace("đ", "d").replace("Đ", "D"))
    value = "".join(c for c in value if ord(c) not in _DIACRITICS)
    value = value.lower().translate(_EXTRA_FOLDS)
    folded = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii")
    if not folded and _WORD.fullmatch(value) and ord(ch) not in _MODIFIERS:
        return value  # a letter (or vowel sign) of another script: kept, not dropped
    return folded


class _FoldTable(dict):
    """str.translate table folding one character at a time, filled on first use."""

    def __missing__(self, code: int) -> str:
        folded = _fold_char(chr(code))
        self[code] = folded
        return folded


_FOLD_TABLE = _FoldTable({code: chr(code).lower() for code in range(128)})


def fold(value: str) -> str:
    """Lower case without accents: NFD, combining marks dropped, đ/Đ (not a mark) -> d."""
    value = value or ""
    if value.isascii():
        return value.lower()
    return unicodedata.normalize("NFC", value).translate(_FOLD_TABLE)


def _words(value: str) -> str:
    return " ".join(_WORD.findall(value))


def exact_words(value: str) -> str:
    """NFC lower-case words separated by single spaces."""
    value = nfc(value).lower()
    if value.isascii():
        return " ".join(_NON_WORD_ASCII.sub(" ", value).split())
    return _words(value)


def folded_words(value: str) -> str:
    """Folded words, one space between them: "Sở, Tư-Dưc" -> "so tu duc"."""
    value = fold(value)
    if value.isascii():
        return " ".join(_NON_ALNUM_ASCII.sub(" ", value).split())
    return _words(value)


def normalise_name(value: str) -> str:
    """Case-, accent- and space-insensitive form of a name, to find duplicates and sort."""
    return " ".join(fold(value).split())


def normalise_isbn(value: str) -> str:
    """A valid ISBN-10 or ISBN-13 as its 13-digit form, or "" when it is not a valid ISBN."""
    value = (value or "").strip()
    if not value:
        return ""
    # MARC 020$a often carries a qualifier: "0805200517 (pbk.)".
    candidate = value.split()[0].strip(".:;,")
    try:
        return stdnum_isbn.to_isbn13(stdnum_isbn.validate(candidate))
    except Exception:  # noqa: BLE001 - stdnum raises several ValidationError subclasses
        return ""


def record_fingerprint(*, title: str, authors: str, publisher: str, year) -> str:
    """Identity of a record without ISBN or control number: folded title, authors, publisher
    and year. "" (never matches) when the title has no word to fold."""
    folded_title = folded_words(title)
    if not folded_title:
        return ""
    key = "|".join([folded_title, folded_words(authors), folded_words(publisher), str(year or "")])
    return hashlib.sha1(key.encode("utf-8"), usedforsecurity=False).hexdigest()
