"""Public pages of the network: the home page, the network page, one page per library."""

import pytest
from django.urls import reverse

from libraries.models import Membership, NetworkPage
from libraries.network.demo import load_network_page
from tests.factories import LibraryFactory, UserFactory
from tests.libraries.conftest import ALL_ROLES, TARGETS

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", ALL_ROLES, ids=[r or "anonymous" for r in ALL_ROLES])
@pytest.mark.parametrize("target", TARGETS)
def test_library_page_is_public_and_shows_no_members(member_client, tree, role, target):
    client, _user = member_client(role)
    library = tree.target(target)
    secret = Membership.objects.create(
        user=UserFactory(username="hocsinh_bimat", display_name="Nguyễn Bí Mật"),
        library=library,
        role="student",
    )
    response = client.get(reverse("libraries:library_detail", args=[library.code]))
    assert response.status_code == 200
    html = response.content.decode()
    assert library.name in html
    assert secret.user.username not in html
    assert "Nguyễn Bí Mật" not in html


def test_library_page_shows_parent_children_and_contact(client, tree):
    tree.own.address = "5 phố Lê Lợi"
    tree.own.phone = "0200 3800 123"
    tree.own.save()
    response = client.get(reverse("libraries:library_detail", args=["hbt"]))
    html = response.content.decode()
    assert "5 phố Lê Lợi" in html
    assert 'href="tel:0200 3800 123"' in html
    assert reverse("libraries:library_detail", args=["TVT"]) in html
    assert reverse("libraries:library_detail", args=["THCSA"]) in html
    assert "Thư viện huyện" in html  # the kind, in Vietnamese


def test_inactive_library_has_no_page(client, tree):
    tree.child.is_active = False
    tree.child.save()
    response = client.get(reverse("libraries:library_detail", args=["THCSA"]))
    assert response.status_code == 404
    assert (
        "THCSA"
        not in client.get(reverse("libraries:library_detail", args=["HBT"])).content.decode()
    )


def test_network_page_groups_members_by_district(client, tree, django_assert_max_num_queries):
    LibraryFactory(code="THCSB", name="Thư viện THCS Bình Minh", parent=tree.own)
    LibraryFactory(code="CU", name="Thư viện đã nghỉ", parent=tree.own, is_active=False)
    load_network_page()
    page = NetworkPage.objects.get()
    with django_assert_max_num_queries(12):
        response = client.get(page.url)
    assert response.status_code == 200
    groups = {
        d.code: [lib.code for lib in members] for d, members in response.context["district_groups"]
    }
    assert groups == {"HBT": ["THCSA", "THCSB"], "DDA": ["THPTC"]}
    assert [lib.code for lib in response.context["top_libraries"]] == ["TVT"]
    assert "Thư viện đã nghỉ" not in response.content.decode()


def test_network_page_queries_do_not_grow_with_members(client, tree):
    load_network_page()
    url = NetworkPage.objects.get().url
    client.get(url)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for _ in range(15):
        LibraryFactory(parent=tree.sibling)
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many.captured_queries) == len(few.captured_queries)


def test_home_page_has_search_training_members_and_join(client, tree):
    from tests.courses.training.factories import course_index

    load_network_page()
    courses = course_index()
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="vi">' in html
    assert 'action="/catalog/"' in html and 'name="q"' in html
    assert '<label for="home-q">' in html
    assert f'href="{courses.url}"' in html
    assert reverse("libraries:join") in html
    assert NetworkPage.objects.get().url in html
    assert "Thư viện huyện Hòa Bình" in html
    assert response.context["member_count"] == 5


def test_home_page_switches_to_english(client, tree):
    assert "Tìm trong mục lục" in client.get("/").content.decode()
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    html = client.get("/").content.decode()
    assert '<html lang="en">' in html
    assert "Search the catalog" in html


@pytest.mark.parametrize("accept", ["en-US,en;q=0.9", "vi", "fr", ""])
def test_home_page_is_vietnamese_whatever_the_browser_says(client, tree, accept):
    html = client.get("/", HTTP_ACCEPT_LANGUAGE=accept).content.decode()
    assert '<html lang="vi">' in html
    assert "Tìm trong mục lục" in html


def test_an_unknown_language_cookie_falls_back_to_vietnamese(client, tree):
    client.cookies["django_language"] = "xx"
    assert '<html lang="vi">' in client.get("/").content.decode()


def test_pages_are_built_for_small_screens(client, tree):
    html = client.get("/").content.decode()
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert 'class="skip-link" href="#main"' in html


@pytest.mark.parametrize("role", ALL_ROLES, ids=[r or "anonymous" for r in ALL_ROLES])
def test_join_form_and_profile_by_role(member_client, tree, role):
    client, user = member_client(role)
    assert client.get(reverse("libraries:join")).status_code == 200
    response = client.get(reverse("profile"))
    if user is None:
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    else:
        assert response.status_code == 200
        assert user.username in response.content.decode()
