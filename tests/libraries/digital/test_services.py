"""Adding, changing and deleting digital files (libraries/digital/services.py)."""

import io

import pytest
from django.core.files.storage import storages

from libraries.digital.services import (
    OPERATOR,
    DigitalError,
    add_file,
    change_file,
    delete_file,
    vocabulary,
)
from libraries.models import DigitalFile, DigitalLoan, DigitalText, Record, Role
from tests.factories import member
from tests.libraries.catalog.factories import RecordFactory
from tests.libraries.digital import books
from tests.libraries.digital.conftest import add_book, reader_of, stored_files


def counts():
    return (
        Record.objects.count(),
        DigitalFile.objects.count(),
        DigitalText.objects.count(),
        frozenset(stored_files()),
    )


def test_an_epub_gets_a_new_record_from_its_metadata_and_a_private_file(tree):
    result = add_file(
        upload=io.BytesIO(books.MOBY.read_bytes()),
        name="moby-dick.epub",
        library=tree.own,
        by=OPERATOR,
        access_level=DigitalFile.Access.LENDING,
        licences=2,
    )
    file, record = result.file, result.record
    assert (result.matched_by, result.created_record) == ("new", True)
    assert (record.title, record.authors, record.language) == (
        "Moby-Dick",
        "Herman Melville",
        "eng",
    )
    assert record.publisher == "Harper & Brothers, Publishers"
    assert record.source_library == tree.own
    assert record.cover is not None and file.cover == record.cover
    assert (file.kind, file.access, file.licences) == ("epub", "lending", 2)
    assert file.size == books.MOBY.stat().st_size
    assert file.file.name.startswith("digital/") and "." not in file.file.name.split("/")[1]
    assert file.file.storage is storages["private"]
    with file.file.open("rb") as stored:
        assert stored.read() == books.MOBY.read_bytes()
    assert file.original_name == "moby-dick.epub"
    assert file.metadata["creators"] == ["Herman Melville"]
    # Words of every file are searched; the body (for snippets) stays only with open ones.
    text = DigitalText.objects.get(file=file)
    assert " ishmael " in text.words and text.body == ""


def test_the_same_book_at_another_library_joins_the_same_record_by_fingerprint(tree):
    first = add_book(tree.own, books.CHILDREN)
    result = add_file(
        upload=io.BytesIO(books.CHILDREN.read_bytes()),
        name="c.epub",
        library=tree.sibling,
        by=OPERATOR,
        access_level=DigitalFile.Access.OPEN,
    )
    assert (result.matched_by, result.created_record) == ("fingerprint", False)
    assert result.record == first.record
    assert Record.objects.count() == 1
    assert DigitalText.objects.get(file=result.file).body.startswith("THE CONTENTS")


def test_a_pdf_with_an_isbn_joins_the_print_record_with_that_isbn(tree):
    record = RecordFactory(title="Hải đăng", isbn="9780306406157")
    result = add_file(
        upload=io.BytesIO(books.plain_pdf(isbn="978-0-306-40615-7")),
        name="haidang.pdf",
        library=tree.own,
        by=OPERATOR,
        access_level=DigitalFile.Access.MEMBERS,
    )
    assert (result.record, result.matched_by, result.created_record) == (record, "isbn", False)
    assert Record.objects.count() == 1


def test_staff_may_choose_the_record_themselves(tree, librarian):
    record = RecordFactory(title="Văn học thiếu nhi")
    result = add_file(
        upload=io.BytesIO(books.CHILDREN.read_bytes()),
        name="c.epub",
        library=tree.child,
        by=librarian,
        access_level=DigitalFile.Access.OPEN,
        record=record,
    )
    assert (result.record, result.matched_by) == (record, "chosen")
    assert result.file.uploaded_by == librarian


@pytest.mark.parametrize(
    "build",
    [books.traversal_epub, books.bomb_epub, books.no_container_epub, books.encrypted_pdf,
     books.javascript_open_action_pdf, books.launch_pdf, books.attachment_pdf],
)  # fmt: skip
def test_a_refused_file_leaves_no_row_and_no_file(tree, build):
    before = counts()
    with pytest.raises(DigitalError) as refused:
        add_file(
            upload=io.BytesIO(build()),
            name="evil.epub",
            library=tree.own,
            by=OPERATOR,
            access_level=DigitalFile.Access.OPEN,
        )
    assert refused.value.code == "invalid"
    assert counts() == before


def test_the_same_file_twice_at_one_library_is_refused_and_changes_nothing(tree):
    add_book(tree.own, books.CHILDREN)
    before = counts()
    with pytest.raises(DigitalError) as refused:
        add_book(tree.own, books.CHILDREN, access=DigitalFile.Access.OPEN)
    assert refused.value.code == "duplicate"
    assert refused.value.message == "HBT already has this file (record “Children's Literature”)."
    assert counts() == before


@pytest.mark.parametrize(
    ("access_level", "licences", "code"),
    [("lending", 0, "licences"), ("cardholders", 0, "cardholders"), ("everyone", 0, "refused")],
)
def test_access_levels_are_checked_before_anything_is_written(tree, access_level, licences, code):
    before = counts()
    with pytest.raises(DigitalError) as refused:
        add_file(
            upload=io.BytesIO(books.CHILDREN.read_bytes()),
            name="c.epub",
            library=tree.own,
            by=OPERATOR,
            access_level=access_level,
            licences=licences,
        )
    assert refused.value.code == code
    assert counts() == before


def test_the_database_refuses_a_lending_file_without_licences(tree):
    file = add_book(tree.own, books.CHILDREN, licences=1)
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        DigitalFile.objects.filter(pk=file.pk).update(licences=0)
    file.refresh_from_db()
    assert file.licences == 1


@pytest.mark.parametrize("target", ["sibling", "parent"])
def test_staff_add_files_only_to_libraries_they_reach(tree, librarian, target):
    before = counts()
    with pytest.raises(DigitalError) as refused:
        add_book(tree.target(target), books.CHILDREN, by=librarian)
    assert refused.value.code == "not_allowed"
    assert counts() == before


def test_staff_change_the_record_access_and_licences(tree, librarian):
    file = add_book(tree.own, books.CHILDREN, licences=1)
    other = RecordFactory(title="Tuyển tập truyện thiếu nhi")
    change_file(file=file, by=librarian, record=other, access_level="open")
    file.refresh_from_db()
    assert (file.record, file.matched_by, file.access, file.licences) == (
        other,
        "chosen",
        "open",
        0,
    )
    text = DigitalText.objects.get(file=file)
    assert text.record == other and "FAIRY STORIES" in text.body  # open now: body for snippets
    change_file(file=file, by=librarian, access_level="lending", licences=3)
    file.refresh_from_db()
    assert (file.access, file.licences) == ("lending", 3)
    assert DigitalText.objects.get(file=file).body == ""


def test_licences_on_loan_cannot_be_taken_away(tree, librarian):
    from libraries.digital.services import borrow

    file = add_book(tree.own, books.CHILDREN, licences=2)
    for _ in range(2):
        borrow(file=file, by=reader_of(tree.own).user)
    for change in ({"licences": 1}, {"access_level": "open"}):
        with pytest.raises(DigitalError) as refused:
            change_file(file=file, by=librarian, **change)
        assert refused.value.code == "on_loan"
    file.refresh_from_db()
    assert (file.access, file.licences) == ("lending", 2)


def test_staff_of_another_library_cannot_change_a_file(tree):
    file = add_book(tree.own, books.CHILDREN, licences=1)
    outsider = member(tree.sibling, Role.LIBRARY_ADMIN)
    with pytest.raises(DigitalError):
        change_file(file=file, by=outsider, licences=5)
    file.refresh_from_db()
    assert file.licences == 1


def test_admins_delete_a_file_never_lent_and_its_stored_bytes_go(
    tree, django_capture_on_commit_callbacks
):
    file = add_book(tree.own, books.CHILDREN, licences=1)
    name = file.file.name
    librarian = member(tree.own, Role.LIBRARIAN)
    with pytest.raises(DigitalError):
        delete_file(file=file, by=librarian)
    admin = member(tree.own, Role.LIBRARY_ADMIN)
    with django_capture_on_commit_callbacks(execute=True):
        delete_file(file=file, by=admin)
    assert not DigitalFile.objects.exists()
    assert not storages["private"].exists(name)


def test_a_file_that_was_lent_is_kept(tree):
    from libraries.digital.services import borrow, return_loan

    file = add_book(tree.own, books.CHILDREN, licences=1)
    reader = reader_of(tree.own)
    loan = borrow(file=file, by=reader.user).loan
    return_loan(loan=loan, by=reader.user)
    with pytest.raises(DigitalError) as refused:
        delete_file(file=file, by=OPERATOR)
    assert refused.value.code == "lent"
    assert DigitalFile.objects.filter(pk=file.pk).exists()
    assert DigitalLoan.objects.count() == 1


def test_the_vocabulary_holds_each_folded_word_once():
    assert vocabulary("Đường về quê hương, đường về!") == " duong ve que huong "
    assert vocabulary("") == ""
