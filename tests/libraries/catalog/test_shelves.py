"""Shelves (libraries/catalog/admin.py, ShelfViewSet; the item's shelf): every role x own /
child / sibling / parent library over HTTP, and a shelf of another library never on an item."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from libraries.catalog.services import CatalogError, save_item
from libraries.models import Item, Role, Shelf
from tests.factories import member
from tests.libraries.catalog.factories import ItemFactory
from tests.libraries.conftest import ALL_ROLES, TARGETS

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

STAFF = {Role.NETWORK_ADMIN, Role.LIBRARY_ADMIN, Role.LIBRARIAN}
matrix = pytest.mark.parametrize(
    ("role", "target"),
    [(role, target) for role in ALL_ROLES for target in TARGETS],
    ids=[f"{role or 'anonymous'}-{target}" for role in ALL_ROLES for target in TARGETS],
)


def in_reach(role, target) -> bool:
    return role in STAFF and target in ("own", "child")


def assert_sent_to_login(response):
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def shelf_rows() -> list[tuple]:
    return list(Shelf.objects.order_by("pk").values_list("pk", "library_id", "code", "name"))


@pytest.fixture
def shelves(tree):
    return {
        name: Shelf.objects.create(library=tree.target(name), code=f"K{i}", name=f"Kệ {name}")
        for i, name in enumerate(TARGETS)
    }


@pytest.mark.parametrize("role", ALL_ROLES, ids=[r or "anonymous" for r in ALL_ROLES])
def test_shelf_list_shows_the_libraries_within_reach(member_client, shelves, role):
    client, _user = member_client(role)
    response = client.get(reverse("catalog_shelves:index"))
    if role not in STAFF:
        assert_sent_to_login(response)
        return
    assert response.status_code == 200
    assert {shelf.code for shelf in response.context["object_list"]} == {"K0", "K1"}


@matrix
def test_shelf_create_at_target(member_client, tree, role, target):
    client, _user = member_client(role)
    before = shelf_rows()
    data = {"library": tree.target(target).pk, "code": " a 1 ", "name": "Truyện thiếu nhi"}
    response = client.post(reverse("catalog_shelves:add"), data)
    if role not in STAFF:
        assert_sent_to_login(response)
    elif target in ("own", "child"):
        assert response.status_code == 302
        created = Shelf.objects.get(library=tree.target(target))
        assert (created.code, created.name) == ("A 1", "Truyện thiếu nhi")
        return
    else:
        assert response.status_code == 200
        assert response.context["form"].errors["library"]
    assert shelf_rows() == before


@matrix
def test_shelf_edit_at_target(member_client, shelves, role, target):
    client, _user = member_client(role)
    shelf = shelves[target]
    before = shelf_rows()
    url = reverse("catalog_shelves:edit", args=[shelf.pk])
    response = client.post(url, {"library": shelf.library_id, "code": "Z9", "name": "Đổi tên"})
    if role not in STAFF:
        assert_sent_to_login(response)
    elif in_reach(role, target):
        assert response.status_code == 302
        renamed = [(pk, lib, "Z9", "Đổi tên") if pk == shelf.pk else (pk, lib, code, name)
                   for pk, lib, code, name in before]  # fmt: skip
        assert shelf_rows() == renamed
        return
    else:
        assert response.status_code == 404
    assert shelf_rows() == before


@matrix
def test_shelf_delete_at_target(member_client, shelves, role, target):
    client, _user = member_client(role)
    shelf = shelves[target]
    before = shelf_rows()
    response = client.post(reverse("catalog_shelves:delete", args=[shelf.pk]))
    if role not in STAFF:
        assert_sent_to_login(response)
    elif in_reach(role, target):
        assert response.status_code == 302
        assert shelf_rows() == [row for row in before if row[0] != shelf.pk]
        return
    else:
        assert response.status_code == 404
    assert shelf_rows() == before


def test_a_shelf_cannot_be_moved_to_a_library_out_of_reach(member_client, tree, shelves):
    client, _user = member_client(Role.LIBRARIAN)
    shelf = shelves["own"]
    before = shelf_rows()
    url = reverse("catalog_shelves:edit", args=[shelf.pk])
    response = client.post(url, {"library": tree.sibling.pk, "code": "K0", "name": ""})
    assert response.status_code == 200 and response.context["form"].errors["library"]
    assert shelf_rows() == before


def test_codes_are_unique_per_library(member_client, tree, shelves):
    client, _user = member_client(Role.LIBRARIAN)
    before = shelf_rows()
    response = client.post(
        reverse("catalog_shelves:add"), {"library": tree.own.pk, "code": "k0", "name": ""}
    )
    assert response.status_code == 200
    assert shelf_rows() == before
    # The same code at another library is another shelf.
    response = client.post(
        reverse("catalog_shelves:add"), {"library": tree.child.pk, "code": "K0", "name": ""}
    )
    assert response.status_code == 302


def test_deleting_a_shelf_takes_its_items_off_it(member_client, shelves):
    client, _user = member_client(Role.LIBRARIAN)
    item = ItemFactory(library=shelves["own"].library, shelf=shelves["own"])
    client.post(reverse("catalog_shelves:delete", args=[shelves["own"].pk]))
    item.refresh_from_db()
    assert item.shelf is None and Item.objects.filter(pk=item.pk).exists()


def test_a_counted_shelf_is_kept(member_client, tree, shelves):
    from libraries.stocktake.services import start_stocktake

    client, user = member_client(Role.LIBRARIAN)
    start_stocktake(library=tree.own, shelf=shelves["own"], by=user)
    before = shelf_rows()
    response = client.post(reverse("catalog_shelves:delete", args=[shelves["own"].pk]), follow=True)
    assert response.status_code == 200
    assert "This shelf has stocktakes" in response.content.decode()
    assert shelf_rows() == before


# --- The item's shelf ----------------------------------------------------------------------


def item_form(item, **changes):
    data = {
        "record": item.record_id,
        "library": item.library_id,
        "location": item.location_id,
        "barcode": item.barcode,
        "call_number": item.call_number,
        "shelf": item.shelf_id or "",
        "item_type": item.item_type,
        "status": item.status,
    }
    data.update(changes)
    return data


def test_staff_put_an_item_on_a_shelf_of_its_library(client, tree, shelves):
    client.force_login(member(tree.own, Role.LIBRARIAN))
    item = ItemFactory(library=tree.child)
    form = client.get(reverse("catalog_items:edit", args=[item.pk])).context["form"]
    # Only shelves of libraries within reach are offered.
    assert set(form.fields["shelf"].queryset) == {shelves["own"], shelves["child"]}
    response = client.post(
        reverse("catalog_items:edit", args=[item.pk]), item_form(item, shelf=shelves["child"].pk)
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.shelf == shelves["child"]
    listing = client.get(reverse("catalog_items:index")).content.decode()
    assert "K1 · Kệ child" in listing


@pytest.mark.parametrize("other", ["own", "sibling"])
def test_a_shelf_of_another_library_is_refused_on_an_item(client, tree, shelves, other):
    client.force_login(member(tree.own, Role.NETWORK_ADMIN if other == "sibling" else "librarian"))
    item = ItemFactory(library=tree.child, call_number="895")
    before = Item.objects.filter(pk=item.pk).values().get()
    response = client.post(
        reverse("catalog_items:edit", args=[item.pk]), item_form(item, shelf=shelves[other].pk)
    )
    assert response.status_code == 200
    assert response.context["form"].errors["shelf"]
    assert Item.objects.filter(pk=item.pk).values().get() == before


def test_service_and_model_refuse_a_shelf_of_another_library(tree, shelves):
    user = member(tree.province, Role.NETWORK_ADMIN)
    item = ItemFactory(library=tree.child)
    item.shelf = shelves["own"]
    with pytest.raises(CatalogError):
        save_item(item, by=user)
    with pytest.raises(ValidationError) as refused:
        item.full_clean()
    assert "shelf" in refused.value.message_dict
    assert Item.objects.get(pk=item.pk).shelf is None
