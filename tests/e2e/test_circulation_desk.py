"""The desk and the stocktake page in a real browser, driven by the keyboard like a scanner."""

import pytest
from playwright.sync_api import expect

from libraries.models import Loan, Role, StocktakeScan
from libraries.stocktake import services as inventory
from tests.e2e.steps import page_as
from tests.factories import LibraryFactory, MembershipFactory, UserFactory
from tests.libraries.catalog.factories import ItemFactory
from tests.libraries.circulation.factories import PatronFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def logged_in_page(browser, live_server, user):
    return page_as(browser, live_server, user, viewport=(1024, 768), language="en")


def scan(page, code):
    page.keyboard.type(code)
    page.keyboard.press("Enter")


def test_desk_by_keyboard_only(browser, live_server):
    school = LibraryFactory(code="THCSA", name="Thư viện THCS A")
    librarian = UserFactory(username="thuthu")
    MembershipFactory(user=librarian, library=school, role=Role.LIBRARIAN)
    patron = PatronFactory(home_library=school, full_name="Phạm Minh Châu")
    item = ItemFactory(library=school, record__title="Dế Mèn phiêu lưu ký")
    page = logged_in_page(browser, live_server, librarian)
    page.goto(f"{live_server.url}/desk/")
    status = page.locator("#desk-status")
    assert page.evaluate("document.activeElement.id") == "desk-code"
    scan(page, patron.card_number)
    page.wait_for_selector("#desk-status.success")
    assert "Phạm Minh Châu" in status.text_content()
    scan(page, item.barcode)
    # Locator waits, not wait_for_function: the page's CSP refuses the eval it would need.
    expect(status).to_contain_text("Checked out")
    assert "Dế Mèn phiêu lưu ký" in page.locator("#desk-panel").text_content()
    scan(page, "KHONGCOMA")
    page.wait_for_selector("#desk-status.error")
    assert status.text_content() == "Unknown barcode: KHONGCOMA."
    page.keyboard.press("F3")
    assert page.locator("input[name=mode][value=checkin]").is_checked()
    scan(page, item.barcode)
    expect(status).to_contain_text("Checked in")
    assert page.evaluate("document.activeElement.id") == "desk-code"
    loan = Loan.objects.get()
    assert loan.patron == patron and loan.returned_at is not None


def test_stocktake_queue_survives_a_stalled_connection(browser, live_server):
    school = LibraryFactory(code="THCSB")
    librarian = UserFactory(username="kiemke")
    MembershipFactory(user=librarian, library=school, role=Role.LIBRARIAN)
    items = [ItemFactory(library=school, barcode=f"THCSB{n:05d}") for n in range(3)]
    stocktake = inventory.start_stocktake(library=school, by=librarian)
    page = logged_in_page(browser, live_server, librarian)
    dropped = []

    def flaky(route):
        if not dropped:
            dropped.append(route.request.post_data)
            route.abort("internetdisconnected")
        else:
            route.continue_()

    page.route("**/scan/", flaky)
    page.goto(f"{live_server.url}/stocktake/{stocktake.pk}/")
    for item in items:
        scan(page, item.barcode)
    expect(page.locator("[data-count=found]")).to_have_text("3", timeout=15000)
    assert dropped
    assert list(StocktakeScan.objects.order_by("pk").values_list("barcode", flat=True)) == [
        i.barcode for i in items
    ]
    assert page.evaluate(f"localStorage.getItem('kb-stocktake-{stocktake.pk}')") == "[]"
