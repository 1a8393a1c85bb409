import io
from pathlib import Path

import pytest
from django.core.files.storage import storages

from libraries.digital.services import OPERATOR, add_file
from libraries.models import DigitalFile, Role
from tests.factories import UserFactory, member
from tests.libraries.circulation.factories import PatronFactory
from tests.libraries.digital import books


@pytest.fixture(autouse=True)
def _english(english_site):
    """Assertions read the English source messages; one test checks the Vietnamese ones."""


def stored_files() -> set[str]:
    """Every file under the private storage's digital/ folder."""
    root = Path(storages["private"].location) / "digital"
    return (
        {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}
        if root.is_dir()
        else set()
    )


def add_book(
    library,
    path=books.CHILDREN,
    *,
    access=DigitalFile.Access.LENDING,
    licences=2,
    by=OPERATOR,
    **extra,
):
    content = path.read_bytes() if isinstance(path, Path) else path
    name = path.name if isinstance(path, Path) else "book.pdf"
    return add_file(
        upload=io.BytesIO(content),
        name=name,
        library=library,
        by=by,
        access_level=access,
        licences=licences if access == DigitalFile.Access.LENDING else 0,
        **extra,
    ).file


def reader_of(library, **fields):
    """A reader card of `library` linked to a new site account (returned: the card)."""
    user = UserFactory()
    return PatronFactory(home_library=library, user=user, **fields)


@pytest.fixture
def librarian(tree):
    return member(tree.own, Role.LIBRARIAN)
