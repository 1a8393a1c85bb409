"""Failed logins lock the account that was tried, not the classroom: a school lab (or a whole
school of 1,000 students) shares one public address. The address has a ceiling of its own
against an attacker trying many accounts; the client address is read through the trusted
proxy count; the counts live in the shared cache (Redis), so every worker counts together."""

import pytest
from allauth.core.internal.ratelimit import Rate, get_rates
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from tests.factories import PASSWORD, UserFactory
from tests.shared_cache import new_worker

pytestmark = pytest.mark.django_db

LOCKED = "Quá nhiều lần đăng nhập sai. Hãy thử lại sau."
WRONG = "Tên đăng nhập và/hoặc mật khẩu bạn nhập không đúng."
SCHOOL = "203.0.113.10"  # the school's one public address (NAT)
HOME = "198.51.100.7"
PROXY = "127.0.0.1"  # nginx, in front of gunicorn


def log_in(client, login, password=PASSWORD, **extra):
    return client.post(reverse("account_login"), {"login": login, "password": password}, **extra)


def errors(response) -> list[str]:
    return list(response.context["form"].non_field_errors())


def assert_refused(client, response, message):
    assert response.status_code == 200
    assert errors(response) == [message]
    assert message in response.content.decode()
    assert "_auth_user_id" not in client.session


def assert_logged_in(client, response, user):
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def last_logins(users) -> dict:
    users = get_user_model().objects.filter(pk__in=[u.pk for u in users])
    return dict(users.values_list("pk", "last_login"))


@pytest.fixture
def classroom():
    """Forty students without email, as their teacher creates them."""
    return [UserFactory(username=f"hs6a{n:02d}", email="") for n in range(40)]


@pytest.fixture
def small_ceiling(settings):
    """The per-address ceiling at 12 instead of 1,000, so an attack fits in a test."""
    settings.ACCOUNT_RATE_LIMITS = {
        **settings.ACCOUNT_RATE_LIMITS,
        "login_failed": "5/5m/key,12/5m/ip",
    }


def test_one_student_locking_their_account_does_not_lock_out_the_classroom(classroom):
    student_a, others = classroom[0], classroom[1:]
    computer = Client(REMOTE_ADDR=SCHOOL)
    for _ in range(5):
        assert_refused(computer, log_in(computer, student_a.username, "sai-mat-khau"), WRONG)
    before = last_logins([student_a])

    assert_refused(computer, log_in(computer, student_a.username), LOCKED)  # the right one

    assert last_logins([student_a]) == before
    for student in others:  # every classmate, same address, right password
        desk = Client(REMOTE_ADDR=SCHOOL)
        assert_logged_in(desk, log_in(desk, student.username), student)


def test_a_lab_where_every_student_mistypes_once_still_logs_in(classroom):
    for student in classroom:
        desk = Client(REMOTE_ADDR=SCHOOL)
        assert_refused(desk, log_in(desk, student.username, "sai-mat-khau"), WRONG)
        assert_logged_in(desk, log_in(desk, student.username), student)


def test_the_lock_follows_the_account_to_another_address_and_its_email():
    student = UserFactory(username="hs6a00", email="hs6a00@example.org")
    lab = Client(REMOTE_ADDR=SCHOOL)
    for _ in range(5):
        log_in(lab, student.username, "sai-mat-khau")
    home = Client(REMOTE_ADDR=HOME)
    assert_refused(home, log_in(home, student.username), LOCKED)
    assert_refused(home, log_in(home, "HS6A00@example.org"), LOCKED)


def test_the_limits_are_sized_for_a_school_of_a_thousand_behind_one_address():
    """Five failures per account; the address may fail 1,000 times in five minutes (every
    student of the school mistyping once) and send 2,000 login forms. Per account first, so
    a locked account's retries spend nothing of the address's count."""
    failed = get_rates(app="allauth.account", action="login_failed")
    assert failed == [Rate(5, 300, "key"), Rate(1000, 300, "ip")]
    assert get_rates(app="allauth.account", action="login") == [Rate(2000, 300, "ip")]


def test_an_attacker_rotating_accounts_from_one_address_meets_the_ceiling(small_ceiling):
    victims = [UserFactory(username=f"gv{n}", email="") for n in range(6)]
    attacker = Client(REMOTE_ADDR=HOME)
    for victim in victims[:4]:  # three guesses each: no account reaches its own five
        for _ in range(3):
            assert_refused(attacker, log_in(attacker, victim.username, "doan-mo"), WRONG)
    before = last_logins(victims)

    assert_refused(attacker, log_in(attacker, victims[4].username, "doan-mo"), LOCKED)
    # The ceiling refuses the address, even a right password.
    assert_refused(attacker, log_in(attacker, victims[5].username), LOCKED)

    assert last_logins(victims) == before
    school = Client(REMOTE_ADDR=SCHOOL)  # the accounts themselves are not locked
    assert_logged_in(school, log_in(school, victims[0].username), victims[0])


def test_behind_a_trusted_proxy_each_school_has_its_own_ceiling(settings, small_ceiling):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    victims = [UserFactory(username=f"gv{n}", email="") for n in range(5)]
    student = UserFactory(username="hs_truong_b", email="")
    # nginx appends the address it saw; what the client wrote before it is not believed.
    attacker = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"10.9.9.9, {HOME}")
    for victim in victims[:4]:
        for _ in range(3):
            log_in(attacker, victim.username, "doan-mo")
    assert_refused(attacker, log_in(attacker, victims[4].username), LOCKED)
    forged = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"{SCHOOL}, {HOME}")
    assert_refused(forged, log_in(forged, victims[4].username), LOCKED)

    school = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=SCHOOL)
    assert_logged_in(school, log_in(school, student.username), student)


def test_without_a_trusted_proxy_a_forged_forwarded_for_is_ignored(small_ceiling):
    victims = [UserFactory(username=f"gv{n}", email="") for n in range(5)]
    for n, victim in enumerate(victims[:4]):
        for m in range(3):
            forged = Client(REMOTE_ADDR=HOME, HTTP_X_FORWARDED_FOR=f"10.0.{n}.{m}")
            assert_refused(forged, log_in(forged, victim.username, "doan-mo"), WRONG)
    before = last_logins(victims)
    forged = Client(REMOTE_ADDR=HOME, HTTP_X_FORWARDED_FOR="10.0.9.9")
    assert_refused(forged, log_in(forged, victims[4].username), LOCKED)
    assert last_logins(victims) == before


def test_two_workers_count_one_accounts_failures_together_in_redis(redis_cache, classroom):
    server, prefix = redis_cache
    student_a, student_b = classroom[0], classroom[1]
    worker_1 = Client(REMOTE_ADDR=SCHOOL)
    worker_2 = Client(REMOTE_ADDR=SCHOOL)
    for _ in range(3):
        assert_refused(worker_1, log_in(worker_1, student_a.username, "sai"), WRONG)
    new_worker()
    for _ in range(2):
        assert_refused(worker_2, log_in(worker_2, student_a.username, "sai"), WRONG)
    assert any(b":login_failed:" in key for key in server.scan_iter(match=f"{prefix}:*"))
    new_worker()
    before = last_logins([student_a])

    assert_refused(worker_1, log_in(worker_1, student_a.username), LOCKED)

    assert last_logins([student_a]) == before
    new_worker()
    assert_logged_in(worker_2, log_in(worker_2, student_b.username), student_b)
