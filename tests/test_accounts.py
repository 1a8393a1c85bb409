"""Accounts: login by username or email, signup with verification, reset, rate limit, profile."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.urls import reverse

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def reader():
    user = UserFactory(username="bandoc", email="bandoc@example.org")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


def login(client, login_value, password=PASSWORD):
    return client.post(reverse("account_login"), {"login": login_value, "password": password})


def logged_in_user(client):
    return client.get(reverse("profile")).context["user"]


def test_login_by_username(client, reader):
    response = login(client, "bandoc")
    assert response.status_code == 302
    assert logged_in_user(client) == reader


def test_login_by_email(client, reader):
    response = login(client, "BanDoc@Example.org")
    assert response.status_code == 302
    assert logged_in_user(client) == reader


def test_student_without_email_logs_in_by_username(client):
    student = UserFactory(username="hocsinh", email="")
    response = login(client, "hocsinh")
    assert response.status_code == 302
    assert logged_in_user(client) == student


def test_wrong_password_is_refused(client, reader):
    response = login(client, "bandoc", "sai-mat-khau")
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_signup_sends_a_verification_email(client, mailoutbox):
    response = client.post(
        reverse("account_signup"),
        {
            "username": "docgia_moi",
            "email": "moi@example.org",
            "password1": "Doc-sach-moi-ngay-1",
            "password2": "Doc-sach-moi-ngay-1",
        },
    )
    assert response.status_code == 302
    user = get_user_model().objects.get(username="docgia_moi")
    address = EmailAddress.objects.get(user=user)
    assert address.email == "moi@example.org"
    assert not address.verified
    assert [m.to for m in mailoutbox] == [["moi@example.org"]]
    link = re.search(r"https?://[^/\s]+(/accounts/confirm-email/\S+/)", mailoutbox[0].body)
    assert link
    # Mandatory verification: no session before the link is followed.
    assert "_auth_user_id" not in client.session
    response = client.post(link.group(1))
    assert response.status_code == 302
    address.refresh_from_db()
    assert address.verified


def test_password_reset_sends_a_link(client, reader, mailoutbox):
    response = client.post(reverse("account_reset_password"), {"email": "bandoc@example.org"})
    assert response.status_code == 302
    assert [m.to for m in mailoutbox] == [["bandoc@example.org"]]
    assert "/accounts/password/reset/key/" in mailoutbox[0].body


def test_login_is_rate_limited_after_five_failures(client, reader):
    for _ in range(5):
        response = login(client, "bandoc", "sai-mat-khau")
        assert response.status_code == 200
    response = login(client, "bandoc")  # the right password, too late
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert "Quá nhiều lần đăng nhập sai" in response.content.decode()


def test_rate_limit_also_holds_for_another_login_form_of_the_same_account(client, reader):
    for _ in range(5):
        login(client, "bandoc", "sai-mat-khau")
    response = login(client, "bandoc@example.org")
    assert "_auth_user_id" not in client.session
    assert response.status_code == 200


def test_password_reset_lifts_the_accounts_lock_but_not_the_addresss_count(
    client, reader, settings, mailoutbox
):
    """The reset link proves the mailbox, so the account opens again; the address's count of
    failures stays, or resetting one's own password would wipe an attacker's ceiling."""
    settings.ACCOUNT_RATE_LIMITS = {
        **settings.ACCOUNT_RATE_LIMITS,
        "login_failed": "5/5m/key,6/5m/ip",
    }
    other = UserFactory(username="hocsinh", email="")
    for _ in range(5):
        login(client, "bandoc", "sai-mat-khau")
    assert "Quá nhiều lần đăng nhập sai" in login(client, "bandoc").content.decode()

    client.post(reverse("account_reset_password"), {"email": "bandoc@example.org"})
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+)", mailoutbox[0].body)
    response = client.get(link.group(1), follow=True)
    form_url = response.redirect_chain[-1][0] if response.redirect_chain else link.group(1)
    new_password = "Sach-hay-moi-2026!"
    response = client.post(form_url, {"password1": new_password, "password2": new_password})
    assert response.status_code == 302

    assert login(client, "bandoc", new_password).status_code == 302  # the lock is lifted
    client.post(reverse("account_logout"))
    # Five of the address's six failures are still counted: one more, then the ceiling.
    response = login(client, "hocsinh", "sai-mat-khau")
    assert "Tên đăng nhập và/hoặc mật khẩu bạn nhập không đúng." in response.content.decode()
    before = get_user_model().objects.get(pk=other.pk).last_login
    response = login(client, "hocsinh")
    assert response.status_code == 200
    assert list(response.context["form"].non_field_errors()) == [
        "Quá nhiều lần đăng nhập sai. Hãy thử lại sau."
    ]
    assert "_auth_user_id" not in client.session
    assert get_user_model().objects.get(pk=other.pk).last_login == before


def test_wagtail_login_is_not_a_way_around_the_rate_limit(client, reader):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/admin/"
    # A POST to the old address logs nobody in.
    response = client.post("/admin/login/", {"username": "bandoc", "password": PASSWORD})
    assert response.status_code in (301, 302, 405)
    assert "_auth_user_id" not in client.session
    response = client.get("/admin/password_reset/")
    assert response.status_code == 302
    assert response["Location"] == reverse("account_reset_password")


def test_admin_sends_anonymous_visitors_to_the_site_login(client):
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/admin/")


def test_profile_needs_login(client):
    response = client.get(reverse("profile"))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_profile_changes_preferred_language(client, reader):
    client.force_login(reader)
    response = client.get(reverse("profile"))
    assert response.status_code == 200
    assert "Hồ sơ của tôi" in response.content.decode()
    response = client.post(
        reverse("profile"),
        {"display_name": "Bạn Đọc", "first_name": "", "last_name": "", "preferred_language": "en"},
    )
    assert response.status_code == 302
    reader.refresh_from_db()
    assert reader.preferred_language == "en"
    assert reader.display_name == "Bạn Đọc"
    html = client.get(reverse("profile")).content.decode()
    assert '<html lang="en">' in html
    assert "My profile" in html


def test_preferred_language_applies_at_next_login(client):
    user = UserFactory(username="english", preferred_language="en")
    client.force_login(user)
    assert '<html lang="en">' in client.get("/").content.decode()


@pytest.mark.parametrize(
    "url",
    [
        "/accounts/login/",
        "/accounts/signup/",
        "/accounts/password/reset/",
        "/accounts/password/reset/done/",
        "/accounts/confirm-email/",
    ],
)
def test_account_pages_use_the_site_layout_in_vietnamese(client, url):
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="vi">' in html
    assert 'class="site-header"' in html
    assert "Cầu nối tri thức số" in html


def test_login_page_labels_every_field_in_vietnamese(client):
    html = client.get("/accounts/login/").content.decode()
    assert '<label for="id_login">' in html
    assert '<label for="id_password">' in html
    assert "Đăng nhập" in html
    assert "Mật khẩu" in html


def test_logout_needs_post(client, reader):
    client.force_login(reader)
    response = client.get(reverse("account_logout"))
    assert response.status_code == 200
    assert "_auth_user_id" in client.session
    response = client.post(reverse("account_logout"))
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    "url", ["/accounts/email/", "/accounts/password/change/", "/accounts/logout/"]
)
def test_account_management_pages_use_the_site_layout(client, reader, url):
    client.force_login(reader)
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="site-header"' in html
    assert '<html lang="vi">' in html
