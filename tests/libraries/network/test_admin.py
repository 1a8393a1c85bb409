"""Permission matrix of the network's admin screens: every role x own/child/sibling/parent.

The user holds the role at the "own" district library HBT; "child" is a school below it,
"sibling" the neighbouring district, "parent" the provincial library above it.
"""

import pytest
from django.urls import reverse

from libraries.models import JoinRequest, Library, Membership, Role
from tests.factories import JoinRequestFactory, UserFactory, member
from tests.libraries.conftest import ALL_ROLES, TARGETS

ADMINS = {Role.NETWORK_ADMIN, Role.LIBRARY_ADMIN}
NO_ADMIN_ACCESS = {Role.TEACHER, Role.STUDENT, Role.READER, None}

pytestmark = pytest.mark.django_db


def role_id(role):
    return role or "anonymous"


matrix = pytest.mark.parametrize(
    ("role", "target"),
    [(role, target) for role in ALL_ROLES for target in TARGETS],
    ids=[f"{role_id(role)}-{target}" for role in ALL_ROLES for target in TARGETS],
)
by_role = pytest.mark.parametrize("role", ALL_ROLES, ids=[role_id(r) for r in ALL_ROLES])


def assert_sent_to_login(response):
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def change_outcome(role, target):
    """What a change to an object at `target` gives: ok, forbidden, not_found or login."""
    if role in NO_ADMIN_ACCESS:
        return "login"
    if role not in ADMINS:
        return "forbidden"  # the librarian's screen has no change action at all
    return "not_found" if target in ("sibling", "parent") else "ok"


def assert_form_refuses(response, field):
    """The form comes back (200) with an error on `field`."""
    assert response.status_code == 200
    assert response.context["form"].errors[field]


def create_outcome(role, target):
    """What creating an object at `target` gives: ok, invalid (the form refuses the library),
    forbidden or login."""
    if role in NO_ADMIN_ACCESS:
        return "login"
    if role not in ADMINS:
        return "forbidden"
    return "ok" if target in ("own", "child") else "invalid"


def assert_outcome(response, outcome, ok_status, invalid_field=None):
    if outcome == "login":
        assert_sent_to_login(response)
    elif outcome == "not_found":
        assert response.status_code == 404
    elif outcome == "forbidden":
        assert response.status_code == 403
    elif outcome == "invalid":
        assert_form_refuses(response, invalid_field)
    else:
        assert response.status_code == ok_status


def assert_rows_after(outcome, rows, before, changed):
    """An allowed change leaves `rows()` exactly as `changed` (which differs from `before`); a
    refused one leaves them as they were."""
    if outcome == "ok":
        assert changed != before
        assert rows() == changed
    else:
        assert rows() == before


def open_index(client, url_name, role, listing, admins_only=False):
    """Open an admin index as `role`: the objects in its `listing`, or None when it is refused
    as it must be (login for those without admin access, 403 for non-admins if `admins_only`)."""
    response = client.get(reverse(url_name))
    if role in NO_ADMIN_ACCESS:
        assert_sent_to_login(response)
        return None
    if admins_only and role not in ADMINS:
        assert response.status_code == 403
        return None
    assert response.status_code == 200
    return response.context[listing]


def library_rows() -> list[tuple]:
    """Every library as stored, to compare a refused request's before and after."""
    return list(
        Library.objects.order_by("pk").values_list(
            "pk", "code", "name", "kind", "parent_id", "path", "is_active"
        )
    )


def membership_rows() -> list[tuple]:
    rows = Membership.objects.order_by("pk").values_list("pk", "user_id", "library_id", "role")
    return list(rows)


def join_request_row(join_request) -> dict:
    return JoinRequest.objects.filter(pk=join_request.pk).values().get()


def library_post_data(library, **changes):
    data = {
        "code": library.code,
        "kind": library.kind,
        "name": library.name,
        "parent": library.parent_id or "",
        "address": library.address,
        "contact_name": library.contact_name,
        "email": library.email,
        "phone": library.phone,
        "description": library.description,
        "is_active": "on" if library.is_active else "",
    }
    data.update(changes)
    return data


# --- Libraries -----------------------------------------------------------------------------


@by_role
def test_library_index_lists_only_the_subtree(member_client, tree, role):
    client, _user = member_client(role)
    listed = open_index(client, "network_libraries:index", role, "object_list")
    if listed is not None:
        assert {library.code for library in listed} == {"HBT", "THCSA"}


@matrix
def test_library_edit_form(member_client, tree, role, target):
    client, _user = member_client(role)
    library = tree.target(target)
    response = client.get(reverse("network_libraries:edit", args=[library.pk]))
    assert_outcome(response, change_outcome(role, target), 200)


@matrix
def test_library_edit_save(member_client, tree, role, target):
    client, _user = member_client(role)
    library = tree.target(target)
    data = library_post_data(library, name="Tên mới")
    data.pop("parent") if target == "own" else None  # a disabled field is not posted
    before = library_rows()
    response = client.post(reverse("network_libraries:edit", args=[library.pk]), data)
    outcome = change_outcome(role, target)
    assert_outcome(response, outcome, 302)
    # Only the name of this one library changes; its parent, code and path stay.
    renamed = [
        (pk, code, "Tên mới" if pk == library.pk else name, *rest)
        for pk, code, name, *rest in before
    ]
    assert_rows_after(outcome, library_rows, before, renamed)


@matrix
def test_library_create_under_target(member_client, tree, role, target):
    client, _user = member_client(role)
    parent = tree.target(target)
    data = {
        "code": "MOI1",
        "kind": "school",
        "name": "Thư viện mới",
        "parent": parent.pk,
        "is_active": "on",
    }
    before = library_rows()
    response = client.post(reverse("network_libraries:add"), data)
    outcome = create_outcome(role, target)
    assert_outcome(response, outcome, 302, invalid_field="parent")
    if outcome == "ok":
        created = Library.objects.get(code="MOI1")
        assert created.parent == parent
        assert created.path == f"{parent.path}{created.pk}/"
    else:
        assert library_rows() == before


@pytest.mark.parametrize("role", sorted(ADMINS))
def test_only_superuser_creates_a_top_level_library(member_client, tree, role, admin_client):
    client, _user = member_client(role)
    data = {"code": "GOC", "kind": "provincial", "name": "Gốc mới", "parent": "", "is_active": "on"}
    response = client.post(reverse("network_libraries:add"), data)
    assert_form_refuses(response, "parent")
    assert not Library.objects.filter(code="GOC").exists()

    response = admin_client.post(reverse("network_libraries:add"), data)
    assert response.status_code == 302
    assert Library.objects.get(code="GOC").parent is None


def test_admin_cannot_move_own_library_out_of_reach(member_client, tree):
    client, _user = member_client(Role.LIBRARY_ADMIN)
    data = library_post_data(tree.own, parent=tree.sibling.pk)
    response = client.post(reverse("network_libraries:edit", args=[tree.own.pk]), data)
    assert response.status_code == 302  # the parent field is locked: the forged value is ignored
    tree.own.refresh_from_db()
    assert tree.own.parent == tree.province


def test_admin_cannot_move_a_child_below_itself_or_outside(member_client, tree):
    client, _user = member_client(Role.LIBRARY_ADMIN)
    data = library_post_data(tree.child, parent=tree.sibling.pk)
    response = client.post(reverse("network_libraries:edit", args=[tree.child.pk]), data)
    assert_form_refuses(response, "parent")
    tree.child.refresh_from_db()
    assert tree.child.parent == tree.own


@matrix
def test_library_delete(member_client, tree, role, target):
    client, _user = member_client(role)
    library = Library.objects.create(code="XOA", name="Để xóa", parent=tree.target(target))
    before = library_rows()
    response = client.post(reverse("network_libraries:delete", args=[library.pk]))
    if role in NO_ADMIN_ACCESS:
        assert_sent_to_login(response)
    elif target in ("sibling", "parent"):
        assert response.status_code == 404  # the delete screen looks the object up first
    else:
        # Deleting a library is for superusers only (its items and loans hang on it).
        assert response.status_code == 403
    assert library_rows() == before


# --- Memberships ---------------------------------------------------------------------------


@pytest.fixture
def readers(tree):
    """One reader membership at each target library."""
    return {
        name: Membership.objects.create(
            user=UserFactory(username=f"reader_{name}"), library=tree.target(name), role="reader"
        )
        for name in TARGETS
    }


@by_role
def test_membership_index_lists_only_the_subtree(member_client, tree, readers, role):
    client, user = member_client(role)
    listed = open_index(client, "network_memberships:index", role, "object_list")
    if listed is not None:
        assert {m.user.username for m in listed} == {"reader_own", "reader_child", user.username}


@matrix
def test_membership_edit_form(member_client, readers, role, target):
    client, _user = member_client(role)
    response = client.get(reverse("network_memberships:edit", args=[readers[target].pk]))
    assert_outcome(response, change_outcome(role, target), 200)


@matrix
def test_membership_edit_save(member_client, tree, readers, role, target):
    client, _user = member_client(role)
    membership = readers[target]
    data = {"library": membership.library_id, "role": "teacher"}
    before = membership_rows()
    response = client.post(reverse("network_memberships:edit", args=[membership.pk]), data)
    outcome = change_outcome(role, target)
    assert_outcome(response, outcome, 302)
    retitled = [
        (pk, user_id, library_id, "teacher" if pk == membership.pk else role)
        for pk, user_id, library_id, role in before
    ]
    assert_rows_after(outcome, membership_rows, before, retitled)


@matrix
def test_membership_create_at_target(member_client, tree, role, target):
    client, _user = member_client(role)
    newcomer = UserFactory(username="newcomer")
    library = tree.target(target)
    data = {"username": "newcomer", "library": library.pk, "role": "librarian"}
    before = membership_rows()
    response = client.post(reverse("network_memberships:add"), data)
    outcome = create_outcome(role, target)
    assert_outcome(response, outcome, 302, invalid_field="library")
    if outcome == "ok":
        created = Membership.objects.filter(user=newcomer, library=library, role="librarian")
        assert created.count() == 1
    else:
        assert membership_rows() == before


@matrix
def test_membership_delete(member_client, readers, role, target):
    client, _user = member_client(role)
    membership = readers[target]
    before = membership_rows()
    response = client.post(reverse("network_memberships:delete", args=[membership.pk]))
    outcome = change_outcome(role, target)
    if role == Role.LIBRARIAN and target in ("sibling", "parent"):
        outcome = "not_found"  # the delete screen looks the object up before the role check
    assert_outcome(response, outcome, 302)
    remaining = [r for r in before if r[0] != membership.pk]
    assert_rows_after(outcome, membership_rows, before, remaining)


def test_library_admin_cannot_grant_network_admin(member_client, tree):
    client, _user = member_client(Role.LIBRARY_ADMIN)
    UserFactory(username="ambitious")
    data = {"username": "ambitious", "library": tree.child.pk, "role": Role.NETWORK_ADMIN}
    response = client.post(reverse("network_memberships:add"), data)
    assert_form_refuses(response, "role")
    assert not Membership.objects.filter(user__username="ambitious").exists()


def test_library_admin_cannot_change_a_network_admin_below(member_client, tree):
    client, _user = member_client(Role.LIBRARY_ADMIN)
    boss = Membership.objects.create(user=UserFactory(), library=tree.child, role="network_admin")
    before = membership_rows()
    response = client.post(
        reverse("network_memberships:edit", args=[boss.pk]),
        {"library": tree.child.pk, "role": "reader"},
    )
    assert response.status_code == 403
    assert membership_rows() == before


def test_membership_needs_an_existing_account(member_client, tree):
    client, _user = member_client(Role.LIBRARY_ADMIN)
    data = {"username": "nobody-here", "library": tree.child.pk, "role": "reader"}
    response = client.post(reverse("network_memberships:add"), data)
    assert_form_refuses(response, "username")


def test_membership_can_be_given_by_email(member_client, tree):
    from allauth.account.models import EmailAddress

    client, _user = member_client(Role.LIBRARY_ADMIN)
    person = UserFactory(username="cogiao")
    EmailAddress.objects.create(user=person, email="co.giao@example.org", verified=True)
    data = {"username": "Co.Giao@example.org", "library": tree.child.pk, "role": "teacher"}
    response = client.post(reverse("network_memberships:add"), data)
    assert response.status_code == 302
    assert Membership.objects.filter(user=person, library=tree.child, role="teacher").exists()


# --- Join requests -------------------------------------------------------------------------


@pytest.fixture
def requests_by_target(tree):
    return {
        name: JoinRequestFactory(school_name=f"Trường {name}", parent=tree.target(name))
        for name in TARGETS
    }


@by_role
def test_join_request_list_shows_requests_to_administered_libraries(
    member_client, requests_by_target, role
):
    client, _user = member_client(role)
    pending = open_index(client, "libraries_join_requests:index", role, "pending", admins_only=True)
    if pending is not None:
        assert {r.school_name for r in pending} == {"Trường own", "Trường child"}


@matrix
def test_join_request_review_page(member_client, requests_by_target, role, target):
    client, _user = member_client(role)
    join_request = requests_by_target[target]
    response = client.get(reverse("libraries_join_requests:review", args=[join_request.pk]))
    outcome = change_outcome(role, target)
    assert_outcome(response, outcome, 200)


@matrix
def test_join_request_approve(member_client, tree, requests_by_target, role, target, mailoutbox):
    client, _user = member_client(role)
    join_request = requests_by_target[target]
    before, libraries_before = join_request_row(join_request), library_rows()
    memberships_before = membership_rows()
    response = client.post(reverse("libraries_join_requests:approve", args=[join_request.pk]))
    outcome = change_outcome(role, target)
    assert_outcome(response, outcome, 302)
    after = join_request_row(join_request)
    if outcome == "ok":
        assert after["status"] == JoinRequest.Status.APPROVED
        assert Library.objects.get(pk=after["library_id"]).parent == tree.target(target)
        # One library more; the others are untouched.
        assert [r for r in library_rows() if r[0] != after["library_id"]] == libraries_before
        assert len(library_rows()) == len(libraries_before) + 1
    else:
        assert after == before
        assert library_rows() == libraries_before
        assert membership_rows() == memberships_before


@matrix
def test_join_request_reject(member_client, requests_by_target, role, target):
    client, _user = member_client(role)
    join_request = requests_by_target[target]
    before, libraries_before = join_request_row(join_request), library_rows()
    response = client.post(
        reverse("libraries_join_requests:reject", args=[join_request.pk]),
        {"reason": "Chưa đủ điều kiện."},
    )
    outcome = change_outcome(role, target)
    assert_outcome(response, outcome, 302)
    after = join_request_row(join_request)
    if outcome == "ok":
        assert (after["status"], after["reason"]) == ("rejected", "Chưa đủ điều kiện.")
    else:
        assert after == before
    assert library_rows() == libraries_before


def assert_approval_refused(client, join_request, method, status):
    """Approving `join_request` by `method` ("get", "post") answers `status`, storing nothing."""
    before, libraries_before = join_request_row(join_request), library_rows()
    url = reverse("libraries_join_requests:approve", args=[join_request.pk])
    response = getattr(client, method)(url)
    assert response.status_code == status
    assert join_request_row(join_request) == before
    assert library_rows() == libraries_before


def test_approve_by_get_is_refused(member_client, requests_by_target):
    client, _user = member_client(Role.LIBRARY_ADMIN)
    assert_approval_refused(client, requests_by_target["own"], "get", 405)


def test_approve_needs_csrf_token(tree, requests_by_target):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(member(tree.own, Role.LIBRARY_ADMIN))
    assert_approval_refused(client, requests_by_target["own"], "post", 403)


def test_reject_without_reason_changes_nothing(member_client, requests_by_target):
    client, _user = member_client(Role.LIBRARY_ADMIN)
    join_request = requests_by_target["own"]
    before = join_request_row(join_request)
    response = client.post(
        reverse("libraries_join_requests:reject", args=[join_request.pk]), {"reason": " "}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("libraries_join_requests:review", args=[join_request.pk])
    assert join_request_row(join_request) == before


# --- Admin menu ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "visible"),
    [
        (Role.LIBRARY_ADMIN, {"libraries", "memberships", "join_requests"}),
        (Role.LIBRARIAN, {"libraries", "memberships"}),
    ],
)
def test_admin_menu_shows_what_the_role_may_open(member_client, role, visible):
    client, _user = member_client(role)
    response = client.get("/admin/")
    assert response.status_code == 200
    content = response.content.decode()
    urls = {
        "libraries": reverse("network_libraries:index"),
        "memberships": reverse("network_memberships:index"),
        "join_requests": reverse("libraries_join_requests:index"),
    }
    shown = {name for name, url in urls.items() if f'"{url}"' in content}
    assert shown == visible


@pytest.mark.parametrize(
    ("url_name", "query", "expected"),
    [
        ("network_libraries:index", "An Bình", {"THCSA"}),
        ("network_libraries:index", "Đông Đa", set()),  # the sibling is out of reach
        ("network_memberships:index", "reader_child", {"reader_child"}),
        ("network_memberships:index", "reader_sibling", set()),
    ],
)
def test_admin_search_stays_inside_the_subtree(member_client, readers, url_name, query, expected):
    client, _user = member_client(Role.LIBRARY_ADMIN)
    response = client.get(reverse(url_name), {"q": query})
    assert response.status_code == 200
    found = {
        getattr(obj, "code", None) or obj.user.username for obj in response.context["object_list"]
    }
    assert found == expected


def test_library_code_is_fixed_once_created_and_no_new_province(member_client, tree):
    client, _user = member_client(Role.LIBRARY_ADMIN)
    data = library_post_data(tree.child, code="KHAC", name="Tên mới")
    response = client.post(reverse("network_libraries:edit", args=[tree.child.pk]), data)
    assert response.status_code == 302
    tree.child.refresh_from_db()
    assert (tree.child.code, tree.child.name) == ("THCSA", "Tên mới")

    data = {"code": "TINH2", "kind": "provincial", "name": "Tỉnh 2", "parent": tree.own.pk}
    response = client.post(reverse("network_libraries:add"), data)
    assert_form_refuses(response, "kind")
    assert not Library.objects.filter(code="TINH2").exists()


def test_new_library_code_is_uppercased(member_client, tree):
    client, _user = member_client(Role.LIBRARY_ADMIN)
    data = {"code": "thcsz", "kind": "school", "name": "Trường Z", "parent": tree.own.pk}
    response = client.post(reverse("network_libraries:add"), data)
    assert response.status_code == 302
    assert Library.objects.get(name="Trường Z").code == "THCSZ"
