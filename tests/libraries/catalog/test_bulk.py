"""Changing many items at once from the staff item list (libraries/catalog/admin.py bulk
actions, services.bulk_update_items): the permission matrix over HTTP, forged ids, the audit
log entry per changed item, labels for the selection and for the items added today."""

import datetime
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from wagtail.models import ModelLogEntry

from libraries.catalog.services import BULK_EDIT_ACTION, CatalogError, bulk_update_items
from libraries.models import Item, Library, Role, Shelf
from tests.factories import member
from tests.libraries.catalog.factories import ItemFactory
from tests.libraries.circulation.factories import PatronFactory, lend
from tests.libraries.conftest import ALL_ROLES, TARGETS

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

STAFF = {Role.NETWORK_ADMIN, Role.LIBRARY_ADMIN, Role.LIBRARIAN}
matrix = pytest.mark.parametrize(
    ("role", "target"),
    [(role, target) for role in ALL_ROLES for target in TARGETS],
    ids=[f"{role or 'anonymous'}-{target}" for role in ALL_ROLES for target in TARGETS],
)


def bulk_url(action: str, items) -> str:
    query = urlencode([("id", getattr(item, "pk", item)) for item in items])
    return reverse("wagtail_bulk_action", args=["libraries", "item", action]) + "?" + query


def item_rows() -> list[tuple]:
    return list(
        Item.objects.order_by("pk").values_list(
            "pk", "status", "location_id", "item_type", "shelf_id", "updated_at"
        )
    )


def bulk_logs() -> list[tuple]:
    """(item id, user id, before and after) of each bulk-edit entry; the batch id apart."""
    entries = ModelLogEntry.objects.filter(action=BULK_EDIT_ACTION).order_by("pk")
    return [
        (object_id, user_id, {k: v for k, v in data.items() if k not in ("batch", "library")})
        for object_id, user_id, data in entries.values_list("object_id", "user_id", "data")
    ]


@pytest.fixture
def items(tree):
    """Two items at each target library."""
    return {name: [ItemFactory(library=tree.target(name)) for _ in range(2)] for name in TARGETS}


@matrix
def test_bulk_change_at_target(member_client, items, role, target):
    client, user = member_client(role)
    chosen = items[target]
    before = item_rows()
    response = client.post(bulk_url("change", chosen), {"status": "damaged"})
    if role in STAFF and target in ("own", "child"):
        assert response["Location"] == reverse("catalog_items:index")
    if role not in STAFF:
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    elif target in ("own", "child"):
        assert response.status_code == 302
        after = {pk: status for pk, status, *_rest in item_rows()}
        assert {pk: after[pk] for pk in after if pk in {i.pk for i in chosen}} == {
            i.pk: "damaged" for i in chosen
        }
        assert [row for row in item_rows() if row[0] not in {i.pk for i in chosen}] == [
            row for row in before if row[0] not in {i.pk for i in chosen}
        ]
        assert bulk_logs() == [
            (
                str(i.pk),
                user.pk,
                {"before": {"status": "available"}, "after": {"status": "damaged"}},
            )
            for i in chosen
        ]
        return
    else:
        assert response.status_code == 403
    assert item_rows() == before
    assert bulk_logs() == []


@matrix
def test_bulk_change_confirmation_page(member_client, items, role, target):
    client, _user = member_client(role)
    response = client.get(bulk_url("change", items[target]))
    if role not in STAFF:
        assert response.status_code == 302
    elif target in ("own", "child"):
        assert response.status_code == 200
        assert [entry["item"] for entry in response.context["items"]] == items[target]
    else:
        assert response.status_code == 403


def test_one_forged_id_refuses_the_whole_selection(member_client, items):
    client, _user = member_client(Role.LIBRARY_ADMIN)
    before = item_rows()
    mixed = [*items["own"], items["sibling"][0]]
    response = client.post(bulk_url("change", mixed), {"status": "withdrawn"})
    assert response.status_code == 403
    for forged in (["9999999"], ["abc"], [items["own"][0].pk, "1 OR 1=1"]):
        response = client.post(bulk_url("change", forged), {"status": "withdrawn"})
        assert response.status_code == 403
    assert item_rows() == before
    assert bulk_logs() == []


def test_the_service_refuses_forged_ids_too(tree, items):
    from django.core.exceptions import PermissionDenied

    user = member(tree.own, Role.LIBRARIAN)
    before = item_rows()
    with pytest.raises(PermissionDenied):
        bulk_update_items(
            item_ids=[items["own"][0].pk, items["parent"][0].pk],
            by=user,
            changes={"status": "lost"},
        )
    assert item_rows() == before


def test_change_every_field_with_one_entry_per_changed_item(member_client, tree, items):
    client, user = member_client(Role.LIBRARIAN)
    shelf = Shelf.objects.create(library=tree.own, code="A1")
    first, second = items["own"]
    Item.objects.filter(pk=second.pk).update(item_type="reference", shelf=shelf)
    data = {"status": "in_process", "location": tree.child.pk, "item_type": "reference",
            "shelf": shelf.pk}  # fmt: skip
    response = client.post(bulk_url("change", [first, second]), data)
    assert response.status_code == 302
    for item in (first, second):
        item.refresh_from_db()
        assert (item.status, item.location, item.item_type, item.shelf) == (
            "in_process",
            tree.child,
            "reference",
            shelf,
        )
    # Only the fields that changed are logged, with their values before and after.
    assert bulk_logs() == [
        (
            str(first.pk),
            user.pk,
            {
                "before": {"status": "available", "location": tree.own.pk, "item_type": "book",
                           "shelf": None},
                "after": {"status": "in_process", "location": tree.child.pk,
                          "item_type": "reference", "shelf": shelf.pk},
            },
        ),
        (
            str(second.pk),
            user.pk,
            {
                "before": {"status": "available", "location": tree.own.pk},
                "after": {"status": "in_process", "location": tree.child.pk},
            },
        ),
    ]  # fmt: skip
    # One action, one batch; each entry its own uuid (an object's history shows its latest).
    entries = ModelLogEntry.objects.filter(action=BULK_EDIT_ACTION)
    assert len({entry.data["batch"] for entry in entries}) == 1
    assert len({entry.uuid for entry in entries}) == 2
    # The entry shows in the item's history in the staff area.
    for item, fields in ((first, "item type, current location, shelf, status"),
                         (second, "current location, status")):  # fmt: skip
        history = client.get(reverse("catalog_items:history", args=[item.pk])).content.decode()
        text = " ".join(re.sub(r"<[^>]+>", " ", history).split())
        assert f"Changed with other items: {fields}" in text


def test_an_item_without_a_change_gets_no_entry(member_client, items):
    client, _user = member_client(Role.LIBRARIAN)
    first, second = items["own"]
    Item.objects.filter(pk=second.pk).update(status="damaged")
    client.post(bulk_url("change", [first, second]), {"status": "damaged"})
    assert [pk for pk, _user, _data in bulk_logs()] == [str(first.pk)]


def test_a_shelf_of_another_library_is_refused(member_client, tree, items):
    client, _user = member_client(Role.LIBRARY_ADMIN)
    shelf = Shelf.objects.create(library=tree.child, code="C1")
    before = item_rows()
    response = client.post(bulk_url("change", items["own"]), {"shelf": shelf.pk})
    # The form offers only the shelves of the selected items' libraries.
    assert response.status_code == 200
    assert response.context["form"].errors["shelf"]
    with pytest.raises(CatalogError) as refused:
        bulk_update_items(
            item_ids=[i.pk for i in items["own"]],
            by=member(tree.own, Role.LIBRARIAN),
            changes={"shelf": shelf},
        )
    assert "Shelf C1 belongs to THCSA" in str(refused.value)
    assert item_rows() == before


def test_items_of_two_libraries_can_leave_their_shelves(member_client, tree, items):
    client, _user = member_client(Role.LIBRARIAN)
    own_shelf = Shelf.objects.create(library=tree.own, code="A1")
    child_shelf = Shelf.objects.create(library=tree.child, code="C1")
    Item.objects.filter(pk=items["own"][0].pk).update(shelf=own_shelf)
    Item.objects.filter(pk=items["child"][0].pk).update(shelf=child_shelf)
    chosen = [items["own"][0], items["child"][0]]
    assert client.post(bulk_url("change", chosen), {"shelf": "none"}).status_code == 302
    assert not Item.objects.filter(shelf__isnull=False).exists()


def test_items_in_circulation_keep_status_and_location(member_client, tree, items):
    client, user = member_client(Role.LIBRARIAN)
    lent = items["own"][0]
    lend(lent, PatronFactory(home_library=tree.own), by=user)
    before = item_rows()
    response = client.post(bulk_url("change", items["own"]), {"status": "available"})
    assert response.status_code == 200
    assert lent.barcode in " ".join(response.context["form"].non_field_errors())
    assert item_rows() == before
    # Their item type may still change.
    assert (
        client.post(bulk_url("change", items["own"]), {"item_type": "textbook"}).status_code == 302
    )
    assert Item.objects.get(pk=lent.pk).status == "on_loan"


@pytest.mark.parametrize("data", [{}, {"status": "on_loan"}, {"location": "999999"}])
def test_nothing_to_change_or_a_bad_value_changes_nothing(member_client, items, data):
    client, _user = member_client(Role.LIBRARIAN)
    before = item_rows()
    response = client.post(bulk_url("change", items["own"]), data)
    assert response.status_code == 200
    assert response.context["form"].errors
    assert item_rows() == before


def test_inactive_location_is_refused(member_client, tree, items):
    client, user = member_client(Role.LIBRARIAN)
    closed = Library.objects.create(code="DONG", name="Đã đóng", parent=tree.own, is_active=False)
    before = item_rows()
    with pytest.raises(CatalogError):
        bulk_update_items(
            item_ids=[i.pk for i in items["own"]], by=user, changes={"location": closed}
        )
    assert item_rows() == before


def test_bulk_change_needs_the_csrf_token(tree, items):
    client = Client(enforce_csrf_checks=True)
    client.force_login(member(tree.own, Role.LIBRARIAN))
    before = item_rows()
    assert client.post(bulk_url("change", items["own"]), {"status": "lost"}).status_code == 403
    assert item_rows() == before


def test_item_list_offers_the_bulk_actions(member_client, items):
    client, _user = member_client(Role.LIBRARIAN)
    html = client.get(reverse("catalog_items:index")).content.decode()
    assert f'data-object-id="{items["own"][0].pk}"' in html
    assert f'aria-describedby="item_{items["own"][0].pk}_title"' in html
    assert reverse("wagtail_bulk_action", args=["libraries", "item", "change"]) in html
    assert reverse("wagtail_bulk_action", args=["libraries", "item", "print_labels"]) in html
    assert f'data-object-id="{items["sibling"][0].pk}"' not in html


# --- Labels --------------------------------------------------------------------------------


def test_print_labels_for_the_selection(member_client, items):
    client, _user = member_client(Role.LIBRARIAN)
    chosen = [*items["own"], items["child"][0]]
    response = client.get(bulk_url("print_labels", chosen))
    assert response.status_code == 302
    form = client.get(response["Location"]).context["form"]
    assert form.initial["barcodes"].split("\n") == [item.barcode for item in chosen]
    assert client.get(bulk_url("print_labels", [items["sibling"][0]])).status_code == 403


def test_labels_for_the_items_added_today(member_client, tree):
    client, _user = member_client(Role.LIBRARIAN)
    today = [ItemFactory(library=tree.own) for _ in range(2)]
    yesterday = ItemFactory(library=tree.own)
    Item.objects.filter(pk=yesterday.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=1)
    )
    ItemFactory(library=tree.child)  # another library within reach: not chosen
    response = client.get(reverse("catalog_labels:print"), {"added_today": tree.own.pk})
    assert response.status_code == 200
    assert response.context["form"].initial["barcodes"].split("\n") == [i.barcode for i in today]
    # A library out of reach is not a choice: nothing is filled in.
    ItemFactory(library=tree.sibling)
    response = client.get(reverse("catalog_labels:print"), {"added_today": tree.sibling.pk})
    assert response.context["today_form"].errors["added_today"]
    assert "barcodes" not in response.context["form"].initial
