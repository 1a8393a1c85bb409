"""Open-access book texts on catalog records, for the search benchmarks (bench/catalog_data.py
--books, bench/digital.py): the texts of the fixture EPUBs, in turn, on the records given.
Import after bench.harness.setup_django."""

import io
import random
from pathlib import Path

from libraries.digital.services import _store_text
from libraries.digital.validation import validate_book
from libraries.models import DigitalFile, Library

EBOOKS = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "ebooks"


def fixture_texts() -> list[str]:
    return [
        validate_book(io.BytesIO(path.read_bytes()), path.name).text
        for path in sorted(EBOOKS.glob("*.epub"))
    ]


def add_open_books(record_ids, library: Library, rng: random.Random, texts: list[str]) -> list[int]:
    """One open EPUB file on each record, with its text indexed (no bytes stored: search
    reads only the text); returns the files' primary keys."""
    added = []
    for n, record_id in enumerate(record_ids):
        file = DigitalFile.objects.create(
            record_id=record_id,
            library=library,
            kind="epub",
            access="open",
            file=f"digital/bench-{n}",
            sha256=f"{rng.getrandbits(256):064x}",
        )
        _store_text(file, texts[n % len(texts)])
        added.append(file.pk)
    return added
