"""libraries/access.py: who reaches which library, with which roles."""

import datetime

import pytest

from libraries import access
from libraries.models import CirculationRule, JoinRequest, Membership, Role
from tests.factories import JoinRequestFactory, UserFactory
from tests.libraries.circulation.factories import PatronFactory
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


# --- readers seen from a desk (issue 11, part 4) -----------------------------------------------


def reader_at(library, category="adult", years=None, **fields):
    if years is not None:
        today = datetime.date.today()
        fields["date_of_birth"] = today.replace(year=today.year - years, day=min(today.day, 28))
    return PatronFactory(home_library=library, category=category, **fields)


@pytest.mark.parametrize("role", ALL_ROLES, ids=[r or "anonymous" for r in ALL_ROLES])
@pytest.mark.parametrize("visitors_rule", [False, True], ids=["no_rule", "adults_may_visit"])
def test_patron_visible_at_matrix(tree, role, visitors_rule):
    """Staff at HBT work HBT's desk: their own tree's readers are seen; another district's child
    never; another district's adult only where HBT's rule lets adults borrow."""
    if visitors_rule:
        CirculationRule.objects.create(library=tree.own, patron_category="adult", max_loans=2)
    user = user_with(role, tree.own)
    readers = {
        "child_below": reader_at(tree.child, "child"),
        "adult_below": reader_at(tree.child),
        "child_elsewhere": reader_at(tree.cousin, "child"),
        "under_16_elsewhere": reader_at(tree.cousin, "student", years=12),
        "adult_elsewhere": reader_at(tree.cousin),
    }
    staff = role in STAFF
    expected = {
        "child_below": staff,
        "adult_below": staff,
        "child_elsewhere": False,
        "under_16_elsewhere": False,
        "adult_elsewhere": staff and visitors_rule,
    }
    assert {
        name: access.patron_visible_at(user, patron, tree.own) for name, patron in readers.items()
    } == expected
    # A desk the user does not work shows no one, whatever its rules.
    CirculationRule.objects.create(library=tree.sibling, patron_category="adult", max_loans=2)
    assert not any(access.patron_visible_at(user, p, tree.sibling) for p in readers.values())
    assert access.patron_visible_at(user, None, tree.own) is False


def test_is_child_reader_by_category_or_age(db, tree):
    assert access.is_child_reader(reader_at(tree.own, "child"))
    assert access.is_child_reader(reader_at(tree.own, "student", years=15))
    assert not access.is_child_reader(reader_at(tree.own, "student", years=16))
    assert not access.is_child_reader(reader_at(tree.own, "adult"))


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        ([], set()),  # no stored rule: a library serves its own readers only
        ([(None, "", "", 5)], {"student", "teacher", "adult", "staff"}),
        ([(None, "", "", 5), (None, "child", "", 2)], {"student", "teacher", "adult", "staff"}),
        ([(None, "", "", 5), ("own", "adult", "", 0)], {"student", "teacher", "staff"}),
        # The library's own rule wins over a network-wide rule for the category.
        ([(None, "adult", "", 5), ("own", "", "", 0)], set()),
        # Zero loans in general, but books allowed: the adult is a visitor for books.
        ([("own", "adult", "", 0), ("own", "adult", "book", 2)], {"adult"}),
        ([("sibling", "adult", "", 5)], set()),  # another library's rule says nothing here
    ],
)
def test_visiting_categories_follow_the_most_specific_stored_rule(tree, rules, expected):
    for library, category, item_type, max_loans in rules:
        CirculationRule.objects.create(
            library=tree.target(library) if library else None,
            patron_category=category,
            item_type=item_type,
            max_loans=max_loans,
        )
    assert access.visiting_categories(tree.own) == expected


def test_visitor_may_borrow_per_item_type(tree):
    CirculationRule.objects.create(library=tree.own, patron_category="adult", max_loans=0)
    CirculationRule.objects.create(
        library=tree.own, patron_category="adult", item_type="book", max_loans=2
    )
    CirculationRule.objects.create(max_loans=5)
    assert access.visitor_may_borrow(library=tree.own, category="adult", item_type="book")
    assert not access.visitor_may_borrow(library=tree.own, category="adult", item_type="textbook")
    assert access.visitor_may_borrow(library=tree.own, category="teacher", item_type="textbook")
    assert not access.visitor_may_borrow(library=tree.own, category="child", item_type="book")


def test_reader_may_borrow_at_home_above_it_or_as_a_visitor(tree):
    CirculationRule.objects.create(max_loans=5)  # every library takes adult visitors
    child = reader_at(tree.child, "child")
    assert [access.reader_may_borrow_at(child, lib) for lib in tree_libraries(tree)] == [
        True,  # province, above
        True,  # district, above
        False,  # another district
        True,  # home
        False,  # another district's school
    ]
    adult = reader_at(tree.child)
    assert all(access.reader_may_borrow_at(adult, lib) for lib in tree_libraries(tree))
    CirculationRule.objects.all().delete()
    assert not access.reader_may_borrow_at(adult, tree.sibling)


def tree_libraries(tree):
    return [tree.province, tree.own, tree.sibling, tree.child, tree.cousin]


def test_many_readers_at_one_desk_cost_one_query(tree, django_assert_num_queries):
    user = user_with(Role.LIBRARIAN, tree.own)
    readers = [reader_at(tree.cousin) for _ in range(5)] + [reader_at(tree.child, "child")]
    access.memberships_of(user)
    with django_assert_num_queries(1):
        visiting = access.visiting_categories(tree.own)
        seen = [access.patron_visible_at(user, p, tree.own, visiting=visiting) for p in readers]
    assert seen == [False] * 5 + [True]
