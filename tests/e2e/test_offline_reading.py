"""Offline reading in the installable app, in Debian's Chromium (docs/DIGITAL.md, "Offline
reading"): an open-access PDF kept from the reading page and a lent EPUB kept from /my/loans/
open and are read offline; the places reached offline reach the server once the connection
returns; returning the loan drops the lent book's copy from the device while the open book's
stays; the bytes are kept under the book's own address, never a signed one."""

import pytest

from libraries.digital import services as digital
from libraries.models import DigitalFile, DigitalLoan, ReadingPosition
from tests.e2e.steps import page_as
from tests.e2e.test_offline import CACHED_URLS, CONTROLLED, STARTED, wait_until
from tests.e2e.test_reader import pdf_of
from tests.factories import LibraryFactory
from tests.libraries.digital import books
from tests.libraries.digital.conftest import add_book, reader_of

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

READY = "#reader[data-state=ready]"
OFFLINE_CACHE = "kb-offline-v1"
# The worker and the buttons have looked at what this device keeps (static/reader/offline.js).
BUTTONS = "() => window.KnowledgeBridgeBooks.ready.then(() => true)"


def cached(page) -> dict[str, list[str]]:
    return page.evaluate(CACHED_URLS)


def every_cached_path(page) -> list[str]:
    return [path for paths in cached(page).values() for path in paths]


def read_url(file) -> str:
    return f"/digital/{file.pk}/read/"


def file_url(file) -> str:
    return f"/digital/{file.pk}/file/"


def open_reader(page, live_server, file):
    page.goto(f"{live_server.url}{read_url(file)}")
    page.wait_for_selector(READY, timeout=30_000)


QUEUED = "() => document.getElementById('reader').dataset.queued"


def turn_page_offline(page) -> str:
    """Once the place where the book opened is kept by the worker (202, shown in
    data-queued), turn one page and wait until the new place is kept."""
    page.wait_for_function(QUEUED, timeout=15_000)
    before = page.get_attribute("#reader", "data-queued")
    page.click("#reader-next")
    page.wait_for_function(
        "(b) => (document.getElementById('reader').dataset.queued || '') !== (b || '')",
        arg=before,
        timeout=15_000,
    )
    return page.get_attribute("#reader", "data-queued")


def test_an_open_book_and_a_lent_book_are_read_offline_and_the_lent_copy_goes_with_the_loan(
    browser, live_server
):
    library = LibraryFactory(code="HBT", name="Thư viện huyện Hòa Bình")
    # A PDF in a standard font: pdf.js needs its font files, kept with the book.
    open_book = add_book(library, pdf_of(3), access=DigitalFile.Access.OPEN)
    lent_book = add_book(library, books.CHILDREN, licences=1)
    reader = reader_of(library)
    loan = digital.borrow(file=lent_book, by=reader.user).loan
    page = page_as(browser, live_server, reader.user)
    failed = []
    page.on("requestfailed", lambda request: failed.append(request.url))

    # The worker runs; the open book is kept from its reading page.
    page.goto(f"{live_server.url}/")
    page.evaluate(STARTED)
    open_reader(page, live_server, open_book)
    page.wait_for_function(CONTROLLED, timeout=10_000)
    page.evaluate(STARTED)
    page.evaluate(BUTTONS)
    widget = page.locator("[data-offline-book]")
    assert widget.locator("[data-offline-save]").inner_text() == "Giữ để đọc ngoại tuyến"
    widget.locator("[data-offline-save]").click()
    page.wait_for_selector("[data-offline-book][data-kept=true]", timeout=30_000)
    assert widget.locator("[data-offline-state]").inner_text() == "Đã giữ để đọc ngoại tuyến"

    # The lent book is kept from /my/loans/.
    page.goto(f"{live_server.url}/my/loans/")
    page.evaluate(BUTTONS)
    row = page.locator("tr", has=page.locator(f"a[href='{read_url(lent_book)}']"))
    row.locator("[data-offline-save]").click()
    page.wait_for_selector("[data-offline-book][data-kept=true]", timeout=30_000)

    kept = set(cached(page)[OFFLINE_CACHE])
    assert {
        read_url(open_book),
        file_url(open_book),
        f"/pwa-state/book/{open_book.pk}",
        read_url(lent_book),
        file_url(lent_book),
        f"/pwa-state/book/{lent_book.pk}",
        "/static/reader/reader.js",
        "/static/reader/foliate/view.js",
        "/static/reader/foliate/epub.js",
        "/static/reader/pdfjs/pdf.min.mjs",
        "/static/reader/pdfjs/pdf.worker.min.mjs",
        "/static/reader/pdfjs/standard_fonts/LiberationSans-Regular.ttf",
    } <= kept
    # Never a signed address: those live minutes and name the account.
    assert [path for path in every_cached_path(page) if path.startswith("/digital/f/")] == []

    # Offline: both books open from the device and are read.
    positions = ReadingPosition.objects.filter(user=reader.user)
    online_places = dict(positions.values_list("file_id", "locator"))
    assert online_places == {open_book.pk: "page:1"}  # where it opened online
    page.context.set_offline(True)
    open_reader(page, live_server, lent_book)
    assert page.evaluate("navigator.onLine") is False
    lent_place = turn_page_offline(page)
    assert lent_place.startswith("epubcfi(")
    open_reader(page, live_server, open_book)
    assert page.get_attribute("#reader", "data-page") == "1"
    assert turn_page_offline(page) == "page:2"
    page.wait_for_timeout(500)
    assert dict(positions.values_list("file_id", "locator")) == online_places
    assert [url for url in failed if "/static/" in url or "/file/" in url] == []

    # Back online: the places reached offline are sent.
    page.context.set_offline(False)
    page.goto(f"{live_server.url}/")
    expected = {lent_book.pk: lent_place, open_book.pk: "page:2"}
    assert wait_until(page, lambda: dict(positions.values_list("file_id", "locator")) == expected)

    # The loan is returned on /my/loans/: the lent book's copy goes, the open book's stays.
    page.goto(f"{live_server.url}/my/loans/")
    page.locator(f"form[action='/digital/loans/{loan.pk}/return/'] button").click()
    page.wait_for_url(f"{live_server.url}/my/loans/")
    page.evaluate(BUTTONS)
    assert DigitalLoan.objects.get(pk=loan.pk).returned_at is not None

    def lent_copy_gone():
        paths = set(cached(page)[OFFLINE_CACHE])
        return file_url(lent_book) not in paths and f"/pwa-state/book/{lent_book.pk}" not in paths

    assert wait_until(page, lent_copy_gone)
    paths = set(cached(page)[OFFLINE_CACHE])
    assert read_url(lent_book) not in paths
    assert {file_url(open_book), f"/pwa-state/book/{open_book.pk}", read_url(open_book)} <= paths
    assert "/static/reader/pdfjs/pdf.min.mjs" in paths
    # The reader's files only the lent EPUB needed went with it.
    assert "/static/reader/foliate/epub.js" not in paths

    # Offline again: the open book still opens; the returned one does not.
    page.context.set_offline(True)
    open_reader(page, live_server, open_book)
    assert page.get_attribute("#reader", "data-page") == "2"
    page.goto(f"{live_server.url}{read_url(lent_book)}")
    assert page.locator("h1").inner_text() == "Không có kết nối"
    page.context.set_offline(False)
