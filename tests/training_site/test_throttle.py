"""training_site/throttle.py: the public forms' per-address limits read the client address as
the login limits do (X-Forwarded-For only through trusted proxies) and count in the shared
cache, so every worker counts the same sends."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse

from libraries.models import JoinRequest, RegistrationRequest
from tests.factories import LibraryFactory
from tests.shared_cache import new_worker
from training_site.throttle import client_ip

ROOT = Path(__file__).resolve().parents[2]
PROXY = "127.0.0.1"  # nginx, in front of gunicorn
SCHOOL_X = "203.0.113.10"
SCHOOL_Y = "203.0.113.20"
TOO_MANY_JOINS = "Quá nhiều yêu cầu từ kết nối này. Vui lòng thử lại sau."
TOO_MANY_CARDS = "Có quá nhiều đơn gửi từ kết nối này. Vui lòng thử lại sau."


def request_from(remote_addr, forwarded_for=None):
    extra = {"REMOTE_ADDR": remote_addr}
    if forwarded_for is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return RequestFactory().post("/", **extra)


def test_without_a_trusted_proxy_the_address_is_the_connections():
    assert client_ip(request_from(SCHOOL_X, forwarded_for=SCHOOL_Y)) == SCHOOL_X


def test_behind_one_trusted_proxy_the_address_is_the_one_it_appended(settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    assert client_ip(request_from(PROXY, forwarded_for=SCHOOL_X)) == SCHOOL_X
    # What the client wrote before nginx's entry is not believed.
    assert client_ip(request_from(PROXY, forwarded_for=f"{SCHOOL_Y}, {SCHOOL_X}")) == SCHOOL_X
    assert client_ip(request_from(SCHOOL_X)) == SCHOOL_X  # no header: the connection


def test_an_ipv6_client_counts_as_its_64_network():
    """A home IPv6 connection owns a whole /64: one count for all of it, as allauth does."""
    assert client_ip(request_from("2001:db8:1:2:aaaa::1")) == "2001:db8:1:2::"
    assert client_ip(request_from("2001:db8:1:2:bbbb::9")) == "2001:db8:1:2::"


def join_form(parent, n):
    return {
        "school_name": f"Trường Tiểu học số {n}",
        "library_name": "",
        "address": "Xã Hòa Lạc, huyện Hòa Bình",
        "contact_name": "Cô Nguyễn Thị Lan",
        "contact_email": f"lan{n}@example.edu.vn",
        "contact_phone": "0912 345 678",
        "parent": parent.pk,
        "message": "",
        "website": "",
    }


def card_application(library, n):
    return {
        "full_name": f"Nguyễn Văn An {n}",
        "date_of_birth": "1990-04-30",
        "category": "adult",
        "home_library": library.pk,
        "address": "12 Phố Huế, Hà Nội",
        "phone": "0912345678",
        "email": f"an{n}@example.org",
        "consent": "on",
        "website": "",
    }


FORMS = {
    "join": ("libraries:join", join_form, JoinRequest, TOO_MANY_JOINS),
    "card": ("libraries:register_card", card_application, RegistrationRequest, TOO_MANY_CARDS),
}


def use_up_and_refuse(client, form, library, first=0):
    """Five sends go through; the sixth is refused with the message and stores nothing."""
    url_name, data, model, message = FORMS[form]
    url = reverse(url_name)
    for n in range(first, first + 5):
        assert client.post(url, data(library, n)).status_code == 302
    before = model.objects.count()
    refused = client.post(url, data(library, first + 5))
    assert refused.status_code == 429
    assert list(refused.context["form"].non_field_errors()) == [message]
    assert model.objects.count() == before


@pytest.fixture
def district(db):
    return LibraryFactory(code="HBT", name="Thư viện huyện Hòa Bình", kind="district")


@pytest.mark.parametrize("form", ["join", "card"])
def test_behind_a_trusted_proxy_two_schools_are_counted_apart(settings, district, form):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    use_up_and_refuse(Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=SCHOOL_X), form, district)
    url_name, data, model, _ = FORMS[form]
    before = model.objects.count()
    school_y = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=SCHOOL_Y)
    assert school_y.post(reverse(url_name), data(district, 99)).status_code == 302
    assert model.objects.count() == before + 1
    # School X cannot pass itself off as school Y: nginx's entry comes last.
    forged = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"{SCHOOL_Y}, {SCHOOL_X}")
    assert forged.post(reverse(url_name), data(district, 100)).status_code == 429
    assert model.objects.count() == before + 1


@pytest.mark.parametrize("form", ["join", "card"])
def test_without_a_trusted_proxy_a_forged_forwarded_for_is_ignored(district, form):
    url_name, data, model, message = FORMS[form]
    url = reverse(url_name)
    for n in range(5):
        forged = Client(REMOTE_ADDR=SCHOOL_X, HTTP_X_FORWARDED_FOR=f"10.0.0.{n}")
        assert forged.post(url, data(district, n)).status_code == 302
    before = model.objects.count()
    forged = Client(REMOTE_ADDR=SCHOOL_X, HTTP_X_FORWARDED_FOR="10.0.0.99")
    refused = forged.post(url, data(district, 5))
    assert refused.status_code == 429
    assert list(refused.context["form"].non_field_errors()) == [message]
    assert model.objects.count() == before


@pytest.mark.parametrize("form", ["join", "card"])
def test_two_workers_count_one_address_together_in_redis(redis_cache, district, form):
    server, prefix = redis_cache
    url_name, data, model, message = FORMS[form]
    url = reverse(url_name)
    for n in range(5):
        worker = Client(REMOTE_ADDR=SCHOOL_X)
        assert worker.post(url, data(district, n)).status_code == 302
        new_worker()
    assert list(server.scan_iter(match=f"{prefix}:*:kb:*:{SCHOOL_X}")) != []
    before = model.objects.count()
    refused = Client(REMOTE_ADDR=SCHOOL_X).post(url, data(district, 5))
    assert refused.status_code == 429
    assert list(refused.context["form"].non_field_errors()) == [message]
    assert model.objects.count() == before


def load_production(**env) -> subprocess.CompletedProcess:
    environ = {
        k: v for k, v in os.environ.items() if k not in {"ALLAUTH_TRUSTED_PROXY_COUNT", "CACHE_URL"}
    }
    environ.update(
        DJANGO_SETTINGS_MODULE="training_site.settings.production",
        SECRET_KEY="x" * 50,
        DATABASE_URL="postgres://kb@127.0.0.1:5432/kb",
        **env,
    )
    code = "from django.conf import settings; print(settings.ALLAUTH_TRUSTED_PROXY_COUNT)"
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(("value", "count"), [(None, "0"), ("", "0"), ("1", "1"), (" 2 ", "2")])
def test_production_reads_the_trusted_proxy_count(value, count):
    result = load_production(**({} if value is None else {"ALLAUTH_TRUSTED_PROXY_COUNT": value}))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == count


@pytest.mark.parametrize("value", ["yes", "-1", "1.5"])
def test_production_refuses_a_trusted_proxy_count_that_is_not_a_whole_number(value):
    result = load_production(ALLAUTH_TRUSTED_PROXY_COUNT=value)
    assert result.returncode != 0
    assert "ALLAUTH_TRUSTED_PROXY_COUNT must be a whole number" in result.stderr
