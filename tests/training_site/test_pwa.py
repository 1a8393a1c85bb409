"""The installable app's server side (training_site/pwa.py): the manifest every page links,
the service worker served from the root with its settings, the offline page, and the mark
that tells the worker whose pages it keeps."""

import hashlib
import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.urls import reverse
from PIL import Image

from courses.models import GuideIndexPage
from tests.courses.training.factories import (
    home,
    make_course,
    make_guides,
    make_lesson,
    text_block,
)
from tests.factories import UserFactory
from training_site.pwa import NEVER_KEPT

pytestmark = pytest.mark.django_db

ROOT = Path(settings.BASE_DIR)
MANIFEST_LINK = re.compile(r'<link rel="manifest" href="([^"]+)">')
ACCOUNT = re.compile(r'data-account="([^"]*)"')


@pytest.fixture
def site(db):
    course = make_course(title="Kỹ năng số")
    _, guides = make_guides()
    return {
        "home": home(),
        "course": course,
        "lesson": make_lesson(course, title="Bài đọc", blocks=[text_block()]),
        "guide": guides[0],
    }


def static_file(url: str) -> Path:
    assert url.startswith(settings.STATIC_URL), url
    found = finders.find(url.removeprefix(settings.STATIC_URL))
    assert found, url
    return Path(found)


def test_every_page_links_the_manifest_in_its_language(client, site):
    pages = [
        "/",
        "/catalog/",
        site["course"].url,
        site["lesson"].url,
        site["guide"].url,
        "/accounts/login/",
        "/certificates/verify/",
    ]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        assert MANIFEST_LINK.findall(response.content.decode()) == ["/manifest.webmanifest"], path
    missing = client.get("/khong-co-trang-nay/")
    assert missing.status_code == 404
    assert MANIFEST_LINK.findall(missing.content.decode()) == ["/manifest.webmanifest"]
    client.cookies["django_language"] = "en"
    english = client.get("/catalog/").content.decode()
    assert MANIFEST_LINK.findall(english) == ["/manifest.webmanifest?lang=en"]


def test_the_manifest_names_the_app_in_vietnamese_first(client):
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    data = json.loads(response.content.decode("utf-8"))
    icons = data.pop("icons")
    assert data == {
        "id": "/",
        "name": "Cầu nối tri thức số",
        "short_name": "Cầu nối",
        "description": "Cầu nối tri thức số: mạng lưới thư viện số của tỉnh.",
        "lang": "vi",
        "dir": "ltr",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "theme_color": "#0b5d7a",
        "background_color": "#ffffff",
    }
    assert [(i["sizes"], i["purpose"], i["type"]) for i in icons] == [
        ("192x192", "any", "image/png"),
        ("512x512", "any", "image/png"),
        ("192x192", "maskable", "image/png"),
        ("512x512", "maskable", "image/png"),
    ]
    for icon in icons:
        with Image.open(static_file(icon["src"])) as image:
            assert image.format == "PNG"
            assert f"{image.width}x{image.height}" == icon["sizes"]
    # The colours are the site's: the header's brand colour is the theme.
    assert "--brand: #0b5d7a" in (ROOT / "static/css/site.css").read_text()


def test_the_manifest_in_english_keeps_the_vietnamese_short_name(client):
    data = client.get("/manifest.webmanifest?lang=en").json()
    assert (data["name"], data["short_name"], data["lang"]) == ("Knowledge Bridge", "Cầu nối", "en")
    assert client.get("/manifest.webmanifest?lang=fr").json()["lang"] == "vi"


def test_pages_name_the_theme_colour_and_the_icons(client, site):
    html = client.get("/").content.decode()
    assert '<meta name="theme-color" content="#0b5d7a">' in html
    for href in re.findall(r'<link rel="(?:icon|apple-touch-icon)" href="([^"]+)"', html):
        assert static_file(href).read_bytes().startswith(b"\x89PNG")


def worker(client, **headers):
    response = client.get("/sw.js", **headers)
    body = response.content.decode()
    first, _, rest = body.partition("\n")
    assert first.startswith("self.KB_PWA = ") and first.endswith(";")
    return response, json.loads(first.removeprefix("self.KB_PWA = ").removesuffix(";")), rest


def test_the_worker_is_served_from_the_root_and_always_revalidated(client, site):
    response, config, source = worker(client)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/javascript; charset=utf-8"
    assert response["Cache-Control"] == "no-cache"
    assert "Service-Worker-Allowed" not in response  # /sw.js: its scope is the whole site
    assert source == (ROOT / "static/pwa/sw.js").read_text()
    # Its own policy: scripts (Workbox's modules) from this site only.
    assert "script-src 'self'" in response["Content-Security-Policy"]
    again = client.get("/sw.js", HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304
    assert again.content == b""
    assert client.post("/sw.js").status_code == 405


def test_workbox_comes_from_our_static_files_pinned_in_package_json(client):
    _, config, source = worker(client)
    assert config["workbox"] == "/static/pwa/workbox/"
    assert 'importScripts(CONFIG.workbox + "workbox-sw.js")' in source
    assert "modulePathPrefix: CONFIG.workbox" in source
    assert "http://" not in source and "https://" not in source
    pins = json.loads((ROOT / "package.json").read_text())["dependencies"]
    used = sorted(set(re.findall(r"workbox\.(\w+);", source)))
    assert used == [
        "backgroundSync",
        "cacheableResponse",
        "core",
        "expiration",
        "precaching",
        "routing",
        "strategies",
    ]
    names = {"backgroundSync": "background-sync", "cacheableResponse": "cacheable-response"}
    for module in [*(names.get(name, name) for name in used), "sw"]:
        package = f"workbox-{module}"
        installed = json.loads((ROOT / "node_modules" / package / "package.json").read_text())
        assert pins[package] == installed["version"], package
        file = "workbox-sw.js" if module == "sw" else f"{package}.prod.js"
        assert finders.find(f"pwa/workbox/{file}"), file


def test_the_worker_knows_which_pages_to_keep_and_which_never(client, site):
    _, config, _ = worker(client)
    guides = GuideIndexPage.objects.get()
    assert config["pages"] == {"exact": ["/"], "prefixes": ["/catalog/", guides.url]}
    assert config["never"] == [*NEVER_KEPT, "/desk/"]
    for path in ("/admin/", "/accounts/", "/api/", "/_allauth/", "/my/", "/teach/"):
        assert path in config["never"]
    (hold,) = config["neverPatterns"]
    assert re.match(hold, "/catalog/record/12/hold/")
    assert not re.match(hold, "/catalog/record/12/")
    assert config["xapi"] == "/api/xapi/statements"
    assert config["logout"] == ["/accounts/logout/", "/admin/logout/"]
    assert config["offlinePage"] == "/offline/"


def test_precached_files_carry_the_revision_of_their_content(client, site):
    _, config, _ = worker(client)
    offline = client.get("/offline/").content
    expected = {"/offline/": hashlib.sha256(offline).hexdigest()[:16]}
    for path in ("css/site.css", "js/site.js", "pwa/pwa.js", "pwa/icons/icon-192.png"):
        data = (ROOT / "static" / path).read_bytes()
        expected[f"/static/{path}"] = hashlib.sha256(data).hexdigest()[:16]
    assert {entry["url"]: entry["revision"] for entry in config["precache"]} == expected


def test_the_offline_page_is_the_same_for_everyone_in_both_languages(client, site):
    anonymous = client.get("/offline/")
    assert anonymous.status_code == 200
    assert anonymous["Cache-Control"] == "no-cache"
    assert "default-src 'self'" in anonymous["Content-Security-Policy"]
    html = anonymous.content.decode()
    assert "<h1>Không có kết nối</h1>" in html
    assert "<h2>No connection</h2>" in html
    assert "csrfmiddlewaretoken" not in html and "data-account" not in html
    user = UserFactory(username="nguoidung_offline")
    client.force_login(user)
    client.cookies["django_language"] = "en"
    assert client.get("/offline/").content == anonymous.content


def test_pages_carry_a_mark_of_their_account_only(client, site):
    def mark():
        (found,) = ACCOUNT.findall(client.get("/catalog/").content.decode())
        return found

    assert mark() == ""
    first, second = UserFactory(username="mot"), UserFactory(username="hai")
    client.force_login(first)
    first_mark = mark()
    assert re.fullmatch(r"[0-9a-f]{24}", first_mark)
    client.logout()
    client.force_login(first)
    assert mark() == first_mark  # logging in again keeps the lessons saved
    client.force_login(second)
    assert mark() not in ("", first_mark)


def test_pages_say_what_happens_to_answers_given_offline(client, site):
    html = client.get("/").content.decode()
    assert 'data-pwa-status role="status"' in html
    assert "câu trả lời của bạn đã được lưu trên thiết bị này" in html
    assert "Các câu trả lời lưu trên thiết bị này đã được gửi." in html


def test_a_lesson_offers_saving_to_logged_in_learners_only(client, site):
    lesson = site["lesson"]
    endpoint = reverse("courses:lesson_offline_files", args=[lesson.pk])
    assert "data-offline-lesson" not in client.get(lesson.url).content.decode()
    client.force_login(UserFactory())
    html = client.get(lesson.url).content.decode()
    assert f'data-offline-lesson="{endpoint}"' in html
    assert "Lưu để học ngoại tuyến" in html
    assert 'data-text-saved="Đã lưu để học ngoại tuyến"' in html
