"""libraries/access.py: who reaches which library, with which roles."""

import pytest

from libraries import access
from libraries.models import JoinRequest, Membership, Role
from tests.factories import JoinRequestFactory, UserFactory
from tests.libraries.conftest import ALL_ROLES, TARGETS

pytestmark = pytest.mark.django_db

STAFF = {Role.NETWORK_ADMIN, Role.LIBRARY_ADMIN, Role.LIBRARIAN}
ADMINS = {Role.NETWORK_ADMIN, Role.LIBRARY_ADMIN}


def user_with(role, library):
    if role is None:
        from django.contrib.auth.models import AnonymousUser

        return AnonymousUser()
    user = UserFactory()
    Membership.objects.create(user=user, library=library, role=role)
    return user


@pytest.mark.parametrize("role", ALL_ROLES, ids=[r or "anonymous" for r in ALL_ROLES])
@pytest.mark.parametrize("target", TARGETS)
def test_reach_matrix(tree, role, target):
    user = user_with(role, tree.own)
    library = tree.target(target)
    below = target in ("own", "child")
    assert access.reaches(user, library) == (role in STAFF and below)
    assert access.can_administer(user, library) == (role in ADMINS and below)
    assert (library in access.libraries_visible_to(user)) == (role in STAFF and below)
    assert access.reaches(user, library, roles={role} if role else set()) == (
        role is not None and below
    )


@pytest.mark.parametrize("role", ALL_ROLES, ids=[r or "anonymous" for r in ALL_ROLES])
def test_role_permissions_open_only_staff_screens(tree, role):
    user = user_with(role, tree.own)
    assert user.has_perm("wagtailadmin.access_admin") == (role in STAFF)
    assert user.has_perm("libraries.change_library") == (role in ADMINS)
    assert user.has_perm("libraries.delete_library") is False


def test_inactive_library_grants_nothing(tree):
    user = user_with(Role.LIBRARY_ADMIN, tree.own)
    tree.own.is_active = False
    tree.own.save()
    user = type(user).objects.get(pk=user.pk)  # fresh object, no cached memberships
    assert not access.can_administer(user, tree.child)
    assert not user.has_perm("wagtailadmin.access_admin")


def test_inactive_user_reaches_nothing(tree):
    user = user_with(Role.NETWORK_ADMIN, tree.province)
    user.is_active = False
    assert not access.reaches(user, tree.child)
    assert list(access.libraries_visible_to(user)) == []


def test_superuser_reaches_everything(tree):
    root = UserFactory(is_superuser=True)
    assert set(access.libraries_visible_to(root)) == {
        tree.province,
        tree.own,
        tree.sibling,
        tree.child,
        tree.cousin,
    }
    assert access.roles_user_may_grant(root, tree.province) == list(Role.values)


def test_library_filter_scopes_other_models(tree):
    admin = user_with(Role.LIBRARY_ADMIN, tree.own)
    mine = JoinRequestFactory(parent=tree.own)
    JoinRequestFactory(parent=tree.sibling)
    assert list(JoinRequest.objects.filter(access.library_filter(admin, "parent"))) == [mine]
    assert list(access.scope_join_requests(admin, JoinRequest.objects.all())) == [mine]


@pytest.mark.parametrize(
    ("role", "where", "expected"),
    [
        (Role.NETWORK_ADMIN, "own", list(Role.values)),
        (Role.LIBRARY_ADMIN, "child", [r for r in Role.values if r != Role.NETWORK_ADMIN]),
        (Role.LIBRARY_ADMIN, "sibling", []),
        (Role.LIBRARIAN, "own", []),
        (Role.TEACHER, "own", []),
    ],
)
def test_roles_user_may_grant(tree, role, where, expected):
    user = user_with(role, tree.own)
    assert access.roles_user_may_grant(user, tree.target(where)) == expected


def test_moving_a_library_moves_its_subtree(tree):
    admin = user_with(Role.LIBRARY_ADMIN, tree.sibling)
    tree.own.parent = tree.sibling
    tree.own.save()
    tree.child.refresh_from_db()
    assert tree.child.path == f"{tree.sibling.path}{tree.own.pk}/{tree.child.pk}/"
    assert access.can_administer(admin, tree.child)
