"""GET /api/v1/courses/{course_id}/lessons/{lesson_id}: the lesson's blocks as JSON, for whom
the lesson page shows it (courses/training/lessons.py), opened as the page opens it."""

import json
import uuid

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from wagtail.models import PageViewRestriction

from courses.models import ActivityProgress, Enrollment, LessonProgress, XAPIStatement
from courses.training.progress import enrol
from tests.api.conftest import login_token, verified
from tests.courses.training.factories import make_lesson
from tests.factories import UserFactory

pytestmark = pytest.mark.usefixtures("english")

ANSWERED = "http://adlnet.gov/expapi/verbs/answered"


def progress_rows():
    return sorted(
        LessonProgress.objects.values_list(
            "user_id", "lesson_id", "viewed_at", "completed_at", "attempts"
        )
    )


def test_a_lesson_with_each_kind_of_block(client, world, lessons, token_client):
    response = client.get(lessons.url(), **token_client(world.reader))
    assert response.status_code == 200
    data = response.json()
    progress = LessonProgress.objects.get(user=world.reader, lesson=lessons.lesson)
    page = f"http://testserver{lessons.lesson.url}"
    activity = f"http://testserver/courses/activity/{lessons.lesson.pk}"
    assert {k: v for k, v in data.items() if k != "blocks"} == {
        "id": lessons.lesson.pk,
        "title": "Bài 2",
        "intro": "Mọi loại khối",
        "estimated_minutes": 10,
        "url": page,
        "course": {"id": lessons.course.pk, "title": "Em học thư viện số"},
        "position": 2,
        "lesson_count": 3,
        "previous_lesson_id": lessons.first.pk,
        "next_lesson_id": lessons.last.pk,
        "enrolled": True,
        "progress": {
            "viewed_at": data["progress"]["viewed_at"],
            "completed_at": None,
            "attempts": 0,
            "best_score": None,
            "passed": False,
        },
    }
    viewed_at = parse_datetime(data["progress"]["viewed_at"])
    assert abs((viewed_at - progress.viewed_at).total_seconds()) < 0.001  # JSON keeps ms
    text, image, video, document, h5p, quiz = data["blocks"]
    # Cleaned by training_site/sanitize.py (no script, no handler), every link absolute.
    assert text == {
        "type": "text",
        "id": lessons.text["id"],
        "html": f'<p>Xem <a href="http://testserver{lessons.course.url}">khoá học</a>, '
        f'<a href="http://testserver/documents/{lessons.document.pk}/mau.marc.xml">tài liệu</a>, '
        '<a href="http://testserver/catalog/?q=truyen&amp;available=on">mục lục</a> và '
        '<a href="https://vi.wikipedia.org/wiki/Th%C6%B0_vi%E1%BB%87n" title="a &quot;b&gt;">'
        "Wikipedia</a>.</p><hr>alert(1)<p>Hết.</p>",
    }
    assert image == {
        "type": "image",
        "id": image["id"],
        "url": "http://testserver/media/images/earth.original.jpg",
        "width": 300,
        "height": 300,
        "alt": "Quả địa cầu",
    }
    assert video == {
        "type": "video",
        "id": video["id"],
        "url": "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
    }
    assert document == {
        "type": "document",
        "id": document["id"],
        "title": "Tải hồ sơ mẫu",
        "url": f"http://testserver/documents/{lessons.document.pk}/mau.marc.xml",
        "file_extension": "xml",
    }
    assert h5p == {
        "type": "h5p",
        "id": lessons.h5p["id"],
        "title": "Đúng hay sai",
        "required": True,
        "pass_mark": 50,
        "player_url": f"{activity}/{lessons.h5p['id']}",
        "xapi_activity_id": f"{activity}/{lessons.h5p['id']}",
        "question_count": None,
        "progress": None,
    }
    assert quiz == {
        "type": "quiz",
        "id": lessons.quiz["id"],
        "title": "Kiểm tra nhanh",
        "required": False,
        "pass_mark": None,
        "player_url": f"{activity}/{lessons.quiz['id']}",
        "xapi_activity_id": None,
        "question_count": 2,
        "progress": None,
    }
    # The quiz is graded by the site: its answers never leave it.
    assert "Hà Nội" not in response.content.decode()
    # The files behind the addresses are served.
    assert client.get(image["url"]).status_code == 200
    assert client.get(document["url"]).status_code == 200


def test_the_player_page_is_the_activity_on_the_lesson_page(client, world, lessons, token_client):
    data = client.get(lessons.url(), **token_client(world.reader)).json()
    h5p = data["blocks"][4]
    response = client.get(h5p["player_url"])
    assert response.status_code == 302
    assert response["Location"] == f"{lessons.lesson.url}#activity-{h5p['id']}"


def test_opening_it_through_the_api_is_a_visit_as_on_the_page(client, world, lessons):
    """The same lesson (no activities: complete once viewed), opened by one learner through
    the API and by another through the page, leaves the same progress."""
    on_page = UserFactory(username="tren_trang")
    enrol(user=on_page, course=lessons.course)
    token = login_token(client, world.reader.username)
    assert client.get(lessons.url(lessons.first), HTTP_X_SESSION_TOKEN=token).status_code == 200
    browser = Client()
    browser.force_login(on_page)
    assert browser.get(lessons.first.url).status_code == 200

    def state(user):
        progress = LessonProgress.objects.get(user=user, lesson=lessons.first)
        enrollment = Enrollment.objects.get(user=user, course=lessons.course)
        return (
            progress.viewed,
            progress.completed,
            enrollment.lessons_completed,
            enrollment.last_lesson_id,
            enrollment.last_activity_at is not None,
        )

    assert state(world.reader) == state(on_page) == (True, True, 1, lessons.first.pk, True)


@pytest.mark.parametrize("who", ["anonymous", "student"])
def test_a_caller_not_enrolled_reads_it_and_nothing_is_saved(
    client, world, lessons, token_client, who
):
    before = progress_rows()
    response = client.get(lessons.url(), **token_client(getattr(world, who, None)))
    assert response.status_code == 200
    data = response.json()
    assert (data["enrolled"], data["progress"]) == (False, None)
    assert [b["progress"] for b in data["blocks"] if b["type"] in ("h5p", "quiz")] == [None, None]
    assert progress_rows() == before


def test_an_app_plays_an_activity_and_sees_its_progress(client, world, lessons):
    """The app reads the lesson, sends the H5P activity's statement with its token, and reads
    the learner's result on the next visit."""
    token = login_token(client, world.reader.username)
    lesson = client.get(lessons.url(), HTTP_X_SESSION_TOKEN=token).json()
    h5p = lesson["blocks"][4]
    statement = {
        "id": str(uuid.uuid4()),
        "actor": {"objectType": "Agent", "mbox": "mailto:app@example.org"},
        "verb": {"id": ANSWERED},
        "object": {"id": h5p["xapi_activity_id"], "objectType": "Activity"},
        "result": {"score": {"scaled": 0.75}, "completion": True, "success": True},
    }
    sent = client.post(
        "/api/xapi/statements",
        json.dumps(statement),
        content_type="application/json",
        HTTP_X_SESSION_TOKEN=token,
    )
    assert sent.status_code == 200
    assert sent.json() == [statement["id"]]
    again = client.get(lessons.url(), HTTP_X_SESSION_TOKEN=token).json()
    assert again["blocks"][4]["progress"] == {
        "attempts": 1,
        "last_score": 0.75,
        "best_score": 0.75,
        "completed": True,
        "passed": True,
    }
    # The optional quiz is not needed: the lesson is complete, with the activity's score.
    assert again["progress"]["completed_at"] is not None
    assert (again["progress"]["best_score"], again["progress"]["passed"]) == (0.75, True)
    assert ActivityProgress.objects.filter(user=world.reader).count() == 1


def _unpublished(lessons):
    lessons.last.unpublish()
    return lessons.url(lessons.last)


NOT_FOUND = {
    "lesson of another course": lambda lessons: lessons.url(lessons.other_lesson),
    "course of another lesson": lambda lessons: lessons.url(course=lessons.other_course),
    "unknown lesson": lambda lessons: f"/api/v1/courses/{lessons.course.pk}/lessons/999999",
    "a lesson as the course": lambda lessons: lessons.url(course=lessons.first),
    "unpublished lesson": _unpublished,
}


@pytest.mark.parametrize("case", sorted(NOT_FOUND))
def test_a_lesson_not_in_that_course_or_not_published_is_404(
    client, world, lessons, token_client, case
):
    url = NOT_FOUND[case](lessons)
    enrol(user=world.reader, course=lessons.other_course)
    before = progress_rows()
    response = client.get(url, **token_client(world.reader))
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "Not found."}}
    assert progress_rows() == before


def restrict(course, kind, group=None):
    restriction = PageViewRestriction.objects.create(
        page=course, restriction_type=kind, password="mat-khau-lop" if kind == "password" else ""
    )
    if group is not None:
        restriction.groups.set([group])
    return restriction


def page_shows(browser, lesson) -> bool:
    response = browser.get(lesson.url)
    return response.status_code == 200 and lesson.intro in response.content.decode()


# (privacy of the course, caller) -> the API's answer; the page shows the lesson exactly when
# the API answers 200.
PRIVACY = {
    ("login", "anonymous"): (401, "not_authenticated"),
    ("login", "reader"): (200, None),
    ("groups", "anonymous"): (401, "not_authenticated"),
    ("groups", "reader"): (403, "forbidden"),
    ("groups", "member"): (200, None),
    ("password", "anonymous"): (403, "password_required"),
    ("password", "reader"): (403, "password_required"),
}


@pytest.mark.parametrize(("kind", "who"), sorted(PRIVACY))
def test_a_private_lesson_answers_as_its_page_does(client, world, lessons, token_client, kind, who):
    group = Group.objects.create(name="Lớp 6A")
    member = verified(UserFactory(username="thanh_vien"))
    member.groups.add(group)
    enrol(user=member, course=lessons.course)
    restrict(lessons.course, kind, group)
    user = {"anonymous": None, "reader": world.reader, "member": member}[who]
    headers = token_client(user)
    before = progress_rows()
    response = client.get(lessons.url(), **headers)
    status, code = PRIVACY[kind, who]
    assert response.status_code == status
    if code:
        assert response.json()["error"]["code"] == code
        assert progress_rows() == before
    else:
        assert LessonProgress.objects.get(user=user, lesson=lessons.lesson).viewed
    browser = Client()
    if user is not None:
        browser.force_login(user)
    assert page_shows(browser, lessons.lesson) is (status == 200)


def test_a_password_typed_on_the_site_opens_the_lesson_for_that_browser(client, world, lessons):
    restriction = restrict(lessons.course, "password")
    browser = Client()
    browser.cookies["django_language"] = "en"
    browser.force_login(world.reader)
    assert browser.get(lessons.url()).status_code == 403
    typed = browser.post(
        reverse("wagtailcore_authenticate_with_password", args=[restriction.pk, lessons.lesson.pk]),
        {"password": "mat-khau-lop", "return_url": lessons.lesson.url},
    )
    assert typed.status_code == 302
    assert page_shows(browser, lessons.lesson)
    assert browser.get(lessons.url()).status_code == 200
    # The app's token carries no browser session: still refused.
    token = login_token(client, world.reader.username)
    assert client.get(lessons.url(), HTTP_X_SESSION_TOKEN=token).status_code == 403


def test_an_expired_token_is_401_even_for_a_public_lesson(client, world, lessons):
    token = login_token(client, world.reader.username)
    client.delete("/_allauth/app/v1/auth/session", HTTP_X_SESSION_TOKEN=token)
    before = progress_rows()
    for sent in (token, "gia-mao"):
        response = client.get(lessons.url(), HTTP_X_SESSION_TOKEN=sent)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "not_authenticated"
    assert progress_rows() == before


def test_refusals_are_in_vietnamese_by_default(world, lessons):
    restrict(lessons.course, "password")
    response = Client().get(lessons.url())
    assert response.status_code == 403
    assert response["Content-Language"] == "vi"
    assert response.json()["error"]["message"] == (
        "Bài học này được bảo vệ bằng mật khẩu: hãy mở nó trên trang web."
    )


def test_queries_do_not_grow_with_the_number_of_activities(
    client, world, lessons, token_client, django_assert_max_num_queries
):
    headers = token_client(world.reader)
    blocks = [lessons.h5p | {"id": str(uuid.uuid4())} for _ in range(8)]
    many = make_lesson(lessons.course, title="Bài 4", blocks=blocks)
    for lesson in (lessons.last, many):  # the first visit writes the progress rows
        client.get(lessons.url(lesson), **headers)
    with django_assert_max_num_queries(40) as captured:
        client.get(lessons.url(lessons.last), **headers)
    few = len(captured)
    with django_assert_max_num_queries(few + 4):
        assert client.get(lessons.url(many), **headers).status_code == 200
    assert XAPIStatement.objects.count() == 0
