"""The shared decision screens (libraries/network/decisions.py), replayed over HTTP for both
screens built on them: join requests (network) and reader card applications (circulation).

People: a network admin at the province; the library admin of "own" (HBT), the library the
request is addressed to; a librarian and a teacher there; the admin of the sibling district
(DDA); an anonymous visitor. Every refusal is checked against the row read before it.
"""

import datetime
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from types import SimpleNamespace

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from libraries.models import JoinRequest, Library, Patron, RegistrationRequest, Role
from tests.factories import JoinRequestFactory, member
from tests.libraries.circulation.factories import PatronFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english_site")]

PEOPLE = ["network_admin", "parent_admin", "librarian", "sibling_admin", "teacher", "anonymous"]


def make_join_request(library: Library, name: str) -> JoinRequest:
    return JoinRequestFactory(parent=library, school_name=name)


def make_application(library: Library, name: str) -> RegistrationRequest:
    return RegistrationRequest.objects.create(
        full_name=name,
        date_of_birth=datetime.date(1990, 5, 1),
        home_library=library,
        email="ungvien@example.org",
    )


@dataclass(frozen=True)
class Screen:
    namespace: str
    make: Callable
    product: type  # the model whose row an approval creates (a library, a reader card)
    already_decided: str
    reason_required: str
    librarian: str  # what the librarian of "own" may do; the others are the same on both

    def url(self, view: str, decision=None) -> str:
        return reverse(f"{self.namespace}:{view}", args=[decision.pk] if decision else [])

    def products(self) -> list[int]:
        return sorted(self.product.objects.values_list("pk", flat=True))

    @property
    def reach(self) -> dict:
        """What each person may do with a request addressed to "own"."""
        return {
            "network_admin": "decide",
            "parent_admin": "decide",
            "librarian": self.librarian,
            "sibling_admin": "not_found",
            "teacher": "login",
            "anonymous": "login",
        }


JOIN = Screen(
    namespace="libraries_join_requests",
    make=make_join_request,
    product=Library,
    already_decided="This request has already been decided.",
    reason_required="Give a reason: the school will read it.",
    librarian="forbidden",  # no join request permission at all
)
CARDS = Screen(
    namespace="circulation_registrations",
    make=make_application,
    product=Patron,
    already_decided="This application has already been decided.",
    reason_required="Give the applicant a reason.",
    librarian="decide",  # every staff member decides card applications
)
SCREENS = [JOIN, CARDS]

by_screen = pytest.mark.parametrize("screen", SCREENS, ids=lambda s: s.namespace)
by_screen_and_person = pytest.mark.parametrize(
    ("screen", "who"),
    [(screen, who) for screen in SCREENS for who in PEOPLE],
    ids=[f"{screen.namespace}-{who}" for screen in SCREENS for who in PEOPLE],
)


def log_in(client, tree, who):
    if who == "anonymous":
        return None
    library, role = {
        "network_admin": (tree.province, Role.NETWORK_ADMIN),
        "parent_admin": (tree.own, Role.LIBRARY_ADMIN),
        "librarian": (tree.own, Role.LIBRARIAN),
        "sibling_admin": (tree.sibling, Role.LIBRARY_ADMIN),
        "teacher": (tree.own, Role.TEACHER),
    }[who]
    user = member(library, role, username=who)
    client.force_login(user)
    return user


def mark(decision, status: str) -> None:
    """Store a decision without the services (an approved application needs its card)."""
    decision.status = status
    if status == "approved" and isinstance(decision, RegistrationRequest):
        decision.patron = PatronFactory(home_library=decision.home_library)
    decision.save()


def row(decision) -> dict:
    """Everything stored about a request, read from the database."""
    return type(decision).objects.filter(pk=decision.pk).values().get()


@contextmanager
def unchanged(screen, decision):
    """The block stores nothing: neither the request's row nor the screen's products change."""
    before, products_before = row(decision), screen.products()
    yield
    assert row(decision) == before
    assert screen.products() == products_before


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def assert_refused(response, outcome):
    if outcome == "login":
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    else:
        assert response.status_code == {"forbidden": 403, "not_found": 404}[outcome]


@pytest.fixture
def requests(tree):
    """For each screen, one pending request addressed to "own" and one to the sibling."""

    def make(screen):
        return screen.make(tree.own, "Gửi HBT"), screen.make(tree.sibling, "Gửi DDA")

    return make


# --- Seeing --------------------------------------------------------------------------------


@by_screen_and_person
def test_index_lists_only_requests_in_reach(client, tree, requests, screen, who):
    to_own, to_sibling = requests(screen)
    log_in(client, tree, who)
    response = client.get(screen.url("index"))
    visible = {
        "network_admin": {to_own.pk, to_sibling.pk},
        "parent_admin": {to_own.pk},
        "librarian": {to_own.pk},
        "sibling_admin": {to_sibling.pk},
    }
    outcome = screen.reach[who]
    if outcome in ("login", "forbidden"):
        assert_refused(response, outcome)
        return
    assert response.status_code == 200
    assert {r.pk for r in response.context["requests"]} == visible[who]
    assert {r.pk for r in response.context["pending"]} == visible[who]
    html = response.content.decode()
    assert (screen.url("review", to_own) in html) == (to_own.pk in visible[who])
    assert (screen.url("review", to_sibling) in html) == (to_sibling.pk in visible[who])


@by_screen_and_person
def test_review_page_opens_only_in_reach(client, tree, requests, screen, who):
    to_own, _to_sibling = requests(screen)
    log_in(client, tree, who)
    response = client.get(screen.url("review", to_own))
    outcome = screen.reach[who]
    if outcome != "decide":
        assert_refused(response, outcome)
        return
    assert response.status_code == 200
    assert response.context["object"] == to_own
    assert response.context["can_decide"] is True
    html = response.content.decode()
    assert f'action="{screen.url("approve", to_own)}"' in html
    assert f'action="{screen.url("reject", to_own)}"' in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert '<label for="id_reason">' in html


@by_screen
def test_a_decided_request_shows_no_decision_buttons(client, tree, requests, screen):
    to_own, _to_sibling = requests(screen)
    to_own.reason = "Thiếu giấy tờ."
    mark(to_own, "rejected")
    log_in(client, tree, "parent_admin")
    response = client.get(screen.url("review", to_own))
    assert response.status_code == 200
    assert response.context["can_decide"] is False
    html = response.content.decode()
    assert screen.url("approve", to_own) not in html
    assert "Thiếu giấy tờ." in html


@by_screen
def test_index_puts_pending_first_and_filters_by_status(client, tree, screen):
    approved = screen.make(tree.own, "Đã duyệt")
    mark(approved, "approved")
    rejected = screen.make(tree.own, "Đã từ chối")
    mark(rejected, "rejected")
    older_pending = screen.make(tree.own, "Chờ cũ")
    newer_pending = screen.make(tree.own, "Chờ mới")
    type(older_pending).objects.filter(pk=older_pending.pk).update(
        created_at=approved.created_at - datetime.timedelta(days=1)
    )
    log_in(client, tree, "parent_admin")

    everything = client.get(screen.url("index"))
    assert [r.pk for r in everything.context["requests"]] == [
        newer_pending.pk,
        older_pending.pk,
        rejected.pk,
        approved.pk,
    ]
    assert [r.pk for r in everything.context["decided"]] == [rejected.pk, approved.pk]
    only_approved = client.get(screen.url("index"), {"status": "approved"})
    assert [r.pk for r in only_approved.context["requests"]] == [approved.pk]
    assert only_approved.context["status"] == "approved"
    only_pending = client.get(screen.url("index"), {"status": "pending"})
    assert [r.pk for r in only_pending.context["requests"]] == [newer_pending.pk, older_pending.pk]
    unknown = client.get(screen.url("index"), {"status": "deleted"})
    assert unknown.context["status"] == ""
    assert len(unknown.context["requests"]) == 4


@by_screen
def test_index_queries_do_not_grow_with_the_number_of_requests(client, tree, screen):
    log_in(client, tree, "parent_admin")
    screen.make(tree.own, "Một")
    client.get(screen.url("index"))  # warm caches (site, menu) before counting
    with CaptureQueriesContext(connection) as one:
        client.get(screen.url("index"))
    for n in range(5):
        mark(screen.make(tree.own, f"Thêm {n}"), "approved")
    with CaptureQueriesContext(connection) as six:
        response = client.get(screen.url("index"))
    assert len(response.context["requests"]) == 6
    assert len(six) == len(one)


# --- Deciding ------------------------------------------------------------------------------


@pytest.fixture
def attempt(client, tree, requests, mailoutbox, django_capture_on_commit_callbacks):
    """`who` posts `action` on the request addressed to "own" (the one to the sibling never
    changes). A refused attempt is answered as `screen.reach` says and changes nothing, sending
    no mail: None is returned. A decision redirects to the index: what it left is returned."""

    def attempt(screen, who, action, data=None):
        to_own, to_sibling = requests(screen)
        user = log_in(client, tree, who)
        before, sibling_before, products_before = row(to_own), row(to_sibling), screen.products()
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(screen.url(action, to_own), data)
        outcome = screen.reach[who]
        assert row(to_sibling) == sibling_before
        if outcome != "decide":
            assert_refused(response, outcome)
            assert row(to_own) == before
            assert screen.products() == products_before
            assert mailoutbox == []
            return None
        assert response.status_code == 302
        assert response["Location"] == screen.url("index")
        return SimpleNamespace(
            response=response,
            user=user,
            request=to_own,
            after=row(to_own),
            products_before=products_before,
        )

    return attempt


@by_screen_and_person
def test_approve_decides_only_in_reach(attempt, screen, who, mailoutbox):
    decided = attempt(screen, who, "approve")
    if decided is None:
        return  # refused, and nothing changed
    response, after = decided.response, decided.after
    assert (after["status"], after["decided_by_id"]) == ("approved", decided.user.pk)
    assert len(screen.products()) == len(decided.products_before) + 1
    assert len(mailoutbox) == 1
    if screen is JOIN:
        library = Library.objects.get(pk=after["library_id"])
        assert messages_of(response) == [
            f"{library.name} has joined the network with code {library.code}; "
            f"{decided.request.contact_email} is invited."
        ]
    else:
        patron = Patron.objects.get(pk=after["patron_id"])
        assert patron.card_number == "HBT-000001"
        assert messages_of(response) == ["Card HBT-000001 issued."]


@by_screen_and_person
def test_reject_decides_only_in_reach(attempt, screen, who, mailoutbox):
    decided = attempt(screen, who, "reject", {"reason": "Chưa đủ điều kiện."})
    if decided is None:
        return  # refused, and nothing changed
    response, after, user = decided.response, decided.after, decided.user
    assert screen.products() == decided.products_before
    assert (after["status"], after["reason"], after["decided_by_id"]) == (
        "rejected",
        "Chưa đủ điều kiện.",
        user.pk,
    )
    assert len(mailoutbox) == 1
    expected = (
        "The request of Gửi HBT was rejected; the contact has been told why."
        if screen is JOIN
        else "Application rejected; the applicant is told why."
    )
    assert messages_of(response) == [expected]


@by_screen
@pytest.mark.parametrize("action", ["approve", "reject"])
def test_forged_post_for_a_request_out_of_reach_changes_nothing(
    client, tree, requests, screen, action, mailoutbox, django_capture_on_commit_callbacks
):
    """The admin of HBT forges a decision on the request addressed to the sibling district."""
    _to_own, to_sibling = requests(screen)
    log_in(client, tree, "parent_admin")
    with unchanged(screen, to_sibling), django_capture_on_commit_callbacks(execute=True):
        response = client.post(screen.url(action, to_sibling), {"reason": "Giả mạo."})
    assert response.status_code == 404
    assert mailoutbox == []


@by_screen
@pytest.mark.parametrize("action", ["approve", "reject"])
def test_get_on_a_decision_url_does_nothing(client, tree, requests, screen, action):
    to_own, _to_sibling = requests(screen)
    log_in(client, tree, "parent_admin")
    with unchanged(screen, to_own):
        response = client.get(screen.url(action, to_own), {"reason": "Qua GET."})
    assert response.status_code == 405


@by_screen
def test_review_page_takes_no_post(client, tree, requests, screen):
    to_own, _to_sibling = requests(screen)
    log_in(client, tree, "parent_admin")
    before = row(to_own)
    response = client.post(screen.url("review", to_own), {"decision": "approve"})
    assert response.status_code == 405
    assert row(to_own) == before


@by_screen
def test_double_approve_is_harmless_and_says_so(
    client, tree, requests, screen, mailoutbox, django_capture_on_commit_callbacks
):
    to_own, _to_sibling = requests(screen)
    log_in(client, tree, "parent_admin")
    products_before = screen.products()
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(screen.url("approve", to_own))
    assert first.status_code == 302
    client.get(first["Location"])  # the index shows (and uses up) the first message
    approved = row(to_own)
    with django_capture_on_commit_callbacks(execute=True):
        second = client.post(screen.url("approve", to_own))
    assert second.status_code == 302
    assert second["Location"] == screen.url("review", to_own)
    assert messages_of(second) == [screen.already_decided]
    assert row(to_own) == approved
    assert len(screen.products()) == len(products_before) + 1
    assert len(mailoutbox) == 1
    page = client.get(second["Location"])
    assert page.context["can_decide"] is False
    assert screen.already_decided in page.content.decode()
    # Rejecting it afterwards is refused the same way.
    third = client.post(screen.url("reject", to_own), {"reason": "Đổi ý."})
    assert messages_of(third) == [screen.already_decided]
    assert row(to_own) == approved


@by_screen
@pytest.mark.parametrize("reason", [None, "", "   "], ids=["missing", "empty", "blank"])
def test_reject_requires_a_reason(client, tree, requests, screen, reason, mailoutbox):
    to_own, _to_sibling = requests(screen)
    log_in(client, tree, "parent_admin")
    before = row(to_own)
    data = {} if reason is None else {"reason": reason}
    response = client.post(screen.url("reject", to_own), data)
    assert response.status_code == 302
    assert response["Location"] == screen.url("review", to_own)
    assert messages_of(response) == [screen.reason_required]
    assert row(to_own) == before
    assert mailoutbox == []


def test_card_application_reason_is_limited_to_1000_characters(client, tree, requests):
    to_own, _to_sibling = requests(CARDS)
    log_in(client, tree, "parent_admin")
    before = row(to_own)
    response = client.post(CARDS.url("reject", to_own), {"reason": "x" * 1001})
    assert response["Location"] == CARDS.url("review", to_own)
    assert messages_of(response) == ["Ensure this value has at most 1000 characters (it has 1001)."]
    assert row(to_own) == before


@by_screen
@pytest.mark.parametrize("action", ["approve", "reject"])
def test_decisions_need_the_csrf_token(tree, requests, screen, action):
    to_own, _to_sibling = requests(screen)
    client = Client(enforce_csrf_checks=True)
    log_in(client, tree, "parent_admin")
    with unchanged(screen, to_own):
        response = client.post(screen.url(action, to_own), {"reason": "Không có mã CSRF."})
    assert response.status_code == 403


@by_screen
def test_the_review_form_posts_with_its_csrf_token(tree, requests, screen):
    """The real form, read from the page, carries what the decision needs."""
    to_own, _to_sibling = requests(screen)
    client = Client(enforce_csrf_checks=True)
    client.cookies["django_language"] = "en"
    log_in(client, tree, "parent_admin")
    page = client.get(screen.url("review", to_own))
    token = page.context["csrf_token"]
    response = client.post(
        screen.url("reject", to_own), {"reason": "Hết chỗ.", "csrfmiddlewaretoken": str(token)}
    )
    assert response.status_code == 302
    assert row(to_own)["status"] == "rejected"
