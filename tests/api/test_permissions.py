"""The API's permission matrix, like the pages': every endpoint, every kind of caller (by the
session token the mobile app sends), the exact status and the shape of the body."""

import json
import uuid

import pytest
from wagtail.models import PageViewRestriction

from courses.models import ActivityProgress, LessonProgress, XAPIStatement
from libraries.models import Hold, Loan
from tests.courses.training.factories import activity_iri

pytestmark = pytest.mark.usefixtures("english")

CALLERS = ["anonymous", "reader", "no_card", "student", "librarian"]
ERROR_KEYS = {"error"}


def caller(world, name):
    return None if name == "anonymous" else getattr(world, name)


def assert_error(response, status, code):
    assert response.status_code == status, response.content
    data = response.json()
    assert set(data) == ERROR_KEYS
    assert set(data["error"]) == {"code", "message"}
    assert data["error"]["code"] == code
    assert data["error"]["message"]


@pytest.mark.parametrize("who", CALLERS)
def test_public_endpoints_answer_everyone(client, world, token_client, who):
    headers = token_client(caller(world, who))
    search = client.get("/api/v1/catalog/search", {"q": "truyen kieu"}, **headers)
    assert search.status_code == 200
    assert [r["id"] for r in search.json()["results"]] == [world.record.pk]
    record = client.get(f"/api/v1/catalog/records/{world.record.pk}", **headers)
    assert record.status_code == 200
    assert record.json()["title"] == "Truyện Kiều"
    libraries = client.get("/api/v1/libraries", **headers)
    assert libraries.status_code == 200
    assert [lib["code"] for lib in libraries.json()["results"]] == ["HBT", "THCSA", "THCSB"]


# (who, expected status, expected error code or None for success)
READS = {
    "/api/v1/me": {"anonymous": (401, "not_authenticated")},
    "/api/v1/me/card": {
        "anonymous": (401, "not_authenticated"),
        "no_card": (404, "no_card"),
        "student": (404, "no_card"),
        "librarian": (404, "no_card"),
    },
    "/api/v1/me/loans": {
        "anonymous": (401, "not_authenticated"),
        "no_card": (404, "no_card"),
        "student": (404, "no_card"),
        "librarian": (404, "no_card"),
    },
    "/api/v1/me/holds": {
        "anonymous": (401, "not_authenticated"),
        "no_card": (404, "no_card"),
        "student": (404, "no_card"),
        "librarian": (404, "no_card"),
    },
}


@pytest.mark.parametrize("who", CALLERS)
@pytest.mark.parametrize("url", sorted(READS))
def test_reader_reads(client, world, token_client, who, url):
    response = client.get(url, **token_client(caller(world, who)))
    refusal = READS[url].get(who)
    if refusal:
        assert_error(response, *refusal)
        return
    assert response.status_code == 200
    data = response.json()
    if url == "/api/v1/me":
        assert data["username"] == caller(world, who).username
        assert data["has_card"] is (who == "reader")
    elif url == "/api/v1/me/card":
        assert data["card_number"] == "A000001"
        assert data["barcode_svg"].startswith("<?xml")
        assert "<svg" in data["barcode_svg"]
    elif url == "/api/v1/me/loans":
        # Only the caller's own loans: never the other reader's at school B.
        assert [loan["id"] for loan in data] == [world.loan.pk]
    else:
        assert data == []


@pytest.mark.parametrize("who", CALLERS)
def test_renew(client, world, token_client, who):
    headers = token_client(caller(world, who))
    before = Loan.objects.get(pk=world.loan.pk)
    response = client.post(f"/api/v1/me/loans/{world.loan.pk}/renew", **headers)
    after = Loan.objects.get(pk=world.loan.pk)
    if who == "reader":
        assert response.status_code == 200
        assert response.json()["loan"]["renewals_count"] == 1
        assert after.renewals_count == before.renewals_count + 1
        return
    if who == "anonymous":
        assert_error(response, 401, "not_authenticated")
    else:
        assert_error(response, 404, "not_found")
    assert (after.due_at, after.renewals_count) == (before.due_at, before.renewals_count)


def test_a_reader_cannot_renew_or_see_another_readers_loan(client, world, token_client):
    headers = token_client(world.reader)
    before = Loan.objects.get(pk=world.other_loan.pk)
    response = client.post(f"/api/v1/me/loans/{world.other_loan.pk}/renew", **headers)
    assert_error(response, 404, "not_found")
    after = Loan.objects.get(pk=world.other_loan.pk)
    assert (after.due_at, after.renewals_count) == (before.due_at, before.renewals_count)


@pytest.mark.parametrize("who", CALLERS)
def test_place_hold(client, world, token_client, who):
    headers = token_client(caller(world, who))
    holds_before = Hold.objects.count()
    response = client.post(
        "/api/v1/me/holds",
        {"record_id": world.other_record.pk, "pickup_library": "thcsa"},
        content_type="application/json",
        **headers,
    )
    if who == "reader":
        assert response.status_code == 201
        hold = Hold.objects.get()
        assert (hold.patron, hold.record, hold.pickup_library) == (
            world.patron,
            world.other_record,
            world.a,
        )
        assert response.json()["hold"]["id"] == hold.pk
        return
    if who == "anonymous":
        assert_error(response, 401, "not_authenticated")
    else:
        assert_error(response, 404, "no_card")
    assert Hold.objects.count() == holds_before


@pytest.mark.parametrize("who", CALLERS)
def test_cancel_hold(client, world, token_client, who):
    hold = Hold.objects.create(
        record=world.other_record, patron=world.patron, pickup_library=world.a
    )
    response = client.delete(f"/api/v1/me/holds/{hold.pk}", **token_client(caller(world, who)))
    hold.refresh_from_db()
    if who == "reader":
        assert response.status_code == 200
        assert response.json() == {"message": "Hold cancelled."}
        assert hold.status == Hold.Status.CANCELLED
        return
    if who == "anonymous":
        assert_error(response, 401, "not_authenticated")
    else:
        # The librarian of the pickup library may cancel at the desk, never through /me.
        assert_error(response, 404, "not_found")
    assert hold.status == Hold.Status.PENDING


def test_a_refused_renewal_says_why_and_changes_nothing(client, world, token_client):
    headers = token_client(world.reader)
    client.post(f"/api/v1/me/loans/{world.loan.pk}/renew", **headers)
    before = Loan.objects.get(pk=world.loan.pk)
    response = client.post(f"/api/v1/me/loans/{world.loan.pk}/renew", **headers)
    assert_error(response, 409, "no_renewals")
    assert response.json()["error"]["message"] == "No renewals left (1 allowed)."
    after = Loan.objects.get(pk=world.loan.pk)
    assert (after.due_at, after.renewals_count) == (before.due_at, before.renewals_count)


@pytest.mark.parametrize("who", CALLERS)
def test_a_public_lesson(client, world, lessons, token_client, who):
    """Everyone reads it (as on its page); only the enrolled reader's visit is saved."""
    response = client.get(lessons.url(), **token_client(caller(world, who)))
    assert response.status_code == 200
    data = response.json()
    assert (data["id"], data["course"]["id"]) == (lessons.lesson.pk, lessons.course.pk)
    assert [b["type"] for b in data["blocks"]] == [
        "text", "image", "video", "document", "h5p", "quiz"
    ]  # fmt: skip
    assert data["enrolled"] is (who == "reader")
    assert (data["progress"] is not None) is (who == "reader")
    assert sorted(LessonProgress.objects.values_list("user__username", "lesson_id")) == (
        [("bandoc", lessons.lesson.pk)] if who == "reader" else []
    )


@pytest.mark.parametrize("who", CALLERS)
def test_a_lesson_for_logged_in_users(client, world, lessons, token_client, who):
    PageViewRestriction.objects.create(page=lessons.course, restriction_type="login")
    response = client.get(lessons.url(), **token_client(caller(world, who)))
    if who == "anonymous":
        assert_error(response, 401, "not_authenticated")
        return
    assert response.status_code == 200
    assert response.json()["id"] == lessons.lesson.pk


@pytest.mark.parametrize("who", CALLERS)
def test_a_lesson_asked_under_another_course(client, world, lessons, token_client, who):
    response = client.get(lessons.url(lessons.other_lesson), **token_client(caller(world, who)))
    assert_error(response, 404, "not_found")
    assert not LessonProgress.objects.exists()


@pytest.mark.parametrize("who", CALLERS)
def test_xapi_statements_with_a_session_token(client, world, lessons, token_client, who):
    """The xAPI endpoint takes the API's token: stored for the enrolled reader, refused for
    the others (not enrolled; no login at all), with nothing stored. Its answers are an LRS's:
    {"error": reason}."""
    sent = {
        "id": str(uuid.uuid4()),
        "actor": {"objectType": "Agent", "mbox": "mailto:app@example.org"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/answered"},
        "object": {"id": activity_iri(lessons.lesson, lessons.h5p["id"])},
        "result": {"score": {"scaled": 0.5}, "completion": True},
    }
    response = client.post(
        "/api/xapi/statements",
        json.dumps(sent),
        content_type="application/json",
        **token_client(caller(world, who)),
    )
    if who == "reader":
        assert response.status_code == 200
        assert response.json() == [sent["id"]]
        assert XAPIStatement.objects.get().user == world.reader
        return
    if who == "anonymous":
        assert (response.status_code, response.json()) == (403, {"error": "log in first"})
    else:
        assert response.status_code == 400
        assert response.json() == {"error": "you are not enrolled in the course of this lesson"}
    assert not XAPIStatement.objects.exists()
    assert not ActivityProgress.objects.exists()
