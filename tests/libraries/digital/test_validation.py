"""Every upload is checked before anything is written: the real EPUBs pass, hostile copies of
them and PDFs with scripts, launch actions, attachments or a password are refused."""

import io

import pytest

from libraries.digital.validation import BookRefused, validate_book
from tests.libraries.digital import books


@pytest.mark.parametrize(
    ("path", "title", "creators", "language", "kind_text"),
    [
        (
            books.CHILDREN,
            "Children's Literature",
            ["Charles Madison Curry", "Erle Elsworth Clippinger"],
            "eng",
            "FAIRY STORIES",
        ),
        (books.MOBY, "Moby-Dick", ["Herman Melville"], "eng", "Call me Ishmael"),
        (
            books.ARABIC,
            "Le Vrai Régime anti-cancer",
            ["Pr David Khayat", "Nathalie Hutter-Lardeau", "Marina Khalil Fayad"],
            "ara",
            "السرطان",
        ),
        (books.QUIZ, "Basic Quiz", ["E.L. Starr"], "eng", "Solar System"),
    ],
)
def test_the_real_epubs_pass_with_their_metadata_and_text(
    path, title, creators, language, kind_text
):
    book = validate_book(io.BytesIO(path.read_bytes()), path.name)
    assert book.kind == "epub"
    assert book.size == path.stat().st_size
    assert len(book.sha256) == 64
    assert book.metadata.title == title
    assert book.metadata.creators == creators
    assert book.metadata.marc_language == language
    assert kind_text in book.text


def test_moby_dick_keeps_its_cover_and_its_long_text():
    book = validate_book(io.BytesIO(books.MOBY.read_bytes()))
    assert book.cover.content_type == "image/jpeg"
    assert book.cover.data[:3] == b"\xff\xd8\xff"
    assert book.metadata.publisher == "Harper & Brothers, Publishers"
    assert book.metadata.identifiers == ["code.google.com.epub-samples.moby-dick-basic"]
    assert len(book.text) > 1_000_000
    assert "<" not in book.text[:5000]  # markup gone, words kept


def test_a_vietnamese_pdf_written_with_the_project_fonts_passes_with_its_words():
    book = validate_book(io.BytesIO(books.text_pdf("Sổ tay thư viện", ["Đọc sách ở mọi nơi."])))
    assert (book.kind, book.pages) == ("pdf", 1)
    assert book.metadata.title == "Sổ tay thư viện"
    assert book.metadata.marc_language == "vie"
    assert "Đọc sách ở mọi nơi." in book.text


def test_an_isbn_printed_in_a_pdf_is_read():
    book = validate_book(io.BytesIO(books.plain_pdf(isbn="978-604-2-12345-2")))
    assert book.metadata.isbn == ""  # wrong check digit: not an ISBN
    book = validate_book(io.BytesIO(books.plain_pdf(isbn="978-0-306-40615-7")))
    assert book.metadata.isbn == "9780306406157"


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (books.traversal_epub, "Unsafe path in the file: ../../etc/cron.d/evil"),
        (books.bomb_epub, "compressed suspiciously well (a ZIP bomb?)"),
        (books.symlink_epub, "Symbolic links are not allowed in the file: OEBPS/link"),
        (books.duplicate_epub, "same name, other case"),
        (books.no_container_epub, "This EPUB has no META-INF/container.xml."),
        (books.wrong_mimetype_epub, "“mimetype” must say application/epub+zip"),
        (books.mimetype_not_first_epub, "its first entry must be the file “mimetype”"),
        (books.missing_package_epub, "named by container.xml is missing"),
        (books.entity_bomb_epub, "declares XML entities; refused."),
        (books.broken_package_epub, "is not valid XML."),
        (books.encrypted_pdf, "This PDF is encrypted or password-protected"),
        (books.javascript_open_action_pdf, "This PDF contains JavaScript"),
        (books.javascript_names_pdf, "This PDF contains JavaScript"),
        (books.launch_pdf, "launch action (it would start a program)"),
        (books.attachment_pdf, "This PDF carries embedded files"),
        (books.damaged_pdf, "The PDF is damaged and cannot be read."),
        (lambda: b"<html><script>alert(1)</script></html>", "neither an EPUB e-book nor a PDF"),
        (lambda: b"", "The file is empty."),
    ],
)
def test_hostile_and_broken_files_are_refused_with_a_reason(build, message):
    with pytest.raises(BookRefused) as refused:
        validate_book(io.BytesIO(build()), "upload")
    assert message in refused.value.message


def test_a_file_over_the_size_cap_is_refused_before_it_is_read(settings):
    settings.DIGITAL_MAX_UPLOAD_BYTES = 100_000
    with pytest.raises(BookRefused) as refused:
        validate_book(io.BytesIO(books.CHILDREN.read_bytes()))
    assert "The file is too large" in refused.value.message


def test_refusals_read_in_vietnamese(vietnamese):
    with pytest.raises(BookRefused) as refused:
        validate_book(io.BytesIO(books.encrypted_pdf()))
    assert refused.value.message == (
        "Tệp PDF này được mã hóa hoặc đặt mật khẩu; hãy lưu một bản không khóa."
    )
