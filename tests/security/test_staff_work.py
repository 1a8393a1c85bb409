"""Attacks on the staff-work screens, replayed over HTTP: invitations out of reach or above
one's role, forged bulk edits, and code hidden in notice templates. Each refusal changes
nothing (rows compared with those read before) and sends nothing."""

import pytest
from django.urls import reverse
from django.utils.http import urlencode
from wagtail.models import ModelLogEntry

from libraries.models import Invitation, Item, NoticeTemplate, Role
from tests.factories import member
from tests.libraries.catalog.factories import ItemFactory
from tests.libraries.conftest import Tree

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


@pytest.fixture
def tree(db):
    """The user's district ("own"), a school below it, the neighbouring district, the province."""
    return Tree()


def invitation_rows():
    return list(Invitation.objects.values_list("pk", "email", "library_id", "role", "status"))


@pytest.mark.parametrize(
    ("target", "role", "field"),
    [
        ("parent", Role.LIBRARY_ADMIN, "library"),  # the library above: out of reach
        ("sibling", Role.LIBRARIAN, "library"),  # the neighbouring district
        ("child", Role.NETWORK_ADMIN, "role"),  # in reach, but above the inviter's role
    ],
)
def test_forged_invitation_posts_store_and_send_nothing(
    client, tree, target, role, field, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(member(tree.own, Role.LIBRARY_ADMIN))
    data = {"email": "ke.gian@example.org", "library": tree.target(target).pk, "role": role}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("network_invitations:add"), data)
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert invitation_rows() == []
    assert mailoutbox == []


def test_a_librarian_cannot_invite_at_all(client, tree, mailoutbox):
    client.force_login(member(tree.own, Role.LIBRARIAN))
    data = {"email": "ban@example.org", "library": tree.own.pk, "role": Role.LIBRARIAN}
    assert client.post(reverse("network_invitations:add"), data).status_code == 403
    assert invitation_rows() == [] and mailoutbox == []


def item_rows():
    return list(Item.objects.order_by("pk").values_list("pk", "status", "location_id", "shelf_id"))


def test_forged_ids_in_a_bulk_edit_change_nothing(client, tree):
    mine = [ItemFactory(library=tree.child) for _ in range(2)]
    theirs = ItemFactory(library=tree.sibling)
    client.force_login(member(tree.own, Role.LIBRARIAN))
    before = item_rows()
    url = reverse("wagtail_bulk_action", args=["libraries", "item", "change"])
    for ids in ([*mine, theirs], [theirs]):
        query = urlencode([("id", item.pk) for item in ids])
        response = client.post(f"{url}?{query}", {"status": "withdrawn"})
        assert response.status_code == 403
    assert item_rows() == before
    assert not ModelLogEntry.objects.exists()


def test_select_all_touches_only_items_within_reach(client, tree):
    mine = [ItemFactory(library=tree.child) for _ in range(2)]
    theirs = ItemFactory(library=tree.sibling)
    client.force_login(member(tree.own, Role.LIBRARIAN))
    url = reverse("wagtail_bulk_action", args=["libraries", "item", "change"])
    assert client.post(f"{url}?id=all", {"status": "withdrawn"}).status_code == 302
    assert set(Item.objects.filter(status="withdrawn")) == set(mine)
    theirs.refresh_from_db()
    assert theirs.status == "available"


@pytest.mark.parametrize(
    "body",
    [
        "{reader_name.__init__.__globals__}",
        "{reader_name.__class__.__mro__[1].__subclasses__}",
        "{card_number!r:>99999999}",
        "{{% load static %}}{reader_name",
    ],
)
def test_code_in_a_notice_template_is_refused_at_save(client, tree, body):
    client.force_login(member(tree.own, Role.LIBRARY_ADMIN))
    data = {"library": tree.own.pk, "kind": "overdue", "language": "vi", "subject": "Quá hạn",
            "body": body}  # fmt: skip
    response = client.post(reverse("wagtailsnippets_libraries_noticetemplate:add"), data)
    assert response.status_code == 200
    assert response.context["form"].errors["body"]
    assert not NoticeTemplate.objects.exists()


def test_template_syntax_is_plain_text_in_a_notice(client, tree):
    """Django template tags and variables are not evaluated: they reach the reader as text."""
    client.force_login(member(tree.own, Role.LIBRARY_ADMIN))
    body = "{{{{ settings.SECRET_KEY }}}} {{% debug %}} {reader_name}"
    data = {"library": tree.own.pk, "kind": "overdue", "language": "vi", "subject": "Quá hạn",
            "body": body}  # fmt: skip
    url = reverse("wagtailsnippets_libraries_noticetemplate:preview_on_add")
    assert client.post(url, data).json()["is_valid"] is True
    page = client.get(url).content.decode()
    assert "{{ settings.SECRET_KEY }} {% debug %} Nguyễn Thị Mai" in page
    assert "test-only-key" not in page
