"""E-book loans on the library and network dashboards: this month's digital loans and the
distinct readers who made them, per lending library, beside the print loans."""

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from courses.dashboards import reports
from libraries.digital import services as digital
from libraries.models import Role
from tests.courses.classes.factories import network, staff_at
from tests.libraries.catalog.factories import ItemFactory
from tests.libraries.circulation.factories import lend
from tests.libraries.digital import books
from tests.libraries.digital.conftest import add_book, reader_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def lending_scenario():
    """TVT lends the children's book (3 licences) to the whole network; THCSA lends Moby-Dick.

    This month: An (THCSA) borrows the children's book, returns it and borrows it again (2
    loans), Dũng (THCSB) borrows it (1 loan): TVT 3 loans, 2 readers. An borrows Moby-Dick at
    THCSA (1 loan, 1 reader). Bình borrowed Moby-Dick forty days ago (not this month). One
    print loan at THCSA this month. Network: 4 e-book loans by 2 distinct readers (An counts
    once though he borrowed at two libraries).
    """
    net = network()
    children = add_book(net.province, books.CHILDREN, licences=3)
    moby = add_book(net.school, books.MOBY, licences=2)
    an, binh = reader_of(net.school), reader_of(net.school)
    dung = reader_of(net.other_school)
    first = digital.borrow(file=children, by=an.user).loan
    digital.return_loan(loan=first, by=an.user)
    digital.borrow(file=children, by=an.user)
    digital.borrow(file=children, by=dung.user)
    digital.borrow(file=moby, by=an.user)
    long_ago = timezone.now() - timedelta(days=40)
    old = digital.borrow(file=moby, by=binh.user, now=long_ago).loan
    digital.return_loan(loan=old, by=binh.user, now=long_ago + timedelta(days=1))
    librarian = staff_at(net.school, Role.LIBRARIAN)
    lend(ItemFactory(library=net.school), an, by=librarian)
    return net


def test_the_library_dashboard_counts_this_months_e_book_loans_and_readers():
    net = lending_scenario()
    assert reports.library_dashboard(net.province)["digital"] == {
        "loans_this_month": 3,
        "readers": 2,
    }
    school = reports.library_dashboard(net.school)
    assert school["digital"] == {"loans_this_month": 1, "readers": 1}
    assert school["circulation"] == {"loans_this_month": 1, "active_readers": 1}
    assert reports.library_dashboard(net.other_school)["digital"] == {
        "loans_this_month": 0,
        "readers": 0,
    }


def test_the_network_dashboard_counts_print_and_e_book_loans_per_library():
    net = lending_scenario()
    admin = staff_at(net.province, Role.NETWORK_ADMIN)
    dashboard = reports.network_dashboard(admin)
    assert {
        row.code: (row.loans_this_month, row.digital_loans_this_month, row.digital_readers)
        for row in dashboard.rows
    } == {
        "TVT": (0, 3, 2),
        "HBT": (0, 0, 0),
        "THCSA": (1, 1, 1),
        "DDA": (0, 0, 0),
        "THCSB": (0, 0, 0),
    }
    # An borrowed at TVT and THCSA: one reader of the network, not two.
    assert dashboard.loans == {
        "loans_this_month": 1,
        "digital_loans_this_month": 4,
        "digital_readers": 2,
    }
    # A district's view: only its own libraries' loans.
    district = reports.network_dashboard(admin, district=net.district)
    assert {row.code for row in district.rows} == {"HBT", "THCSA"}
    assert district.loans == {
        "loans_this_month": 1,
        "digital_loans_this_month": 1,
        "digital_readers": 1,
    }


def test_the_dashboard_pages_show_the_e_book_figures(client):
    net = lending_scenario()
    client.force_login(staff_at(net.school, Role.LIBRARY_ADMIN))
    page = client.get(reverse("courses:library_dashboard", args=["THCSA"])).content.decode()
    assert '<li data-figure="digital-loans"><strong>1</strong>e-book loans this month</li>' in page
    assert (
        '<li data-figure="digital-readers"><strong>1</strong>e-book readers this month</li>' in page
    )
    client.force_login(staff_at(net.province, Role.NETWORK_ADMIN))
    page = client.get(reverse("courses:network_dashboard")).content.decode()
    assert '<th scope="col">E-book loans this month</th>' in page
    assert "<td>0</td><td>3</td><td>2</td>\n    </tr>" in page  # TVT's row
    assert "<td>1</td><td>4</td><td>2</td></tr></tfoot>" in page


def test_a_school_admin_does_not_reach_another_librarys_e_book_figures(client):
    net = lending_scenario()
    client.force_login(staff_at(net.other_school, Role.LIBRARY_ADMIN))
    response = client.get(reverse("courses:library_dashboard", args=["THCSA"]))
    assert response.status_code == 403
    assert b"e-book loans" not in response.content


def test_the_network_download_carries_the_loan_columns(client):
    net = lending_scenario()
    client.force_login(staff_at(net.province, Role.NETWORK_ADMIN))
    response = client.get(reverse("courses:network_export", args=["csv"]))
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][-3:] == [
        "Loans this month",
        "E-book loans this month",
        "E-book readers this month",
    ]
    tails = {row[0]: row[-3:] for row in rows[1:]}
    assert tails == {
        "TVT": ["0", "3", "2"],
        "HBT": ["0", "0", "0"],
        "THCSA": ["1", "1", "1"],
        "DDA": ["0", "0", "0"],
        "THCSB": ["0", "0", "0"],
    }
