"""Joining the network, end to end: public form, admin decision, invitation, set password."""

import re

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from libraries.models import JoinRequest, Library, Membership, Role
from libraries.network import services as network
from tests.factories import JoinRequestFactory, LibraryFactory, UserFactory, member
from tests.threads import failures, run_together

pytestmark = pytest.mark.django_db


def join_form(tree, **changes):
    data = {
        "school_name": "Trường THCS Nguyễn Du",
        "library_name": "",
        "address": "Xã Hòa Lạc, huyện Hòa Bình",
        "contact_name": "Cô Nguyễn Thị Lan",
        "contact_email": "lan@nguyendu.edu.vn",
        "contact_phone": "0912 345 678",
        "parent": tree.own.pk,
        "message": "",
        "website": "",
    }
    data.update(changes)
    return data


def district_admin(tree):
    return member(tree.own, Role.LIBRARY_ADMIN, username="quanly", email="quanly@example.org")


def test_join_end_to_end(client, tree, mailoutbox, django_capture_on_commit_callbacks):
    admin = district_admin(tree)

    # 1. The school sends the public form.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("libraries:join"), join_form(tree))
    assert response.status_code == 302
    assert response["Location"] == reverse("libraries:join_done")
    join_request = JoinRequest.objects.get()
    assert join_request.status == JoinRequest.Status.PENDING
    assert join_request.parent == tree.own
    assert join_request.normalised_name == "truong thcs nguyen du"
    # The district's admins hear about it.
    assert [m.to for m in mailoutbox] == [["quanly@example.org"]]
    assert f"/admin/network/join-requests/{join_request.pk}/" in mailoutbox[0].body
    mailoutbox.clear()

    # 2. The district admin sees it in the admin and approves it.
    client.force_login(admin)
    response = client.get(reverse("libraries_join_requests:index"))
    assert [r.pk for r in response.context["pending"]] == [join_request.pk]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("libraries_join_requests:approve", args=[join_request.pk]))
    assert response.status_code == 302

    join_request.refresh_from_db()
    library = join_request.library
    assert join_request.status == JoinRequest.Status.APPROVED
    assert join_request.decided_by == admin
    assert library.parent == tree.own
    assert library.kind == Library.Kind.SCHOOL
    assert library.code == "THCSND"
    assert library.name == "Thư viện Trường THCS Nguyễn Du"
    assert library.path == f"{tree.own.path}{library.pk}/"
    contact = Membership.objects.get(library=library, role=Role.LIBRARY_ADMIN).user
    assert contact.email == "lan@nguyendu.edu.vn"
    assert contact.display_name == "Cô Nguyễn Thị Lan"
    assert not contact.has_usable_password()

    # 3. The contact receives an invitation with a working set-password link.
    assert len(mailoutbox) == 1
    invitation = mailoutbox[0]
    assert invitation.to == ["lan@nguyendu.edu.vn"]
    assert "THCSND" in invitation.body
    assert contact.username in invitation.body
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+)", invitation.body)
    assert link, invitation.body

    client.logout()
    response = client.get(link.group(1), follow=True)
    assert response.status_code == 200
    form_url = response.redirect_chain[-1][0] if response.redirect_chain else link.group(1)
    response = client.post(form_url, {"password1": "Sach-hay-2026!", "password2": "Sach-hay-2026!"})
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.check_password("Sach-hay-2026!")

    # 4. They log in with the new password and reach the admin screens of their library.
    response = client.post(
        reverse("account_login"),
        {"login": "lan@nguyendu.edu.vn", "password": "Sach-hay-2026!"},
    )
    assert response.status_code == 302
    response = client.get(reverse("network_libraries:edit", args=[library.pk]))
    assert response.status_code == 200
    response = client.get(reverse("network_libraries:edit", args=[tree.own.pk]))
    assert response.status_code == 404


def test_rejection_emails_the_reason(client, tree, mailoutbox, django_capture_on_commit_callbacks):
    admin = district_admin(tree)
    join_request = JoinRequestFactory(parent=tree.own, contact_email="hieutruong@example.org")
    client.force_login(admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("libraries_join_requests:reject", args=[join_request.pk]),
            {"reason": "Trường chưa có thư viện riêng."},
        )
    assert response.status_code == 302
    join_request.refresh_from_db()
    assert join_request.status == JoinRequest.Status.REJECTED
    assert join_request.reason == "Trường chưa có thư viện riêng."
    assert join_request.decided_by == admin
    assert [m.to for m in mailoutbox] == [["hieutruong@example.org"]]
    assert "Trường chưa có thư viện riêng." in mailoutbox[0].body
    assert Library.objects.count() == 5  # the tree only


def test_duplicate_pending_request_is_refused_with_a_message(client, tree):
    JoinRequestFactory(school_name="Trường THCS Nguyễn Du", parent=tree.own)
    response = client.post(
        reverse("libraries:join"), join_form(tree, school_name="  trường thcs NGUYEN DU ")
    )
    assert response.status_code == 200
    assert "đang chờ xét duyệt" in response.content.decode()
    assert JoinRequest.objects.count() == 1


def test_request_for_an_existing_member_is_refused(client, tree):
    LibraryFactory(name="Thư viện Trường THCS Nguyễn Du", parent=tree.own)
    response = client.post(reverse("libraries:join"), join_form(tree))
    assert response.status_code == 200
    assert "đã là thành viên" in response.content.decode()
    assert not JoinRequest.objects.exists()


def test_same_school_under_another_district_is_a_different_request(client, tree):
    JoinRequestFactory(school_name="Trường THCS Nguyễn Du", parent=tree.sibling)
    response = client.post(reverse("libraries:join"), join_form(tree))
    assert response.status_code == 302
    assert JoinRequest.objects.count() == 2


def test_a_rejected_school_may_ask_again(client, tree):
    JoinRequestFactory(
        school_name="Trường THCS Nguyễn Du", parent=tree.own, status=JoinRequest.Status.REJECTED
    )
    response = client.post(reverse("libraries:join"), join_form(tree))
    assert response.status_code == 302
    assert JoinRequest.objects.filter(status=JoinRequest.Status.PENDING).count() == 1


def test_honeypot_keeps_nothing(client, tree, mailoutbox):
    response = client.post(reverse("libraries:join"), join_form(tree, website="http://spam"))
    assert response.status_code == 302
    assert not JoinRequest.objects.exists()
    assert mailoutbox == []


def test_a_school_cannot_be_chosen_as_parent(client, tree):
    response = client.post(reverse("libraries:join"), join_form(tree, parent=tree.child.pk))
    assert response.status_code == 200
    assert "parent" in response.context["form"].errors
    assert not JoinRequest.objects.exists()


def test_join_form_has_labels_for_every_field(client, tree):
    response = client.get(reverse("libraries:join"))
    html = response.content.decode()
    for field in ["school_name", "address", "contact_name", "contact_email", "contact_phone"]:
        assert f'<label for="id_{field}"' in html
    assert f'<option value="{tree.own.pk}">' in html
    assert f'<option value="{tree.child.pk}">' not in html


# People who may not decide a join request addressed to "own": where they work, as what.
OUTSIDERS = {
    "librarian": ("own", Role.LIBRARIAN),
    "other_district_admin": ("sibling", Role.LIBRARY_ADMIN),
    "teacher": ("own", Role.TEACHER),
    "child_admin": ("child", Role.LIBRARY_ADMIN),
}
by_outsider = pytest.mark.parametrize("who", list(OUTSIDERS))


def outsider(tree, who):
    target, role = OUTSIDERS[who]
    return member(tree.target(target), role)


@by_outsider
def test_forged_approval_is_refused_and_changes_nothing(client, tree, who, mailoutbox):
    join_request = JoinRequestFactory(parent=tree.own)
    client.force_login(outsider(tree, who))
    response = client.post(reverse("libraries_join_requests:approve", args=[join_request.pk]))
    # The librarian is refused outright; an admin elsewhere cannot even find the request; a
    # teacher never passes the admin's door (sent to log in as someone with access).
    expected = {"librarian": 403, "other_district_admin": 404, "child_admin": 404, "teacher": 302}
    assert response.status_code == expected[who]
    join_request.refresh_from_db()
    assert join_request.status == JoinRequest.Status.PENDING
    assert join_request.decided_by is None
    assert Library.objects.count() == 5
    assert mailoutbox == []


@by_outsider
def test_service_refuses_non_admins_of_the_parent(tree, who):
    join_request = JoinRequestFactory(parent=tree.own)
    user = outsider(tree, who)
    with pytest.raises(PermissionDenied):
        network.approve_join_request(request=join_request, by=user)
    with pytest.raises(PermissionDenied):
        network.reject_join_request(request=join_request, by=user, reason="Không")
    join_request.refresh_from_db()
    assert join_request.status == JoinRequest.Status.PENDING


def test_provincial_admin_may_decide_for_a_district(tree):
    boss = member(tree.province, Role.NETWORK_ADMIN)
    join_request = JoinRequestFactory(parent=tree.own, school_name="Trường Tiểu học Kim Đồng")
    decision = network.approve_join_request(request=join_request, by=boss)
    assert decision.library.parent == tree.own
    assert decision.library.code == "THKD"


def test_double_approval_creates_one_library(tree, django_capture_on_commit_callbacks, mailoutbox):
    admin = district_admin(tree)
    join_request = JoinRequestFactory(parent=tree.own)
    with django_capture_on_commit_callbacks(execute=True):
        network.approve_join_request(request=join_request, by=admin)
    stale = JoinRequest.objects.get(pk=join_request.pk)
    stale.status = JoinRequest.Status.PENDING  # as a second click would still see it
    with pytest.raises(network.JoinRequestError):
        network.approve_join_request(request=stale, by=admin)
    assert Library.objects.filter(kind="school").count() == 3
    assert len(mailoutbox) == 1


def test_double_click_in_the_admin_approves_once(client, tree, mailoutbox):
    admin = district_admin(tree)
    join_request = JoinRequestFactory(parent=tree.own)
    client.force_login(admin)
    url = reverse("libraries_join_requests:approve", args=[join_request.pk])
    assert client.post(url).status_code == 302
    response = client.post(url, follow=True)
    assert "đã được quyết định" in response.content.decode()
    assert Library.objects.filter(join_request=join_request).count() == 1
    assert Library.objects.count() == 6


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_approvals_create_one_library():
    """Two admins click Approve at the same moment: the row lock lets one through."""
    province = Library.objects.create(code="TVT", name="Tỉnh", kind="provincial")
    district = Library.objects.create(code="HBT", name="Huyện", kind="district", parent=province)
    admins = [member(district, Role.LIBRARY_ADMIN, username=name) for name in ("a1", "a2")]
    join_request = JoinRequestFactory(parent=district)
    outcomes = run_together(
        [
            lambda admin=admin: network.approve_join_request(
                request=JoinRequest.objects.get(pk=join_request.pk), by=admin
            )
            for admin in admins
        ]
    )
    # One approves; the other finds the request already decided.
    assert [type(error) for error in failures(outcomes)] == [network.JoinRequestError]
    assert Library.objects.filter(kind="school").count() == 1
    assert Membership.objects.filter(role=Role.LIBRARY_ADMIN).count() == 3


def test_contact_with_an_account_is_reused(tree, django_capture_on_commit_callbacks, mailoutbox):
    admin = district_admin(tree)
    existing = UserFactory(username="colan", email="lan@nguyendu.edu.vn")
    join_request = JoinRequestFactory(parent=tree.own, contact_email="LAN@nguyendu.edu.vn")
    with django_capture_on_commit_callbacks(execute=True):
        decision = network.approve_join_request(request=join_request, by=admin)
    assert decision.user == existing
    assert not decision.user_created
    assert Membership.objects.filter(user=existing, role=Role.LIBRARY_ADMIN).count() == 1
    assert "/accounts/password/reset/key/" not in mailoutbox[0].body
    assert "/accounts/login/" in mailoutbox[0].body


@pytest.mark.parametrize(
    ("name", "taken", "expected"),
    [
        ("Trường THCS Nguyễn Du", [], "THCSND"),
        ("Trường THCS Nguyễn Du", ["THCSND"], "THCSND2"),
        ("Trường THCS Nguyễn Du", ["THCSND", "THCSND2"], "THCSND3"),
        ("Trường Tiểu học Đồng Tâm", [], "THDT"),
        ("Trường THPT Lê Quý Đôn", [], "THPTLQD"),
        ("Trường THPT Số 2 Đông Đa", [], "THPT2DD"),
        ("Trường THPT Chuyên Hùng Vương Tỉnh Sông Hồng", [], "THPTCHVT"),
    ],
)
def test_library_code_from_school_name(db, name, taken, expected):
    for code in taken:
        Library.objects.create(code=code, name=code)
    code = network.derive_library_code(name)
    assert code == expected
    Library(code=code, name=name).full_clean(exclude=["parent"])


def test_join_form_is_rate_limited_per_address(client, tree):
    """Five sends an hour from one address (honeypot hits count too); the sixth is refused
    with a message and stores nothing; another address is not affected."""
    for n in range(4):
        response = client.post(
            reverse("libraries:join"), join_form(tree, school_name=f"Trường Tiểu học số {n}")
        )
        assert response.status_code == 302
    client.post(reverse("libraries:join"), join_form(tree, website="http://spam"))
    response = client.post(
        reverse("libraries:join"), join_form(tree, school_name="Trường Tiểu học số 9")
    )
    assert response.status_code == 429
    assert "Quá nhiều yêu cầu" in response.content.decode()
    assert JoinRequest.objects.count() == 4
    response = client.post(
        reverse("libraries:join"),
        join_form(tree, school_name="Trường Tiểu học số 9"),
        REMOTE_ADDR="127.0.0.2",
    )
    assert response.status_code == 302
    assert JoinRequest.objects.count() == 5
