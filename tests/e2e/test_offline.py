"""The installable app in Debian's Chromium: the service worker keeps a saved lesson, an H5P
activity answered offline is queued and stored once the connection returns (once, however
often it is replayed), visited catalog pages open offline, admin pages are never kept, and
logging out clears what the account saw."""

import json

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from courses.h5p.storage import OPERATOR, install_package
from courses.h5p.validation import validate_package
from courses.models import LessonProgress, XAPIStatement
from courses.training.activities import activity_iri
from courses.training.progress import enrol
from tests.courses.h5p.support import fixture
from tests.courses.training.factories import (
    h5p_block,
    home,
    make_course,
    make_lesson,
    text_block,
)
from tests.e2e.steps import page_as
from tests.factories import UserFactory
from tests.libraries.catalog.factories import ItemFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CONTROLLED = "() => navigator.serviceWorker.controller !== null"
# The worker is active and has heard from the page (static/pwa/pwa.js).
STARTED = "() => !window.KnowledgeBridgePWA || window.KnowledgeBridgePWA.started.then(() => true)"
ANSWERED = "http://adlnet.gov/expapi/verbs/answered"

# Every URL in every cache of the origin, by cache name.
CACHED_URLS = """async () => {
  const found = {};
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    found[name] = (await cache.keys()).map((request) => new URL(request.url).pathname);
  }
  return found;
}"""

# The requests the worker queued (workbox-background-sync's IndexedDB store).
QUEUED_BODIES = """async () => {
  const db = await new Promise((resolve, reject) => {
    const open = indexedDB.open("workbox-background-sync");
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  });
  const entries = await new Promise((resolve, reject) => {
    const read = db.transaction("requests").objectStore("requests").getAll();
    read.onsuccess = () => resolve(read.result);
    read.onerror = () => reject(read.error);
  });
  db.close();
  return entries.map((entry) => new TextDecoder().decode(entry.requestData.body));
}"""


# Keep a copy of the queue's entries in the page, then put them back after it was sent.
KEEP_QUEUE = """async () => {
  const db = await new Promise((resolve) => {
    const open = indexedDB.open("workbox-background-sync");
    open.onsuccess = () => resolve(open.result);
  });
  window.keptQueue = await new Promise((resolve) => {
    const read = db.transaction("requests").objectStore("requests").getAll();
    read.onsuccess = () => resolve(read.result);
  });
  db.close();
}"""
REQUEUE = """async () => {
  const db = await new Promise((resolve) => {
    const open = indexedDB.open("workbox-background-sync");
    open.onsuccess = () => resolve(open.result);
  });
  const write = db.transaction("requests", "readwrite");
  for (const entry of window.keptQueue) {
    const copy = Object.assign({}, entry);
    delete copy.id;
    write.objectStore("requests").add(copy);
  }
  await new Promise((resolve) => { write.oncomplete = resolve; });
  db.close();
}"""


def controlled(page, live_server, path):
    """Open `path` under the service worker: installed from the home page, active, controlling
    the page. (One page at a time: the live server's SQLite refuses writes that overlap.)"""
    page.goto(f"{live_server.url}/")
    page.evaluate(STARTED)
    page.goto(f"{live_server.url}{path}")
    page.wait_for_function(CONTROLLED, timeout=10000)
    page.evaluate(STARTED)


def ids_of(user) -> set[str]:
    return {
        str(i)
        for i in XAPIStatement.objects.filter(user=user).values_list("statement_id", flat=True)
    }


def cached(page) -> dict[str, list[str]]:
    return page.evaluate(CACHED_URLS)


def wait_until(page, check, *, tries=80):
    for _ in range(tries):
        value = check()
        if value:
            return value
        page.wait_for_timeout(250)
    return check()


@pytest.fixture
def lesson_with_h5p(db):
    package = install_package(
        validate_package(fixture("truefalse")), title="Đúng hay sai", by=OPERATOR
    )
    course = make_course(title="Học khi không có mạng")
    block = h5p_block(package=package)
    lesson = make_lesson(
        course,
        title="Bài học ngoại tuyến",
        blocks=[text_block("<p>Đọc kỹ rồi trả lời.</p>"), block],
    )
    return course, lesson, block, package


def test_a_lesson_saved_offline_is_answered_offline_and_stored_once_online(
    live_server, browser, lesson_with_h5p
):
    course, lesson, block, package = lesson_with_h5p
    student = UserFactory(username="hocsinh_offline")
    enrol(user=student, course=course)
    page = page_as(browser, live_server, student, viewport=(360, 800))
    context = page.context

    posted = []
    page.on(
        "response",
        lambda response: response.url.endswith("/api/xapi/statements") and posted.append(response),
    )
    controlled(page, live_server, lesson.url)
    # Online, the player reports the first attempt: stored before anything else happens.
    assert wait_until(page, lambda: posted)
    page.wait_for_function("() => window.KnowledgeBridgeH5P.queue.length === 0", timeout=20000)
    assert [response.status for response in posted] == [200]
    before = ids_of(student)
    assert len(before) == 1
    widget = page.locator("[data-offline-lesson]")
    widget.locator("[data-offline-save]").click()
    page.wait_for_selector("[data-offline-lesson][data-saved=true]", timeout=30000)
    assert widget.locator("[data-offline-state]").inner_text() == "Đã lưu để học ngoại tuyến"
    saved = cached(page)["kb-offline-v1"]
    assert lesson.url in saved
    assert f"/pwa-state/lesson/{lesson.pk}" in saved
    content = f"/media/{package.content_path}"
    assert f"{content}/h5p.json" in saved
    assert f"{content}/content/content.json" in saved
    assert "/media/h5p/libraries/H5P.TrueFalse-1.6/library.json" in saved

    failed = []
    page.on("requestfailed", lambda request: failed.append(request.url))
    context.set_offline(True)
    page.reload()
    assert page.evaluate("navigator.onLine") is False
    page.evaluate("window.addEventListener('online', () => { window.cameOnline = true; })")
    assert page.locator("h1").inner_text() == "Bài học ngoại tuyến"
    frame = page.frame_locator(f"#activity-{block['id']} .h5p-player iframe")
    # The fixture's right answer is "False".
    frame.locator(".h5p-true-false-answer", has_text="False").wait_for(timeout=20000)
    frame.locator(".h5p-true-false-answer", has_text="False").click()
    frame.locator(".h5p-question-check-answer").click()
    status = page.locator("[data-pwa-status]")
    status.get_by_text("câu trả lời của bạn đã được lưu trên thiết bị này").wait_for(timeout=20000)
    page.wait_for_function("() => window.KnowledgeBridgeH5P.queue.length === 0", timeout=20000)
    queued = [json.loads(body) for body in page.evaluate(QUEUED_BODIES)]
    page.evaluate(KEEP_QUEUE)
    sent = [statement for batch in queued for statement in batch]
    assert sent and all(statement["id"] for statement in sent)
    page.wait_for_timeout(1000)
    assert ids_of(student) == before

    # Every file the activity needed came from the worker's caches.
    assert failed == []

    answers = []
    context.on(
        "response",
        lambda response: (
            response.url.endswith("/api/xapi/statements")
            and response.request.service_worker is not None
            and answers.append(response.status)
        ),
    )
    context.set_offline(False)
    # The page hears the connection return and asks the worker to send its queue.
    page.wait_for_function("() => window.cameOnline === true", timeout=10000)
    status.get_by_text("đã được gửi").wait_for(timeout=20000)
    assert wait_until(page, lambda: len(answers) == len(queued))
    assert answers == [200] * len(queued)
    assert page.evaluate(QUEUED_BODIES) == []
    assert ids_of(student) == before | {statement["id"] for statement in sent}
    assert LessonProgress.objects.get(user=student, lesson=lesson).completed_at is not None
    iri = activity_iri(live_server.url, lesson, block["id"])
    answered = XAPIStatement.objects.get(user=student, verb=ANSWERED)
    assert (answered.object_id, answered.success) == (iri, True)

    # The worker's queue again as it was offline (a replay whose answer was lost on the way):
    # the statements are sent a second time, answered 200 and stored once.
    answers.clear()
    page.evaluate(REQUEUE)
    assert len(page.evaluate(QUEUED_BODIES)) == len(queued)
    page.evaluate("() => navigator.serviceWorker.controller.postMessage({type: 'replay'})")
    assert wait_until(page, lambda: len(answers) == len(queued))
    assert answers == [200] * len(queued)
    assert page.evaluate(QUEUED_BODIES) == []
    assert ids_of(student) == before | {statement["id"] for statement in sent}
    progress = LessonProgress.objects.get(user=student, lesson=lesson)
    assert progress.completed_at is not None

    # Offline, a page never kept shows the offline page, which lists the lessons saved.
    context.set_offline(True)
    page.goto(f"{live_server.url}/my/learning/")
    assert page.locator("h1").inner_text() == "Không có kết nối"
    saved_link = page.locator("[data-offline-lessons] a")
    saved_link.wait_for(timeout=5000)
    assert saved_link.inner_text() == "Bài học ngoại tuyến"
    assert saved_link.get_attribute("href") == f"{live_server.url}{lesson.url}"


def test_catalog_pages_visited_open_offline_and_others_show_the_offline_page(live_server, browser):
    seen, unseen = ItemFactory(record__title="Dế Mèn phiêu lưu ký"), ItemFactory()
    page = page_as(browser, live_server)
    # The first page is seen before the worker controls the tab: it is kept all the same.
    page.goto(f"{live_server.url}/catalog/")
    page.evaluate(STARTED)
    record = reverse("libraries:record_detail", args=[seen.record.pk])
    page.goto(f"{live_server.url}{record}")
    page.wait_for_function(CONTROLLED, timeout=10000)
    assert wait_until(page, lambda: {"/catalog/", record} <= set(cached(page)["kb-pages-v1"]))

    page.context.set_offline(True)
    page.goto(f"{live_server.url}{record}")
    assert page.locator("h1").inner_text() == "Dế Mèn phiêu lưu ký"
    page.goto(f"{live_server.url}/catalog/")
    assert page.locator("form[action='/catalog/']").count() == 1
    page.goto(f"{live_server.url}{reverse('libraries:record_detail', args=[unseen.record.pk])}")
    assert page.locator("h1").inner_text() == "Không có kết nối"
    assert page.locator("section[lang=en] h2").inner_text() == "No connection"


def test_admin_pages_are_never_kept(live_server, browser):
    home()
    admin = UserFactory(username="quantri_pwa", is_superuser=True, is_staff=True)
    page = page_as(browser, live_server, admin)
    controlled(page, live_server, "/admin/")
    assert page.locator("body.wagtail-dashboard, #wagtail").count() >= 1
    page.goto(f"{live_server.url}/admin/pages/")
    page.goto(f"{live_server.url}/catalog/")
    assert wait_until(page, lambda: "/catalog/" in cached(page).get("kb-pages-v1", []))
    everything = [path for paths in cached(page).values() for path in paths]
    assert [path for path in everything if path.startswith("/admin/")] == []
    assert [path for path in everything if path.startswith("/static/wagtail")] == []

    page.context.set_offline(True)
    page.goto(f"{live_server.url}/admin/")
    assert page.locator("h1").inner_text() == "Không có kết nối"
    assert page.locator("#wagtail").count() == 0


def test_logging_out_or_another_account_clears_what_the_account_saw(live_server, browser):
    course = make_course(title="Đọc hiểu")
    lesson = make_lesson(course, title="Bài đọc ngoại tuyến")
    first, second = UserFactory(username="hocsinh_mot"), UserFactory(username="hocsinh_hai")
    page = page_as(browser, live_server, first)

    def save_lesson_and_visit_catalog():
        controlled(page, live_server, lesson.url)
        page.locator("[data-offline-save]").click()
        page.wait_for_selector("[data-offline-lesson][data-saved=true]", timeout=30000)
        page.goto(f"{live_server.url}/catalog/")
        assert wait_until(page, lambda: "/catalog/" in cached(page).get("kb-pages-v1", []))
        assert lesson.url in cached(page)["kb-offline-v1"]

    save_lesson_and_visit_catalog()
    page.click("form[action='/accounts/logout/'] button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    assert wait_until(page, lambda: "kb-offline-v1" not in cached(page))
    assert "/catalog/" not in cached(page).get("kb-pages-v1", [])
    page.context.set_offline(True)
    page.goto(f"{live_server.url}{lesson.url}")
    assert page.locator("h1").inner_text() == "Không có kết nối"
    page.context.set_offline(False)

    # Another account on the same browser, without logging out (a session ended, someone
    # else logged in): the first one's pages and lessons go as the new account's page loads.
    page.context.clear_cookies()
    page.close()
    page = page_as(browser, live_server, first)
    save_lesson_and_visit_catalog()
    host = live_server.url.split("//")[1].split(":")[0]
    client = Client()
    client.force_login(second)
    page.context.clear_cookies()
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "domain": host,
                "path": "/",
            }
        ]
    )
    page.goto(f"{live_server.url}/")
    assert wait_until(page, lambda: "kb-offline-v1" not in cached(page))
    assert "/catalog/" not in cached(page).get("kb-pages-v1", [])
