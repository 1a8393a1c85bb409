import pytest

from libraries.models import Library, Membership, Role
from tests.factories import LibraryFactory, UserFactory

STAFF_ROLE_VALUES = [Role.NETWORK_ADMIN, Role.LIBRARY_ADMIN, Role.LIBRARIAN]
ALL_ROLES = [*Role.values, None]  # None: an anonymous visitor
TARGETS = ["own", "child", "sibling", "parent"]


class Tree:
    """TVT (provincial) > HBT (district, "own") > THCSA (school, "child"); DDA is the sibling."""

    def __init__(self):
        self.province = LibraryFactory(code="TVT", name="Thư viện tỉnh", kind="provincial")
        self.own = LibraryFactory(
            code="HBT", name="Thư viện huyện Hòa Bình", kind="district", parent=self.province
        )
        self.sibling = LibraryFactory(
            code="DDA", name="Thư viện huyện Đông Đa", kind="district", parent=self.province
        )
        self.child = LibraryFactory(
            code="THCSA", name="Thư viện THCS An Bình", kind="school", parent=self.own
        )
        self.cousin = LibraryFactory(
            code="THPTC", name="Thư viện THPT Chu Văn An", kind="school", parent=self.sibling
        )

    def target(self, name: str) -> Library:
        return {
            "own": self.own,
            "child": self.child,
            "sibling": self.sibling,
            "parent": self.province,
        }[name]


@pytest.fixture
def tree(db):
    return Tree()


@pytest.fixture
def member_client(client, tree):
    """Log in a fresh user holding `role` at the "own" library (None: stay anonymous)."""

    def make(role):
        if role is None:
            return client, None
        user = UserFactory()
        Membership.objects.create(user=user, library=tree.own, role=role)
        client.force_login(user)
        return client, user

    return make
