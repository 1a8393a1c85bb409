"""Text forms every area compares by: NFC, accent-folded words, names, ISBNs, fingerprints.

Model-free, so models, services and search all use the same rules. Vietnamese letters fold
to ASCII (``Đường`` -> ``duong``); letters with no decomposition (ø, ł, æ …) are mapped to
their usual ASCII spelling; letters of other scripts are kept as they are (search drops them
from its ASCII columns, names keep them so two schools are never folded to the same blank).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

from stdnum import isbn as stdnum_isbn

_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)
_NON_ALNUM_ASCII = re.compile(r"[^a-z0-9]+")
_EXTRA_FOLDS = str.maketrans(
    {"ø": "o", "ł": "l", "æ": "ae", "œ": "oe", "ß": "ss", "ı": "i", "þ": "th", "ð": "d"}
)


def nfc(value: str) -> str:
    return unicodedata.normalize("NFC", value or "")


def _fold_char(ch: str) -> str:
    value = unicodedata.normalize("NFD", ch.replace("đ", "d").replace("Đ", "D"))
    value = "".join(c for c in value if unicodedata.category(c) != "Mn")
    value = value.lower().translate(_EXTRA_FOLDS)
    folded = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii")
    if not folded and value.isalnum():
        return value  # a letter of another script: kept, not dropped
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


def exact_words(value: str) -> str:
    """NFC lower-case words separated by single spaces."""
    return " ".join(_NON_WORD.sub(" ", nfc(value).lower()).split())


def folded_words(value: str) -> str:
    """ASCII letters and digits only, one space between words: "Sở, Tư-Dưc" -> "so tu duc"."""
    return " ".join(_NON_ALNUM_ASCII.sub(" ", fold(value)).split())


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
    and year."""
    key = "|".join(
        [folded_words(title), folded_words(authors), folded_words(publisher), str(year or "")]
    )
    return hashlib.sha1(key.encode("utf-8"), usedforsecurity=False).hexdigest()
