"""Security headers on every kind of page: Content-Security-Policy without inline script,
nosniff, Referrer-Policy, X-Frame-Options DENY (frame-ancestors saying the same); the H5P
player's and Wagtail admin's exceptions on their pages only; our templates carry no inline
script, style or on*= handler; the production settings pass `check --deploy` silently."""

import base64
import hashlib
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from libraries.models import Role
from tests.courses.training.factories import (
    course_index,
    h5p_block,
    home,
    make_course,
    make_guides,
    make_lesson,
    text_block,
)
from tests.factories import LibraryFactory, UserFactory, member
from tests.libraries.catalog.factories import ItemFactory
from training_site.middleware import H5P_PLAYER_POLICY, with_frame_ancestors

ROOT = Path(__file__).resolve().parents[2]
H5P_SCRIPT_HASH = "'sha256-8CniZYrnO46q7MvZ3m08Wom1HH/ZhyXmm29kBKTV1rk='"


def policy(response) -> dict[str, list[str]]:
    """The response's Content-Security-Policy as {directive: [sources]}."""
    header = response.headers["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        name, *sources = part.split()
        assert name not in directives, f"{name} twice in {header}"
        directives[name] = sources
    return directives


def assert_site_headers(response, *, frame_ancestors="'none'"):
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == (
        "DENY" if frame_ancestors == "'none'" else "SAMEORIGIN"
    )
    csp = policy(response)
    assert csp["default-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'self'"]
    assert csp["form-action"] == ["'self'"]
    assert csp["frame-ancestors"] == [frame_ancestors]
    return csp


def assert_strict(csp):
    """Our own pages: scripts and styles from this site only, nothing evaluated."""
    assert csp["script-src"] == ["'self'"]
    assert csp["style-src"] == ["'self'"]
    assert "style-src-attr" not in csp


@pytest.fixture
def site(db):
    course = make_course(title="Kỹ năng số")
    _, guides = make_guides()
    return {
        "home": home(),
        "courses": course_index(),
        "course": course,
        "text_lesson": make_lesson(course, title="Bài đọc", blocks=[text_block()]),
        "h5p_lesson": make_lesson(course, title="Bài tương tác", blocks=[h5p_block()]),
        "guide": guides[0],
    }


PUBLIC = [
    "/",
    "/catalog/",
    "/khoa-hoc/",
    "/accounts/login/",
    "/accounts/signup/",
    "/accounts/password/reset/",
    "/register-card/",
    "/tham-gia/",
    "/certificates/verify/",
]


@pytest.mark.parametrize("path", PUBLIC)
def test_public_pages_send_the_headers_and_no_inline_script(client, site, path):
    response = client.get(path)
    assert response.status_code == 200
    assert_strict(assert_site_headers(response))


def test_pages_of_the_page_tree_and_records_send_the_headers(client, site):
    item = ItemFactory()
    for url in (
        site["course"].url,
        site["text_lesson"].url,
        site["guide"].url,
        reverse("libraries:record_detail", args=[item.record.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_strict(assert_site_headers(response))


def test_refusals_and_redirects_send_the_headers_too(client, site):
    for url, status in (("/desk/", 302), ("/khong-co-trang-nay/", 404), ("/admin/login/", 302)):
        response = client.get(url)
        assert response.status_code == status, url
        assert_site_headers(response)
    # The admin's login is the site's (allauth), under the site's policy.
    assert client.get("/admin/login/")["Location"].startswith("/accounts/login/")
    assert_strict(policy(client.get("/desk/")))
    assert_strict(policy(client.get("/khong-co-trang-nay/")))


def test_the_desk_sends_the_headers(client, db):
    library = LibraryFactory()
    client.force_login(member(library, Role.LIBRARIAN))
    response = client.get(reverse("libraries:desk"))
    assert response.status_code == 200
    assert_strict(assert_site_headers(response))


def test_a_lesson_that_plays_h5p_gets_only_the_players_exceptions(client, site):
    response = client.get(site["h5p_lesson"].url)
    assert response.status_code == 200
    assert b"data-h5p-player" in response.content
    csp = assert_site_headers(response)
    # No 'unsafe-inline' for scripts: one hashed inline script (H5P's frame bootstrap) and
    # eval (EJS templates of H5P content types); style attributes, never style elements.
    assert csp["script-src"] == ["'self'", H5P_SCRIPT_HASH, "'unsafe-eval'"]
    assert csp["style-src"] == ["'self'"]
    assert csp["style-src-attr"] == ["'unsafe-inline'"]
    assert csp["frame-src"][0] == "'self'"


def test_the_h5p_hash_is_the_players_inline_script():
    """h5p-standalone writes one inline script into each content iframe; the hash allowed is
    that script's, so an upgrade of the player that changes it fails here, not in class."""
    bundle = settings.H5P_PLAYER_DIST / "frame.bundle.js"
    if not bundle.exists():
        pytest.skip("h5p-standalone is not installed (npm ci)")
    scripts = re.findall(r'<script>([^"<]*)<\\/script>', bundle.read_text())
    assert len(scripts) == 1
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
    assert f"'sha256-{digest}'" == H5P_SCRIPT_HASH
    assert H5P_PLAYER_POLICY["script-src"][0] == H5P_SCRIPT_HASH


def test_wagtail_admin_alone_may_run_inline_scripts(client, site):
    admin = UserFactory(is_superuser=True, is_staff=True)
    client.force_login(admin)
    for url in ("/admin/", f"/admin/pages/{site['text_lesson'].pk}/edit/"):
        response = client.get(url)
        assert response.status_code == 200, url
        csp = assert_site_headers(response)
        assert csp["script-src"] == ["'self'", "'unsafe-inline'"]
        assert csp["style-src"] == ["'self'", "'unsafe-inline'"]
        assert csp["connect-src"] == ["'self'", "https://releases.wagtail.org"]
        assert b"gravatar" not in response.content
    # The same user on the site gets the site's policy.
    assert_strict(assert_site_headers(client.get("/")))


def test_wagtail_preview_may_be_framed_by_the_admin_only(client, site):
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    url = f"/admin/pages/{site['text_lesson'].pk}/edit/preview/?in_preview_panel=true"
    response = client.get(url)
    assert response.status_code == 200
    assert_site_headers(response, frame_ancestors="'self'")


def test_frame_ancestors_follow_x_frame_options():
    policy = "default-src 'self'; frame-ancestors 'none'; img-src 'self'"
    assert with_frame_ancestors(policy, "SAMEORIGIN") == (
        "default-src 'self'; img-src 'self'; frame-ancestors 'self'"
    )
    assert with_frame_ancestors(policy, "deny") == (
        "default-src 'self'; img-src 'self'; frame-ancestors 'none'"
    )
    assert with_frame_ancestors(policy, "") == "default-src 'self'; img-src 'self'"


# Our templates: no inline script (a JSON data block is not a script), no <style> element,
# no style="" or on*="" attribute, no javascript: URL.
# JSON data and import maps (data, under the page's nonce) are not code.
INLINE_SCRIPT = re.compile(
    r"<script\b(?![^>]*\bsrc=)(?![^>]*type=\"(?:application/json|importmap)\")[^>]*>"
)
FORBIDDEN = {
    "inline <script>": INLINE_SCRIPT,
    "<style> element": re.compile(r"<style\b", re.I),
    "style attribute": re.compile(r"<[a-z][^>]*\sstyle\s*=", re.I | re.S),
    "on*= handler": re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I | re.S),
    "javascript: URL": re.compile(r"javascript:", re.I),
}


def test_our_templates_carry_no_inline_script_style_or_handler():
    templates = sorted((ROOT / "templates").rglob("*.html"))
    assert len(templates) > 40
    found = [
        f"{path.relative_to(ROOT)}: {what}"
        for path in templates
        for what, pattern in FORBIDDEN.items()
        if pattern.search(path.read_text())
    ]
    assert found == []


def test_the_scan_finds_what_it_forbids():
    for sample in (
        "<script>alert(1)</script>",
        '<select onchange="this.form.submit()">',
        "<style>.x{}</style>",
        '<div\n  style="left: 0">',
        '<a href="javascript:void(0)">',
    ):
        assert any(p.search(sample) for p in FORBIDDEN.values()), sample
    for sample in (
        '<script src="/static/js/site.js" defer></script>',
        '<script id="data" type="application/json">{}</script>',
        '<button data-print type="button">',
        "<p>Online</p>",
    ):
        assert not any(p.search(sample) for p in FORBIDDEN.values()), sample


def deploy_check(**environ) -> subprocess.CompletedProcess:
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "training_site.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "thuvien.example.vn",
        "CSRF_TRUSTED_ORIGINS": "https://thuvien.example.vn",
        "DATABASE_URL": "postgres://kb:secret@127.0.0.1:5432/kb",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        **environ,
    }
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_the_deploy_check_without_a_warning():
    result = deploy_check()
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
    assert "WARNINGS" not in result.stdout + result.stderr


def test_https_settings_come_from_the_environment():
    script = (
        "from django.conf import settings as s; print(s.SECURE_SSL_REDIRECT, "
        "s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_HSTS_PRELOAD, "
        "s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.X_FRAME_OPTIONS)"
    )

    def read(**environ):
        env = {
            "PATH": os.environ["PATH"],
            "DJANGO_SETTINGS_MODULE": "training_site.settings.production",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "DATABASE_URL": "postgres://kb:secret@127.0.0.1:5432/kb",
            **environ,
        }
        command = [sys.executable, "-c", f"import django; django.setup(); {script}"]
        return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)

    assert read().stdout.split() == ["True", "31536000", "True", "True", "True", "True", "DENY"]
    lan = read(
        SECURE_SSL_REDIRECT="0",
        SECURE_HSTS_SECONDS="300",
        SECURE_HSTS_INCLUDE_SUBDOMAINS="0",
        SECURE_HSTS_PRELOAD="0",
    )
    assert lan.stdout.split() == ["False", "300", "False", "False", "True", "True", "DENY"]
    wrong = read(SECURE_HSTS_SECONDS="one year")
    assert wrong.returncode != 0
    assert "SECURE_HSTS_SECONDS must be a whole number of seconds" in wrong.stderr


def test_the_deploy_check_names_what_an_operator_switched_off():
    result = deploy_check(SECURE_SSL_REDIRECT="0", SECURE_HSTS_SECONDS="0")
    assert result.returncode == 1
    assert "security.W004" in result.stderr and "security.W008" in result.stderr
