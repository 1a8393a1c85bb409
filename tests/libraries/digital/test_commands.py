"""manage.py import_ebook (one file or a folder) and the demo's e-books."""

import io
import shutil

import pytest
from django.core.management import CommandError, call_command

from libraries.digital import demo
from libraries.models import CirculationRule, DigitalFile, DigitalText, Library, Record
from libraries.models.digital import DIGITAL_ITEM_TYPE
from tests.factories import LibraryFactory
from tests.libraries.digital import books
from tests.libraries.digital.conftest import stored_files


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("import_ebook", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_one_file_with_licences(tree):
    out, err = run(str(books.MOBY), "--library", "hbt", "--licences", "3")
    file = DigitalFile.objects.get()
    assert (file.library, file.access, file.licences, file.record.title) == (
        tree.own,
        "lending",
        3,
        "Moby-Dick",
    )
    assert f"moby-dick.epub: “Moby-Dick” (record {file.record_id}, new record)" in out
    assert "Added 1 files, refused 0." in out and err == ""


def test_a_folder_adds_the_good_files_and_reports_the_bad(tree, tmp_path):
    shutil.copy(books.CHILDREN, tmp_path / "a.epub")
    shutil.copy(books.ARABIC, tmp_path / "b.EPUB")
    (tmp_path / "evil.epub").write_bytes(books.traversal_epub())
    (tmp_path / "script.pdf").write_bytes(books.javascript_open_action_pdf())
    (tmp_path / "notes.txt").write_text("ignored")
    out, err = run(str(tmp_path), "--library", "HBT", "--access", "open")
    assert DigitalFile.objects.filter(access="open").count() == 2
    assert "evil.epub: Unsafe path in the file" in err
    assert "script.pdf: This PDF contains JavaScript" in err
    assert "Added 2 files, refused 2." in out


def test_cardholders_of_named_libraries(tree):
    run(
        str(books.QUIZ), "--library", "HBT", "--access", "cardholders", "--cardholders", "THCSA,DDA"
    )
    file = DigitalFile.objects.get()
    assert set(file.cardholder_libraries.values_list("code", flat=True)) == {"THCSA", "DDA"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--library", "NOPE"], "No library has the code NOPE."),
        (["--library", "HBT", "--access", "lending", "--licences", "0"], "No file was added."),
        (["--library", "HBT", "--access", "cardholders"], "No file was added."),
    ],
)
def test_refusals_write_nothing(tree, args, message):
    before = (Record.objects.count(), DigitalFile.objects.count(), frozenset(stored_files()))
    with pytest.raises(CommandError) as failed:
        run(str(books.CHILDREN), *args)
    assert str(failed.value) == message
    assert (
        Record.objects.count(),
        DigitalFile.objects.count(),
        frozenset(stored_files()),
    ) == before


def test_a_missing_path_is_an_error(tree):
    with pytest.raises(CommandError, match="No such file or folder"):
        run("/nonexistent/book.epub", "--library", "HBT")


def test_the_demo_adds_the_lending_titles_the_arabic_book_and_the_vietnamese_guide(db):
    LibraryFactory(code="TVT", kind=Library.Kind.PROVINCIAL)
    demo.load()
    demo.load()  # twice: nothing doubled
    rows = sorted(DigitalFile.objects.values_list("record__title", "kind", "access", "licences"))
    assert rows == [
        ("Children's Literature", "epub", "lending", 2),
        ("Hướng dẫn sử dụng thư viện số", "pdf", "open", 0),
        ("Le Vrai Régime anti-cancer", "epub", "members", 0),
        ("Moby-Dick", "epub", "lending", 2),
    ]
    guide = DigitalText.objects.get(file__kind="pdf")
    assert "Danh sách chờ" in guide.body
    rule = CirculationRule.objects.get(item_type=DIGITAL_ITEM_TYPE)
    assert (rule.loan_days, rule.max_loans) == (21, 3)
