"""POST /api/xapi/statements with the mobile app's session token (X-Session-Token, read as the
API reads it): no cookie, so no CSRF; a token that is forged, expired or logged out stores
nothing. The browser's cookie session keeps its CSRF check."""

import json
import uuid
from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from courses.models import ActivityProgress, LessonProgress, XAPIStatement
from courses.training.progress import enrol
from tests.courses.training.factories import (
    activity_iri,
    h5p_block,
    make_course,
    make_lesson,
    quiz_block,
)
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/xapi/statements"
LOGIN_URL = "/_allauth/app/v1/auth/login"
ANSWERED = "http://adlnet.gov/expapi/verbs/answered"


@pytest.fixture
def setup():
    course = make_course()
    h5p, quiz = h5p_block(pass_mark=50), quiz_block()
    lesson = make_lesson(course, blocks=[h5p, quiz])
    learner = UserFactory(username="hocvien")
    EmailAddress.objects.create(user=learner, email=learner.email, verified=True, primary=True)
    enrol(user=learner, course=course)
    return {"lesson": lesson, "h5p": h5p["id"], "quiz": quiz["id"], "learner": learner}


def app_token(username="hocvien") -> str:
    """Log in as the mobile app does (allauth's headless API): the session token."""
    response = Client().post(
        LOGIN_URL, {"username": username, "password": PASSWORD}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    return response.json()["meta"]["session_token"]


def statement(setup, block="h5p", **overrides):
    return {
        "id": str(uuid.uuid4()),
        "actor": {"objectType": "Agent", "mbox": "mailto:someone@example.org"},
        "verb": {"id": ANSWERED},
        "object": {"id": activity_iri(setup["lesson"], setup[block]), "objectType": "Activity"},
        "result": {"score": {"scaled": 0.75}, "completion": True, "success": True},
        **overrides,
    }


def post(client, data, **headers):
    return client.post(URL, json.dumps(data), content_type="application/json", **headers)


def stored():
    """Everything a statement can write."""
    return (
        sorted(XAPIStatement.objects.values_list("statement_id", flat=True)),
        sorted(ActivityProgress.objects.values_list("user_id", "block_id", "attempts")),
        sorted(LessonProgress.objects.values_list("user_id", "attempts", "completed_at")),
    )


def test_statements_sent_with_a_token_are_stored_and_count(setup):
    token = app_token()
    app = Client(enforce_csrf_checks=True)  # no cookie, no CSRF token: none is needed
    sent = statement(setup)
    response = post(app, sent, HTTP_X_SESSION_TOKEN=token)
    assert response.status_code == 200
    assert response.json() == [sent["id"]]
    row = XAPIStatement.objects.get()
    assert (str(row.statement_id), row.user, row.lesson) == (
        sent["id"],
        setup["learner"],
        setup["lesson"],
    )
    activity = ActivityProgress.objects.get(user=setup["learner"], block_id=setup["h5p"])
    assert (activity.attempts, activity.best_score, activity.completed) == (1, 0.75, True)
    progress = LessonProgress.objects.get(user=setup["learner"], lesson=setup["lesson"])
    assert (progress.attempted, progress.attempts, progress.best_score) == (True, 1, 0.75)


def test_the_token_decides_who_learns_not_a_cookie_beside_it(setup):
    """A browser logged in as someone else that also sends the learner's token: the statement
    is the token's account's."""
    other = UserFactory(username="nguoikhac")
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(other)
    response = post(browser, statement(setup), HTTP_X_SESSION_TOKEN=app_token())
    assert response.status_code == 200
    assert XAPIStatement.objects.get().user == setup["learner"]
    assert not ActivityProgress.objects.filter(user=other).exists()


def _logged_out(token):
    Client().delete("/_allauth/app/v1/auth/session", HTTP_X_SESSION_TOKEN=token)
    return token


def _expired(token):
    Session.objects.filter(session_key=token).update(
        expire_date=timezone.now() - timedelta(minutes=1)
    )
    return token


def _deactivated(token):
    get_user_model().objects.filter(username="hocvien").update(is_active=False)
    return token


TOKENS = {
    "forged": lambda token: "k" * len(token),
    "empty": lambda token: "",
    "logged out": _logged_out,
    "expired": _expired,
    "account deactivated": _deactivated,
}


@pytest.mark.parametrize("case", sorted(TOKENS))
def test_a_token_that_is_not_valid_is_401_and_stores_nothing(setup, case):
    token = TOKENS[case](app_token())
    before = stored()
    response = post(Client(), statement(setup), HTTP_X_SESSION_TOKEN=token)
    assert response.status_code == 401
    assert response.json() == {"error": "invalid or expired session token: log in again"}
    assert stored() == before


def test_a_bad_token_is_not_rescued_by_a_cookie(setup):
    """A request that sends a token is judged by the token alone."""
    browser = Client()
    browser.force_login(setup["learner"])
    before = stored()
    response = post(browser, statement(setup), HTTP_X_SESSION_TOKEN="gia-mao")
    assert response.status_code == 401
    assert stored() == before


def test_the_cookie_session_still_needs_the_csrf_token(setup):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(setup["learner"])
    before = stored()
    refused = post(browser, statement(setup))
    assert refused.status_code == 403
    assert b"CSRF" in refused.content
    assert stored() == before
    # With the page's CSRF token (cookie and header, as h5p-player.js sends it): stored.
    browser.get(setup["lesson"].url)
    csrf = browser.cookies["csrftoken"].value
    accepted = post(browser, statement(setup), HTTP_X_CSRFTOKEN=csrf)
    assert accepted.status_code == 200
    assert XAPIStatement.objects.get().user == setup["learner"]


def test_no_login_at_all_is_still_refused(setup):
    before = stored()
    response = post(Client(enforce_csrf_checks=True), statement(setup))
    assert response.status_code == 403
    assert stored() == before


def test_a_token_does_not_let_the_app_grade_a_native_quiz(setup):
    """Native quizzes are graded by the site, whoever sends the statement."""
    before = stored()
    forged = statement(setup, block="quiz", verb={"id": "http://adlnet.gov/expapi/verbs/passed"})
    response = post(Client(), forged, HTTP_X_SESSION_TOKEN=app_token())
    assert response.status_code == 400
    assert "graded by the site" in response.json()["error"]
    assert stored() == before
