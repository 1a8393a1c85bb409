"""Reports → Site history and each object's history show a staff member only the audit
entries of libraries within their reach (libraries/network/history.py, audit.py).

The user holds the role at the "own" district library HBT; "child" is a school below it,
"sibling" the neighbouring district DDA (with its school "cousin"), "parent" the provincial
library above it. Every request goes over HTTP, as a browser would send it.
"""

import csv
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook
from wagtail.models import ModelLogEntry

from libraries.models import Membership, Role
from libraries.network.audit import log_change
from tests.factories import member
from tests.libraries.catalog.factories import ItemFactory

pytestmark = pytest.mark.django_db

SITE_HISTORY = "/admin/reports/site-history/"
RESULTS = "/admin/reports/site-history/results/"
EVERY_PLACE = ["own", "child", "sibling", "cousin", "parent", "none"]
WITHIN_REACH = {"own", "child"}


def place(tree, name):
    if name == "none":
        return None
    return tree.cousin if name == "cousin" else tree.target(name)


@pytest.fixture
def entries(tree):
    """One entry per place, about that place's library (none: the provincial library, filed
    under no library), each by a staff member of the place; the entry's label names it."""
    authors = {}
    for name in EVERY_PLACE:
        library = place(tree, name)
        author = member(library or tree.province, Role.LIBRARIAN, username=f"author_{name}")
        authors[name] = author
        log_change(
            library or tree.province,
            "libraries.library.edit",
            by=author,
            before={"description": ""},
            after={"description": f"entry-{name}"},
            library=library,
        )
    for entry in ModelLogEntry.objects.all():
        entry.label = entry.data["after"]["description"]
        entry.save()
    return authors


def labels(response) -> set[str]:
    assert response.status_code == 200
    return {entry.label for entry in response.context["object_list"]}


def expected(role) -> set[str]:
    names = EVERY_PLACE if role == Role.NETWORK_ADMIN else WITHIN_REACH
    return {f"entry-{name}" for name in names}


STAFF = pytest.mark.parametrize("role", [Role.LIBRARIAN, Role.LIBRARY_ADMIN, Role.NETWORK_ADMIN])


@STAFF
def test_site_history_lists_only_entries_within_reach(member_client, entries, role):
    client, _user = member_client(role)
    assert labels(client.get(SITE_HISTORY)) == expected(role)
    assert labels(client.get(RESULTS)) == expected(role)


def test_the_site_history_link_is_the_scoped_view(member_client, entries):
    """Wagtail's own names lead to the replaced view (menus and pagination use them)."""
    assert reverse("wagtailadmin_reports:site_history") == SITE_HISTORY
    assert reverse("wagtailadmin_reports:site_history_results") == RESULTS
    client, _user = member_client(Role.LIBRARIAN)
    response = client.get(reverse("wagtailadmin_reports:site_history"))
    assert labels(response) == expected(Role.LIBRARIAN)


@pytest.mark.parametrize("role", [Role.LIBRARIAN, Role.LIBRARY_ADMIN])
def test_filters_do_not_reach_other_libraries(member_client, entries, role):
    client, _user = member_client(role)
    sibling_author = entries["sibling"]
    for query in (
        {"label": "entry-sibling"},
        {"label": "entry-none"},
        {"label": "entry"},
        {"user": sibling_author.pk},
        {"user": [sibling_author.pk, entries["own"].pk]},
        {"action": "libraries.library.edit"},
        {"object_type": ModelLogEntry.objects.first().content_type_id},
    ):
        for url in (SITE_HISTORY, RESULTS):
            assert labels(client.get(url, query)) <= expected(role), query


@pytest.mark.parametrize("role", [Role.LIBRARIAN, Role.LIBRARY_ADMIN])
def test_filter_choices_name_no_one_out_of_reach(member_client, entries, role):
    client, _user = member_client(role)
    form = client.get(SITE_HISTORY).context["filters"].form
    users = {user.username for user in form.fields["user"].queryset}
    assert users == {"author_own", "author_child"}


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_download_holds_only_entries_within_reach(member_client, entries, fmt):
    client, _user = member_client(Role.LIBRARIAN)
    response = client.get(SITE_HISTORY, {"export": fmt})
    assert response.status_code == 200
    content = b"".join(response.streaming_content) if response.streaming else response.content
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    else:
        sheet = load_workbook(io.BytesIO(content)).active
        rows = list(sheet.iter_rows(values_only=True))
    assert {row[1] for row in rows[1:]} == expected(Role.LIBRARIAN)


@pytest.mark.parametrize("role", [Role.TEACHER, Role.READER, None])
def test_others_never_open_the_site_history(member_client, entries, role):
    client, _user = member_client(role)
    for url in (SITE_HISTORY, RESULTS, SITE_HISTORY + "?export=csv"):
        response = client.get(url)
        assert response.status_code == 302
        assert "entry-" not in response.content.decode()


def test_a_removed_librarian_reads_nothing_more(client, tree, entries):
    user = member(tree.own, Role.LIBRARIAN)
    client.force_login(user)
    assert labels(client.get(SITE_HISTORY)) == expected(Role.LIBRARIAN)
    Membership.objects.filter(user=user).delete()
    response = client.get(SITE_HISTORY)
    assert response.status_code == 302
    assert "entry-" not in response.content.decode()


def log_three(instance, author, tree):
    for library, text in ((tree.own, "mine"), (tree.sibling, "theirs"), (None, "network")):
        log_change(instance, "libraries.item.edit", by=author, before={"notes": ""},
                   after={"notes": text}, library=library)  # fmt: skip


@pytest.mark.parametrize(
    ("role", "screen"),
    [
        (Role.LIBRARIAN, "catalog_items"),
        (Role.LIBRARY_ADMIN, "catalog_items"),
        (Role.LIBRARY_ADMIN, "network_libraries"),
    ],
)
def test_an_objects_history_shows_only_entries_within_reach(member_client, tree, role, screen):
    """An object's history holds entries about it; one filed under another library (e.g. a
    change the sibling's staff made) or under none stays out of this user's view."""
    client, _user = member_client(role)
    instance = ItemFactory(library=tree.child) if screen == "catalog_items" else tree.child
    log_three(instance, member(tree.own, Role.LIBRARY_ADMIN), tree)
    response = client.get(reverse(f"{screen}:history", args=[instance.pk]))
    assert response.status_code == 200
    shown = [entry.data["after"]["notes"] for entry in response.context["object_list"]]
    assert shown == ["mine"]


def test_a_network_admin_reads_every_entry_of_an_object(member_client, tree):
    client, _user = member_client(Role.NETWORK_ADMIN)
    log_three(tree.child, member(tree.own, Role.LIBRARY_ADMIN), tree)
    response = client.get(reverse("network_libraries:history", args=[tree.child.pk]))
    shown = {entry.data["after"]["notes"] for entry in response.context["object_list"]}
    assert shown == {"mine", "theirs", "network"}


@pytest.mark.parametrize("target", ["sibling", "parent"])
def test_history_of_an_object_out_of_reach_is_not_found(member_client, tree, target):
    client, _user = member_client(Role.LIBRARY_ADMIN)
    library = tree.target(target)
    item = ItemFactory(library=library)
    log_change(item, "libraries.item.edit", by=None, before={"notes": ""},
               after={"notes": "x"}, library=library)  # fmt: skip
    for url in (
        reverse("network_libraries:history", args=[library.pk]),
        reverse("catalog_items:history", args=[item.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 404
        assert b"libraries.item.edit" not in response.content
