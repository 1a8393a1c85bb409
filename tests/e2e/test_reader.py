"""Reading in the browser (libraries/digital/reader.py, static/reader/reader.js), in Chromium:
EPUB with foliate-js (contents, search, font size, night, right-to-left, one chapter at a
time), PDF with pdf.js, the place in the book saved and resumed on another device, a 360-px
phone, and a scripted book whose scripts never reach the page, the cookies or the API."""

import io
import re
import zipfile

import pytest
from django.core.signals import request_started
from reportlab.pdfgen import canvas

from libraries.models import DigitalFile, ReadingPosition
from tests.e2e.steps import counting, page_as
from tests.factories import LibraryFactory
from tests.libraries.digital import books
from tests.libraries.digital.conftest import add_book, reader_of

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

READY = "#reader[data-state=ready]"
CSP_REPORT = re.compile(r"Content[ -]Security[ -]Policy", re.I)


@pytest.fixture
def library():
    return LibraryFactory(code="HBT", name="Thư viện huyện Hòa Bình")


def open_book(page, live_server, file):
    """Open the reading page of `file` and wait until the book shows; CSP reports and script
    errors of the page are collected in page.problems."""
    page.problems = []
    page.on(
        "console",
        lambda m: CSP_REPORT.search(m.text) and page.problems.append(f"CSP: {m.text}"),
    )
    page.on("pageerror", lambda error: page.problems.append(f"error: {error}"))
    page.goto(f"{live_server.url}/digital/{file.pk}/read/")
    page.wait_for_selector(READY, timeout=30_000)
    return page


def chapter_frames(page):
    return [frame for frame in page.frames if frame.url.startswith("blob:")]


def chapter(page):
    """The chapter on screen (foliate-js lays out one chapter document at a time)."""
    frames = chapter_frames(page)
    assert len(frames) == 1, [f.url for f in frames]
    return frames[0]


def location(page) -> str:
    return page.locator("#reader-location").inner_text()


def test_an_epub_opens_with_contents_search_font_size_and_night(browser, live_server, library):
    moby = add_book(library, books.MOBY, access=DigitalFile.Access.OPEN)
    page = open_book(page_as(browser, live_server, language="en"), live_server, moby)

    # The table of contents lists the chapters; choosing one shows it.
    page.click("#reader-contents-button")
    toc = page.locator("#reader-toc a")
    assert toc.count() > 130
    assert toc.nth(4).inner_text() == "Chapter 1. Loomings."
    toc.nth(4).click()
    page.wait_for_function(
        "() => document.getElementById('reader-location').textContent.includes('Loomings')"
    )
    assert "Call me Ishmael" in chapter(page).locator("body").text_content()

    # Long books: one chapter document at a time, the others are loaded when needed.
    page.click("#reader-next")
    page.click("#reader-next")
    assert len(chapter_frames(page)) == 1

    # Font size: the chapter's text grows.
    size = "() => parseFloat(getComputedStyle(document.querySelector('p')).fontSize)"
    before = chapter(page).evaluate(size)
    page.click("#reader-larger")
    page.click("#reader-larger")
    chapter(page).wait_for_function(
        "(b) => parseFloat(getComputedStyle(document.querySelector('p')).fontSize) > b * 1.2",
        arg=before,
    )
    after = chapter(page).evaluate(size)
    assert after > before * 1.2, (before, after)

    # Night: dark page, light text, in the chapter and around it.
    page.click("#reader-theme")
    assert page.get_attribute("#reader-theme", "aria-pressed") == "true"
    assert page.locator("#reader.is-night").count() == 1
    colours = chapter(page).evaluate(
        "() => [getComputedStyle(document.body).color,"
        " getComputedStyle(document.documentElement).backgroundColor]"
    )
    assert colours == ["rgb(230, 227, 223)", "rgb(18, 18, 18)"]

    # Search inside the book finds a word of the text (without its accents too).
    page.click("#reader-search-button")
    page.fill("#reader-search-input", "Queequeg")
    page.click("#reader-search-form button[type=submit]")
    page.wait_for_function(
        "() => /results/.test(document.getElementById('reader-search-status').textContent)",
        timeout=60_000,
    )
    results = page.locator("#reader-search-results li")
    assert results.count() == 100  # the first hundred are listed
    assert page.locator("#reader-search-status").inner_text() == "The first 100 results"
    assert results.first.locator("mark").inner_text() == "Queequeg"
    results.nth(3).click()
    page.wait_for_function(
        "() => !document.getElementById('reader-location').textContent.includes('Loomings')"
    )
    assert "Queequeg" in chapter(page).locator("body").text_content()
    assert page.problems == []


def test_a_right_to_left_book_reads_from_right_to_left(browser, live_server, library):
    arabic = add_book(library, books.ARABIC, access=DigitalFile.Access.OPEN)
    page = open_book(page_as(browser, live_server), live_server, arabic)
    assert page.get_attribute("#reader", "data-direction") == "rtl"
    assert page.get_attribute("#reader .reader-nav", "dir") == "rtl"
    # "Next" stands on the left, as a page turns in an Arabic book.
    next_x = page.locator("#reader-next").bounding_box()["x"]
    prev_x = page.locator("#reader-prev").bounding_box()["x"]
    assert next_x < prev_x
    assert chapter(page).evaluate("getComputedStyle(document.body).direction") == "rtl"
    assert page.problems == []


def pdf_of(pages: int) -> bytes:
    buffer = io.BytesIO()
    sheet = canvas.Canvas(buffer)
    sheet.setTitle("Ngọn hải đăng")
    for number in range(1, pages + 1):
        sheet.setFont("Helvetica", 28)
        sheet.drawString(72, 720, f"Lighthouse page {number}")
        if number == 3:
            sheet.drawString(72, 660, "The keeper lights the lamp.")
        sheet.showPage()
    sheet.save()
    return buffer.getvalue()


def test_a_pdf_shows_its_first_page_and_its_page_count(browser, live_server, library):
    pdf = add_book(library, pdf_of(3), access=DigitalFile.Access.OPEN)
    page = open_book(page_as(browser, live_server, language="en"), live_server, pdf)
    assert page.get_attribute("#reader", "data-page") == "1"
    assert location(page) == "Page 1 of 3"
    inked = page.evaluate(
        """() => {
            const c = document.getElementById('reader-canvas')
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data
            let dark = 0
            for (let i = 0; i < d.length; i += 4) if (d[i] < 100 && d[i + 3] > 0) dark++
            return dark
        }"""
    )
    assert inked > 200
    page.click("#reader-next")
    page.wait_for_selector("#reader[data-page='2']")
    assert location(page) == "Page 2 of 3"

    page.click("#reader-search-button")
    page.fill("#reader-search-input", "keeper")
    page.click("#reader-search-form button[type=submit]")
    page.wait_for_function(
        "() => document.getElementById('reader-search-status').textContent === '1 results'"
    )
    result = page.locator("#reader-search-results li a")
    assert result.locator("small").inner_text() == "Page 3 of 3"
    result.click()
    page.wait_for_selector("#reader[data-page='3']")
    assert page.problems == []


def wait_saved(page, pattern: str):
    page.wait_for_function(
        "(p) => new RegExp(p).test(document.getElementById('reader').dataset.saved || '')",
        arg=pattern,
        timeout=15_000,
    )


def test_the_place_in_the_book_is_saved_and_resumed_on_another_device(
    browser, live_server, library
):
    moby = add_book(library, books.MOBY, access=DigitalFile.Access.MEMBERS)
    reader = reader_of(library)
    phone = open_book(
        page_as(browser, live_server, reader.user, viewport=(360, 740), language="en"),
        live_server,
        moby,
    )
    phone.click("#reader-contents-button")
    phone.locator("#reader-toc a", has_text="Chapter 3. The Spouter-Inn.").click()
    phone.wait_for_function(
        "() => document.getElementById('reader-location').textContent.includes('Spouter-Inn')"
    )
    phone.click("#reader-next")
    wait_saved(phone, "^epubcfi\\(")
    stored = ReadingPosition.objects.get(user=reader.user, file=moby)
    assert stored.locator == phone.get_attribute("#reader", "data-saved")
    assert 0 < stored.progress < 0.1
    phone.context.close()
    counting(live_server).wait_quiet()  # the phone's last save, sent as it closed

    computer = open_book(
        page_as(browser, live_server, reader.user, language="en"), live_server, moby
    )
    assert "Spouter-Inn" in location(computer)
    shown = float(computer.get_attribute("#reader", "data-fraction"))
    assert abs(shown - stored.progress) < 0.01

    # A PDF resumes at its page.
    pdf = add_book(library, pdf_of(3), access=DigitalFile.Access.MEMBERS)
    first = open_book(page_as(browser, live_server, reader.user), live_server, pdf)
    first.click("#reader-next")
    wait_saved(first, "^page:2$")
    assert ReadingPosition.objects.get(user=reader.user, file=pdf).locator == "page:2"
    other = open_book(page_as(browser, live_server, reader.user), live_server, pdf)
    assert other.get_attribute("#reader", "data-page") == "2"


@pytest.mark.parametrize("kind", ["epub", "pdf"])
def test_the_reader_fits_a_360px_phone(browser, live_server, library, kind):
    source = books.CHILDREN if kind == "epub" else pdf_of(2)
    file = add_book(library, source, access=DigitalFile.Access.OPEN)
    page = open_book(page_as(browser, live_server, viewport=(360, 740)), live_server, file)
    for panel in (None, "#reader-contents-button", "#reader-search-button"):
        if panel:
            page.click(panel)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, f"{panel}: {width}px"
    # Every control of the page can be pressed with a finger (44 px).
    small = page.evaluate(
        """() => [...document.querySelectorAll('#reader button, #reader input')]
            .filter(el => el.offsetParent && el.getBoundingClientRect().height < 44)
            .map(el => el.id)"""
    )
    assert small == []
    assert page.problems == []


# ------------------------------------------------------------------ a book's own scripts

ATTACK = """
<script>
document.documentElement.setAttribute('data-book-script', 'ran');
try { parent.document.body.setAttribute('data-book-touched', 'yes'); } catch (e) {}
try { parent.document.title = 'owned'; } catch (e) {}
try { top.kbStolen = document.cookie; } catch (e) {}
try { fetch('/api/v1/me', {credentials: 'include'}); } catch (e) {}
try { new Image().src = '/api/v1/me?via=image&c=' + document.cookie; } catch (e) {}
</script>
<script src="quiz/attack.js"></script>
<img src="missing.png" alt="" onerror="fetch('/api/v1/me?via=onerror', {credentials: 'include'})"/>
<p><a id="js-link" href="javascript:fetch('/api/v1/me?via=link')">Solar system notes</a></p>
"""
ATTACK_JS = (
    b"document.documentElement.setAttribute('data-book-file-script', 'ran');"
    b"fetch('/api/v1/me?via=file', {credentials: 'include'});"
    b"parent.document.body.innerHTML = 'owned';"
)


def scripted_book() -> bytes:
    """The quiz-bindings EPUB (jQuery and quiz.js inside) with scripts that try to reach the
    page that shows it, its cookies and the site's API with the reader's session."""
    with zipfile.ZipFile(books.QUIZ) as archive:
        text = archive.read("EPUB/content/text.xhtml").decode()
        opf = archive.read("EPUB/package.opf").decode()
    text = text.replace("<body>", "<body>" + ATTACK, 1)
    opf = opf.replace(
        "</manifest>",
        '<item id="attack" href="content/quiz/attack.js" media-type="text/javascript"/></manifest>',
    )
    return books.rebuild(
        books.QUIZ,
        replace={"EPUB/content/text.xhtml": text.encode(), "EPUB/package.opf": opf.encode()},
        extra=[("EPUB/content/quiz/attack.js", ATTACK_JS)],
    )


def test_a_books_scripts_never_reach_the_page_the_cookies_or_the_api(browser, live_server, library):
    book = add_book(library, scripted_book(), access=DigitalFile.Access.MEMBERS)
    reader = reader_of(library)
    paths = []

    def seen(sender, environ, **kwargs):
        paths.append(environ.get("PATH_INFO", ""))

    request_started.connect(seen)
    try:
        page = page_as(browser, live_server, reader.user, language="en")
        browser_requests = []
        page.on("request", lambda request: browser_requests.append(request.url))
        open_book(page, live_server, book)
        title = page.title()
        frame = chapter(page)
        assert "The Solar System" in frame.locator("body").text_content()
        # The book's jQuery quiz (an <object> with a scripted handler) and the link are there
        # as text; clicking the javascript: link runs nothing either.
        frame.locator("#js-link").click()
        page.click("#reader-next")
        page.click("#reader-prev")
        page.wait_for_timeout(1500)
        # Check a request from the page does reach the server, so silence below means refusal.
        page.evaluate("fetch('/api/v1/me', {credentials: 'include'})")
        page.wait_for_timeout(500)
    finally:
        request_started.disconnect(seen)

    api_calls = [p for p in paths if p.startswith("/api/v1/me")]
    assert api_calls == ["/api/v1/me"]  # only the page's own request above
    assert [u for u in browser_requests if "/api/v1/me" in u] == [f"{live_server.url}/api/v1/me"]
    assert not [u for u in browser_requests if "attack.js" in u or "missing.png" in u]
    # The page is untouched, nothing was taken from it.
    assert page.title() == title != "owned"
    assert page.evaluate("document.body.getAttribute('data-book-touched')") is None
    assert page.evaluate("typeof window.kbStolen") == "undefined"
    assert page.locator("#reader-view foliate-view").count() == 1
    # Inside the book no script ran at all: the chapter's iframe may not run scripts.
    assert frame.evaluate("document.documentElement.getAttribute('data-book-script')") is None
    assert frame.evaluate("document.documentElement.getAttribute('data-book-file-script')") is None
    assert frame.frame_element().get_attribute("sandbox") == "allow-same-origin"
    policy = page.evaluate(
        "async () => (await fetch(location.href)).headers.get('content-security-policy')"
    )
    scripts = re.search(r"script-src ([^;]+)", policy).group(1).split()
    assert "'unsafe-inline'" not in scripts and "blob:" not in scripts
    assert "'unsafe-eval'" not in scripts and "data:" not in scripts
