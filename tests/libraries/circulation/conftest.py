import pytest

from libraries.models import Role
from tests.factories import LibraryFactory, MembershipFactory, UserFactory


@pytest.fixture
def network(db):
    """A district library with two schools below it, and a librarian at each school."""
    district = LibraryFactory(code="HBT", name="Thư viện Hai Bà Trưng", kind="district")
    school_a = LibraryFactory(code="THCSA", name="Thư viện THCS A", parent=district)
    school_b = LibraryFactory(code="THCSB", name="Thư viện THCS B", parent=district)
    librarian_a = UserFactory(username="thuthu_a")
    MembershipFactory(user=librarian_a, library=school_a, role=Role.LIBRARIAN)
    librarian_b = UserFactory(username="thuthu_b")
    MembershipFactory(user=librarian_b, library=school_b, role=Role.LIBRARIAN)
    district_admin = UserFactory(username="quanly_hbt")
    MembershipFactory(user=district_admin, library=district, role=Role.LIBRARY_ADMIN)

    class Network:
        pass

    net = Network()
    net.district, net.a, net.b = district, school_a, school_b
    net.librarian_a, net.librarian_b, net.admin = librarian_a, librarian_b, district_admin
    return net


@pytest.fixture(autouse=True)
def _english(english_site):
    """Assertions read the English source messages; one test checks the Vietnamese ones."""
