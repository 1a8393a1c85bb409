import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.management import call_command

from libraries import access
from libraries.models import JoinRequest, Library, Membership, NetworkPage, Role
from libraries.network.demo import ACCOUNTS, LIBRARIES

pytestmark = pytest.mark.django_db


def counts():
    return {
        "libraries": Library.objects.count(),
        "users": get_user_model().objects.count(),
        "memberships": Membership.objects.count(),
        "emails": EmailAddress.objects.count(),
        "join_requests": JoinRequest.objects.count(),
        "network_pages": NetworkPage.objects.count(),
    }


def test_load_demo_twice_gives_the_same_data():
    call_command("load_demo", stdout=None)
    first = counts()
    call_command("load_demo")
    assert counts() == first
    # 8 demo accounts and the 10 students of the demo classes (each with a student
    # membership); `giaovien` also teaches a class at THPTC (one more teacher membership).
    assert first == {
        "libraries": 10,
        "users": 18,
        "memberships": 18,
        "emails": 7,
        "join_requests": 1,
        "network_pages": 1,
    }


def test_demo_network_shape():
    call_command("load_demo")
    codes = {code: parent for code, _name, _kind, parent, _address in LIBRARIES}
    for library in Library.objects.select_related("parent"):
        assert (library.parent.code if library.parent else None) == codes[library.code]
    assert Library.objects.filter(kind="district").count() == 3
    assert Library.objects.filter(kind="school").count() == 6
    assert JoinRequest.objects.get().status == JoinRequest.Status.PENDING


# Logins, roles and pages of each account: tests/test_demo_logins.py, read from README.md.


def test_demo_roles_reach_what_they_should():
    call_command("load_demo")
    User = get_user_model()
    roles = {u: r for u, _n, _e, _c, r in ACCOUNTS}
    assert roles["mang"] == Role.NETWORK_ADMIN
    assert set(access.libraries_administered_by(User.objects.get(username="mang"))) == set(
        Library.objects.all()
    )
    quanly = User.objects.get(username="quanly")
    assert {lib.code for lib in access.libraries_administered_by(quanly)} == {
        "HBT",
        "THCSA",
        "THCSB",
    }
    assert User.objects.get(username="hocsinh").email == ""
    assert User.objects.get(username="admin").is_superuser
