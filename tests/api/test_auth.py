"""Logging in through allauth's headless API, the session token, CSRF on the session cookie,
rate limits and the language of messages."""

import pytest
from django.contrib.auth import get_user_model

from api.v1.security import THROTTLES
from libraries.models import Hold, Loan
from tests.api.conftest import LOGIN_URL, login_token
from tests.factories import PASSWORD

pytestmark = pytest.mark.usefixtures("english")


def test_login_gives_a_session_token_for_the_api(client, world):
    token = login_token(client, "bandoc")
    response = client.get("/api/v1/me", HTTP_X_SESSION_TOKEN=token)
    assert response.status_code == 200
    assert response.json()["username"] == "bandoc"


def test_a_wrong_token_is_nobody(client, world):
    response = client.get("/api/v1/me/loans", HTTP_X_SESSION_TOKEN="not-a-token")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_five_wrong_passwords_through_the_app_lock_the_account(client, world):
    for _ in range(5):
        wrong = client.post(
            LOGIN_URL,
            {"username": "bandoc", "password": "sai-mat-khau"},
            content_type="application/json",
        )
        assert wrong.status_code == 400
    locked = client.post(
        LOGIN_URL, {"username": "bandoc", "password": PASSWORD}, content_type="application/json"
    )
    # The right password, now: refused by the per-account lock (training_site/accounts.py).
    assert locked.status_code == 400
    assert [e["code"] for e in locked.json()["errors"]] == ["too_many_login_attempts"]
    assert "session_token" not in locked.json().get("meta", {})
    # Another account behind the same address still logs in (per-account lock first).
    assert login_token(client, "chuacothe")


def test_a_deactivated_account_token_stops_working(client, world):
    token = login_token(client, "bandoc")
    get_user_model().objects.filter(pk=world.reader.pk).update(is_active=False)
    response = client.get("/api/v1/me", HTTP_X_SESSION_TOKEN=token)
    assert response.status_code == 401


def test_logout_ends_the_token(client, world):
    token = login_token(client, "bandoc")
    client.delete("/_allauth/app/v1/auth/session", HTTP_X_SESSION_TOKEN=token)
    assert client.get("/api/v1/me", HTTP_X_SESSION_TOKEN=token).status_code == 401


def test_the_session_cookie_still_needs_csrf_for_writes(world):
    """A page of another site posting with the reader's cookie is refused; the token, which
    no other site can send, needs no CSRF token."""
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.cookies["django_language"] = "en"
    browser.force_login(world.reader)
    before = Loan.objects.get(pk=world.loan.pk)
    response = browser.post(f"/api/v1/me/loans/{world.loan.pk}/renew")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "csrf_failed"
    hold_count = Hold.objects.count()
    response = browser.post(
        "/api/v1/me/holds",
        {"record_id": world.other_record.pk, "pickup_library": "THCSA"},
        content_type="application/json",
    )
    assert response.status_code == 403
    after = Loan.objects.get(pk=world.loan.pk)
    assert (after.due_at, after.renewals_count) == (before.due_at, before.renewals_count)
    assert Hold.objects.count() == hold_count
    # Reading with the cookie works (GET is safe).
    assert browser.get("/api/v1/me/loans").status_code == 200


def test_messages_follow_accept_language(world):
    from django.test import Client

    app = Client()  # no language cookie: the app sends Accept-Language
    vietnamese = app.get("/api/v1/me", HTTP_ACCEPT_LANGUAGE="vi")
    english = app.get("/api/v1/me", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert english.json()["error"]["message"] == (
        "Log in first: send your session token as X-Session-Token."
    )
    assert vietnamese.json()["error"]["message"] == (
        "Hãy đăng nhập trước: gửi mã phiên của bạn trong X-Session-Token."
    )
    assert (vietnamese["Content-Language"], english["Content-Language"]) == ("vi", "en")


def test_messages_default_to_vietnamese(world):
    from django.test import Client

    response = Client().get("/api/v1/me")
    assert response["Content-Language"] == "vi"


def test_per_address_rate_limit(client, world, monkeypatch):
    per_address = THROTTLES[0]
    monkeypatch.setattr(per_address, "num_requests", 3)
    for _ in range(3):
        assert client.get("/api/v1/libraries").status_code == 200
    response = client.get("/api/v1/libraries")
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "rate_limited"
    assert int(response["Retry-After"]) >= 1


def test_per_token_rate_limit(client, world, monkeypatch):
    per_token = THROTTLES[1]
    monkeypatch.setattr(per_token, "num_requests", 2)
    token = login_token(client, "bandoc")
    for _ in range(2):
        assert client.get("/api/v1/me", HTTP_X_SESSION_TOKEN=token).status_code == 200
    assert client.get("/api/v1/me", HTTP_X_SESSION_TOKEN=token).status_code == 429
    # Another reader's token (same address) is still served.
    other = login_token(client, "chuacothe")
    assert client.get("/api/v1/me", HTTP_X_SESSION_TOKEN=other).status_code == 200
