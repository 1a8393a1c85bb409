"""Accessible everywhere: axe-core finds no serious or critical violation on the main pages,
in Vietnamese (the default language), in Debian's Chromium against the live server.

axe-playwright-python ships axe.min.js and hands it to page.evaluate, so nothing is downloaded
at run time, and the site's strict Content-Security-Policy stays on: Playwright evaluates
through the DevTools protocol, which the page's CSP does not govern (a <script> tag added to
the page would be refused). Each test checks the policy was sent, so this stays true.
"""

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from courses.classes import services as classes
from courses.h5p.storage import OPERATOR, install_package
from courses.h5p.validation import validate_package
from courses.training.progress import enrol
from libraries.models import Role
from tests.courses.classes.factories import (
    RIGHT,
    answer,
    class_with_students,
    course_with_quizzes,
    network,
    staff_at,
)
from tests.courses.h5p.support import fixture
from tests.courses.training.factories import h5p_block, make_course, make_lesson
from tests.e2e.steps import page_as
from tests.e2e.test_phone_layout import ensure_home_page
from tests.factories import MembershipFactory, UserFactory
from tests.libraries.catalog.factories import ItemFactory
from tests.libraries.circulation.factories import PatronFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

AXE = Axe()
BLOCKING = {"serious", "critical"}
WIDTHS = [(1280, 900), (360, 740)]


def open_as(browser, live_server, user=None):
    """A desktop-sized page, logged in as `user` when given, in the site's default language."""
    return page_as(browser, live_server, user)


def visit(page, url):
    """Open `url` and check it is the page itself (not a refusal or a login redirect)."""
    response = page.goto(url)
    assert response.status == 200 and page.url == url, (response.status, page.url)


def home(browser, live_server):
    ensure_home_page()
    page = open_as(browser, live_server)
    visit(page, f"{live_server.url}/")
    return page


def catalog_search(browser, live_server):
    ItemFactory(record__title="Dế Mèn phiêu lưu ký", record__authors="Tô Hoài")
    page = open_as(browser, live_server)
    visit(page, f"{live_server.url}/catalog/?q=D%E1%BA%BF+M%C3%A8n")
    return page


def catalog_record(browser, live_server):
    item = ItemFactory(record__title="Dế Mèn phiêu lưu ký", record__authors="Tô Hoài")
    page = open_as(browser, live_server)
    visit(page, f"{live_server.url}/catalog/record/{item.record.pk}/")
    return page


def h5p_lesson(browser, live_server):
    package = install_package(
        validate_package(fixture("truefalse")), title="Đúng hay sai", by=OPERATOR
    )
    course = make_course(title="Em học cùng H5P")
    block = h5p_block(package=package)
    lesson = make_lesson(course, title="Hoạt động tương tác", blocks=[block])
    net = network()
    student = UserFactory(username="hocsinh", display_name="Lê Thị Ánh")
    MembershipFactory(user=student, library=net.school, role=Role.STUDENT)
    enrol(user=student, course=course)
    page = open_as(browser, live_server, student)
    visit(page, f"{live_server.url}{lesson.url}")
    frame = page.frame_locator(f"#activity-{block['id']} .h5p-player iframe")
    frame.locator(".h5p-true-false-answer").first.wait_for(timeout=20000)
    return page


def desk(browser, live_server):
    net = network()
    librarian = UserFactory(username="thuthu")
    MembershipFactory(user=librarian, library=net.school, role=Role.LIBRARIAN)
    patron = PatronFactory(home_library=net.school, full_name="Phạm Minh Châu")
    item = ItemFactory(library=net.school, record__title="Dế Mèn phiêu lưu ký")
    page = open_as(browser, live_server, librarian)
    visit(page, f"{live_server.url}/desk/")
    panel = page.locator("#desk-panel")
    # The reader's card, then a book lent to them: the panel shows the reader and the loan.
    for code, shown in ((patron.card_number, "Phạm Minh Châu"), (item.barcode, "Dế Mèn")):
        page.keyboard.type(code)
        page.keyboard.press("Enter")
        expect(panel).to_contain_text(shown)
    return page


def with_progress(net):
    """A teacher's class at the school, assigned a course that one of its two students
    completed: (teacher, class)."""
    course, (lesson,) = course_with_quizzes("Em học thư viện số", lessons=1)
    teacher, class_group, (an, _binh) = class_with_students(
        net.school, "Nguyễn Văn An", "Trần Bình"
    )
    classes.assign(class_group=class_group, course=course, by=teacher)
    answer(an, lesson, RIGHT)
    return teacher, class_group


def class_report(browser, live_server):
    teacher, class_group = with_progress(network())
    page = open_as(browser, live_server, teacher)
    visit(page, f"{live_server.url}/teach/classes/{class_group.pk}/report/")
    return page


def library_dashboard(browser, live_server):
    net = network()
    with_progress(net)
    admin = staff_at(net.school, Role.LIBRARY_ADMIN)
    page = open_as(browser, live_server, admin)
    visit(page, f"{live_server.url}/dashboards/library/{net.school.code}/")
    return page


def network_dashboard(browser, live_server):
    net = network()
    with_progress(net)
    admin = staff_at(net.province, Role.NETWORK_ADMIN)
    page = open_as(browser, live_server, admin)
    visit(page, f"{live_server.url}/dashboards/network/")
    return page


def api_docs(browser, live_server):
    """The API's browsable docs (Swagger UI from our static files), once it drew the
    endpoints."""
    page = open_as(browser, live_server)
    visit(page, f"{live_server.url}/api/v1/docs")
    page.locator(".swagger-ui .opblock").first.wait_for(timeout=20000)
    return page


PAGES = [
    home,
    catalog_search,
    catalog_record,
    h5p_lesson,
    desk,
    class_report,
    library_dashboard,
    network_dashboard,
    api_docs,
]


# The iframe h5p-standalone creates, and the H5P content inside it, are third-party markup we
# do not control: axe checks everything of ours around it (the section, its status and error
# messages) but not the frame (the iframe it creates has no title: axe "frame-title").
CONTEXT = {
    h5p_lesson: {"exclude": [[".h5p-player iframe"]]},
}


# The language each page declares: Vietnamese, except the API docs, which are in English
# (Swagger UI and the API's descriptions), whatever the visitor's language.
LANGUAGE = {api_docs: "en"}


def blocking(results):
    return [v for v in results.response["violations"] if v["impact"] in BLOCKING]


def describe(found):
    return "\n".join(
        f"{width}px: {v['id']} ({v['impact']}): {v['help']} -> {[n['target'] for n in v['nodes']]}"
        for width, violations in found.items()
        for v in violations
    )


@pytest.mark.parametrize("open_page", PAGES, ids=[p.__name__ for p in PAGES])
def test_no_serious_or_critical_violation(browser, live_server, open_page):
    page = open_page(browser, live_server)
    assert "script-src" in page.request.get(page.url).headers["content-security-policy"]
    assert page.evaluate("document.documentElement.lang") == LANGUAGE.get(open_page, "vi")
    found = {}
    # A desktop, then a phone: on a narrow screen wide tables scroll, and must take the focus.
    for width, height in WIDTHS:
        page.set_viewport_size({"width": width, "height": height})
        found[width] = blocking(AXE.run(page, context=CONTEXT.get(open_page)))
    assert found == {width: [] for width, _height in WIDTHS}, describe(found)
