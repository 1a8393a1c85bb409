"""The staff item list's bulk actions in a real browser: tick items, change them together."""

import pytest
from playwright.sync_api import expect

from libraries.models import Item, Role
from tests.e2e.steps import page_as
from tests.factories import LibraryFactory, MembershipFactory, UserFactory
from tests.libraries.catalog.factories import ItemFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_tick_two_items_and_mark_them_damaged(browser, live_server):
    school = LibraryFactory(code="THCSA", name="Thư viện THCS A")
    librarian = UserFactory(username="thuthu")
    MembershipFactory(user=librarian, library=school, role=Role.LIBRARIAN)
    first, second, untouched = (ItemFactory(library=school) for _ in range(3))
    page = page_as(browser, live_server, librarian, language="en")
    page.goto(f"{live_server.url}/admin/catalog_items/")
    page.check(f"input[data-object-id='{first.pk}']")
    page.check(f"input[data-object-id='{second.pk}']")
    footer = page.locator("[data-bulk-action-footer]")
    expect(footer).to_be_visible()
    expect(footer.locator("[data-bulk-action-num-objects]")).to_contain_text("2 items selected")
    footer.get_by_role("link", name="Change the selected items").click()
    page.wait_for_url("**/admin/bulk/libraries/item/change/**")
    page.select_option("select[name=status]", "damaged")
    page.get_by_role("button", name="Change the items").click()
    page.wait_for_url(f"{live_server.url}/admin/catalog_items/**")
    expect(page.locator(".messages")).to_contain_text("2 items changed.")
    statuses = dict(Item.objects.values_list("pk", "status"))
    assert statuses == {first.pk: "damaged", second.pk: "damaged", untouched.pk: "available"}
