"""Every staff change on the libraries side leaves one audit entry with its values before and
after, filed under the library whose staff may read it (libraries/network/audit.py).

Screens are driven over HTTP; desk changes through the services every path calls. A refused
change leaves no entry. Wagtail's own wagtail.create/edit/delete entries are replaced, never
doubled.
"""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from wagtail.models import ModelLogEntry

from libraries.circulation import patrons
from libraries.circulation.services import cancel_hold
from libraries.models import (
    CirculationRule,
    Hold,
    Item,
    JoinRequest,
    Library,
    Membership,
    Patron,
    RegistrationRequest,
    Role,
)
from libraries.network import invitations
from tests.factories import JoinRequestFactory, UserFactory, member
from tests.libraries.catalog.factories import ItemFactory, RecordFactory
from tests.libraries.circulation.factories import PatronFactory, hold, lend

pytestmark = pytest.mark.django_db


def entries() -> list[tuple]:
    """(action, object id, user id, data) of every entry, oldest first."""
    rows = ModelLogEntry.objects.order_by("pk").values_list(
        "action", "object_id", "user_id", "data"
    )
    return [(action, object_id, user_id, data) for action, object_id, user_id, data in rows]


def library_post_data(library, **changes):
    data = {"code": library.code, "kind": library.kind, "name": library.name,
            "parent": library.parent_id or "", "address": library.address,
            "contact_name": library.contact_name, "email": library.email, "phone": library.phone,
            "description": library.description, "is_active": "on"}  # fmt: skip
    data.update(changes)
    return data


# --- Libraries and memberships (Wagtail screens) -----------------------------------------------


def test_library_edit_is_one_entry_with_the_changed_fields(client, tree):
    admin = member(tree.own, Role.LIBRARY_ADMIN)
    client.force_login(admin)
    data = library_post_data(tree.child, name="Tên mới", phone="0999")
    response = client.post(reverse("network_libraries:edit", args=[tree.child.pk]), data)
    assert response.status_code == 302
    assert entries() == [
        ("libraries.library.edit", str(tree.child.pk), admin.pk,
         {"before": {"name": tree.child.name, "phone": ""},
          "after": {"name": "Tên mới", "phone": "0999"}, "library": tree.child.pk}),
    ]  # fmt: skip


def test_library_create_is_logged_under_the_new_library(client, tree):
    admin = member(tree.own, Role.LIBRARY_ADMIN)
    client.force_login(admin)
    data = {"code": "MOI1", "kind": "school", "name": "Thư viện mới", "parent": tree.own.pk,
            "is_active": "on"}  # fmt: skip
    assert client.post(reverse("network_libraries:add"), data).status_code == 302
    created = Library.objects.get(code="MOI1")
    [(action, object_id, user_id, data)] = entries()
    assert (action, object_id, user_id, data["library"]) == (
        "libraries.library.create", str(created.pk), admin.pk, created.pk)  # fmt: skip
    assert data["before"] == {}
    assert {k: data["after"][k] for k in ("code", "name", "parent", "kind", "is_active")} == {
        "code": "MOI1", "name": "Thư viện mới", "parent": tree.own.pk, "kind": "school",
        "is_active": True}  # fmt: skip


@pytest.mark.parametrize("target", ["sibling", "parent"])
def test_a_refused_library_edit_leaves_no_entry(client, tree, target):
    client.force_login(member(tree.own, Role.LIBRARY_ADMIN))
    library = tree.target(target)
    response = client.post(
        reverse("network_libraries:edit", args=[library.pk]),
        library_post_data(library, name="Đổi trộm"),
    )
    assert response.status_code == 404
    assert entries() == []


def test_membership_grant_change_and_remove(client, tree):
    admin = member(tree.own, Role.LIBRARY_ADMIN)
    newcomer = UserFactory(username="newcomer")
    client.force_login(admin)
    data = {"username": "newcomer", "library": tree.child.pk, "role": "librarian"}
    assert client.post(reverse("network_memberships:add"), data).status_code == 302
    membership = Membership.objects.get(user=newcomer)
    edit = {"library": tree.child.pk, "role": "teacher"}
    url = reverse("network_memberships:edit", args=[membership.pk])
    assert client.post(url, edit).status_code == 302
    url = reverse("network_memberships:delete", args=[membership.pk])
    assert client.post(url).status_code == 302
    assert not Membership.objects.filter(user=newcomer).exists()
    pk, library = str(membership.pk), tree.child.pk
    assert entries() == [
        ("libraries.membership.create", pk, admin.pk,
         {"before": {}, "after": {"user": newcomer.pk, "library": library, "role": "librarian"},
          "library": library}),
        ("libraries.membership.edit", pk, admin.pk,
         {"before": {"role": "librarian"}, "after": {"role": "teacher"}, "library": library}),
        ("libraries.membership.delete", pk, admin.pk,
         {"before": {"user": newcomer.pk, "library": library, "role": "teacher"}, "after": {},
          "library": library}),
    ]  # fmt: skip


# --- Join requests and invitations ------------------------------------------------------------


def test_join_request_approval_logs_the_decision_the_library_and_the_role(client, tree):
    admin = member(tree.own, Role.LIBRARY_ADMIN)
    join_request = JoinRequestFactory(parent=tree.own)
    client.force_login(admin)
    response = client.post(reverse("libraries_join_requests:approve", args=[join_request.pk]))
    assert response.status_code == 302
    join_request.refresh_from_db()
    library = join_request.library
    logged = entries()
    assert [(a, o, u) for a, o, u, _d in logged] == [
        ("libraries.join_request.approve", str(join_request.pk), admin.pk),
        ("libraries.library.create", str(library.pk), admin.pk),
        ("libraries.membership.create", str(Membership.objects.get(library=library).pk), admin.pk),
    ]
    decision = logged[0][3]
    assert (decision["before"], decision["after"], decision["library"]) == (
        {"status": "pending"},
        {"status": "approved", "library": library.pk},
        tree.own.pk,
    )
    assert [d["library"] for _a, _o, _u, d in logged[1:]] == [library.pk, library.pk]
    assert len({d["batch"] for _a, _o, _u, d in logged}) == 1


def test_join_request_rejection_is_logged_with_its_reason(client, tree):
    admin = member(tree.own, Role.LIBRARY_ADMIN)
    join_request = JoinRequestFactory(parent=tree.own)
    client.force_login(admin)
    url = reverse("libraries_join_requests:reject", args=[join_request.pk])
    assert client.post(url, {"reason": "Trùng trường."}).status_code == 302
    assert entries() == [
        ("libraries.join_request.reject", str(join_request.pk), admin.pk,
         {"before": {"status": "pending"},
          "after": {"status": "rejected", "reason": "Trùng trường."}, "library": tree.own.pk}),
    ]  # fmt: skip


def test_a_join_request_of_another_district_is_refused_without_entry(client, tree):
    join_request = JoinRequestFactory(parent=tree.sibling)
    client.force_login(member(tree.own, Role.LIBRARY_ADMIN))
    response = client.post(reverse("libraries_join_requests:approve", args=[join_request.pk]))
    assert response.status_code == 404
    assert JoinRequest.objects.get(pk=join_request.pk).status == "pending"
    assert entries() == []


def test_invitation_sent_again_withdrawn_and_accepted(tree, django_capture_on_commit_callbacks):
    admin = member(tree.own, Role.LIBRARY_ADMIN)
    with django_capture_on_commit_callbacks(execute=False):
        first = invitations.invite_member(
            email="moi@example.org", library=tree.child, role=Role.LIBRARIAN, by=admin
        )
        invitations.resend_invitation(invitation=first, by=admin)
        invitations.revoke_invitation(invitation=first, by=admin)
    logged = entries()
    assert [(a, o, u, d["library"]) for a, o, u, d in logged] == [
        ("libraries.invitation.create", str(first.pk), admin.pk, tree.child.pk),
        ("libraries.invitation.resend", str(first.pk), admin.pk, tree.child.pk),
        ("libraries.invitation.revoke", str(first.pk), admin.pk, tree.child.pk),
    ]
    assert logged[0][3]["after"]["email"] == "moi@example.org"
    assert "secret_hash" not in logged[0][3]["after"]
    assert (logged[2][3]["before"], logged[2][3]["after"]) == (
        {"status": "pending"}, {"status": "revoked"})  # fmt: skip


# --- Reader cards and applications ------------------------------------------------------------

PERSONAL = ("Bé Na", "2016-05-04", "Số 1 ngõ Trẻ Em", "0911", "phuhuynh@example.org")


def assert_no_personal_data():
    for entry in ModelLogEntry.objects.all():
        text = f"{entry.label} {entry.data}"
        for value in PERSONAL:
            assert value not in text, (value, entry.action)


def test_a_childs_card_entries_name_the_card_only(tree):
    librarian = member(tree.child, Role.LIBRARIAN)
    card = patrons.create_card(
        by=librarian, home_library=tree.child, full_name="Bé Na", category="child",
        date_of_birth=datetime.date(2016, 5, 4), address="Số 1 ngõ Trẻ Em", phone="0911",
        guardian_name="Mẹ Na", guardian_contact="phuhuynh@example.org",
    )  # fmt: skip
    patrons.set_card_status(patron_id=card.pk, by=librarian, blocked=True, reason="Mất thẻ")
    patrons.set_card_status(patron_id=card.pk, by=librarian, blocked=False)
    patrons.renew_card(patron_id=card.pk, by=librarian)
    reader = UserFactory(username="bena")
    patrons.link_account(patron_id=card.pk, by=librarian, login="bena")
    logged = entries()
    assert [(a, o, u, d["library"]) for a, o, u, d in logged] == [
        (action, str(card.pk), librarian.pk, tree.child.pk)
        for action in ("libraries.card.create", "libraries.card.block", "libraries.card.unblock",
                       "libraries.card.renew", "libraries.card.link")
    ]  # fmt: skip
    assert set(logged[0][3]["after"]) == {"card_number", "home_library", "category", "status",
                                          "blocked_reason", "expires_on", "user"}  # fmt: skip
    assert (logged[1][3]["before"], logged[1][3]["after"]) == (
        {"status": "active", "blocked_reason": ""},
        {"status": "blocked", "blocked_reason": "Mất thẻ"},
    )
    assert logged[4][3]["after"] == {"user": reader.pk}
    assert {entry.label for entry in ModelLogEntry.objects.all()} == {card.card_number}
    assert_no_personal_data()


def application(tree, **fields):
    return RegistrationRequest.objects.create(
        full_name="Bé Na", date_of_birth=datetime.date(2016, 5, 4), home_library=tree.child,
        category="child", address="Số 1 ngõ Trẻ Em", phone="0911", guardian_name="Mẹ Na",
        guardian_contact="phuhuynh@example.org", guardian_consent=True, **fields,
    )  # fmt: skip


def test_card_application_decisions_over_http(client, tree, django_capture_on_commit_callbacks):
    librarian = member(tree.child, Role.LIBRARIAN)
    approved, rejected = application(tree), application(tree)
    client.force_login(librarian)
    with django_capture_on_commit_callbacks(execute=False):
        url = reverse("circulation_registrations:approve", args=[approved.pk])
        assert client.post(url).status_code == 302
        url = reverse("circulation_registrations:reject", args=[rejected.pk])
        assert client.post(url, {"reason": "Thiếu chữ ký"}).status_code == 302
    card = Patron.objects.get()
    assert entries() == [
        ("libraries.card_application.approve", str(approved.pk), librarian.pk,
         {"before": {"status": "pending", "patron": None},
          "after": {"status": "approved", "patron": card.pk}, "library": tree.child.pk}),
        ("libraries.card.create", str(card.pk), librarian.pk,
         {"before": {}, "after": {"card_number": card.card_number, "home_library": tree.child.pk,
                                  "category": "child", "status": "active", "blocked_reason": "",
                                  "expires_on": card.expires_on.isoformat(), "user": None},
          "library": tree.child.pk}),
        ("libraries.card_application.reject", str(rejected.pk), librarian.pk,
         {"before": {"status": "pending"}, "after": {"status": "rejected"},
          "library": tree.child.pk}),
    ]  # fmt: skip
    assert_no_personal_data()


def test_a_refused_card_decision_leaves_no_entry(client, tree):
    pending = application(tree)
    client.force_login(member(tree.sibling, Role.LIBRARY_ADMIN))
    url = reverse("circulation_registrations:approve", args=[pending.pk])
    assert client.post(url).status_code == 404
    assert RegistrationRequest.objects.get(pk=pending.pk).status == "pending"
    assert entries() == []


def test_staff_cancelling_a_readers_hold_is_logged_the_reader_cancelling_is_not(tree):
    librarian = member(tree.child, Role.LIBRARIAN)
    item = ItemFactory(library=tree.child)
    reader_account = UserFactory()
    reader = PatronFactory(home_library=tree.child, user=reader_account)
    ItemFactory(record=item.record, library=tree.child)
    lent_to = PatronFactory(home_library=tree.child)
    lend(item, lent_to, by=librarian)
    first = hold(item, reader, by=reader_account).hold
    cancel_hold(hold_id=first.pk, by=reader_account)
    assert entries() == []
    second = hold(item, reader, by=reader_account).hold
    cancel_hold(hold_id=second.pk, by=librarian)
    assert Hold.objects.get(pk=second.pk).status == "cancelled"
    assert entries() == [
        ("libraries.hold.cancel", str(second.pk), librarian.pk,
         {"before": {"status": second.status}, "after": {"status": "cancelled"},
          "library": tree.child.pk}),
    ]  # fmt: skip
    assert ModelLogEntry.objects.get().label == f"{reader.card_number} #{second.pk}"


# --- Catalog and circulation rules --------------------------------------------------------------


def item_post_data(item, **changes):
    data = {"record": item.record_id, "library": item.library_id, "location": item.location_id,
            "barcode": item.barcode, "call_number": item.call_number, "shelf": "",
            "item_type": item.item_type, "status": item.status, "acquired_on": "",
            "price": "", "notes": item.notes}  # fmt: skip
    data.update(changes)
    return data


def test_item_create_edit_and_delete_are_one_entry_each(client, tree):
    librarian = member(tree.child, Role.LIBRARIAN)
    record = RecordFactory()
    client.force_login(librarian)
    data = {"record": record.pk, "library": tree.child.pk, "location": "", "barcode": "",
            "call_number": "", "shelf": "", "item_type": "book", "status": "available",
            "acquired_on": "", "price": "", "notes": ""}  # fmt: skip
    assert client.post(reverse("catalog_items:add"), data).status_code == 302
    item = Item.objects.get()
    edit = item_post_data(item, status="damaged", notes="Rách bìa")
    assert client.post(reverse("catalog_items:edit", args=[item.pk]), edit).status_code == 302
    assert client.post(reverse("catalog_items:delete", args=[item.pk])).status_code == 302
    logged = entries()
    assert [(a, o, u, d["library"]) for a, o, u, d in logged] == [
        (action, str(item.pk), librarian.pk, tree.child.pk)
        for action in ("libraries.item.create", "libraries.item.edit", "libraries.item.delete")
    ]
    assert logged[0][3]["after"]["barcode"] == item.barcode
    assert (logged[1][3]["before"], logged[1][3]["after"]) == (
        {"status": "available", "notes": ""},
        {"status": "damaged", "notes": "Rách bìa"},
    )
    assert logged[2][3]["before"]["status"] == "damaged" and logged[2][3]["after"] == {}


def test_an_item_of_another_library_is_refused_without_entry(client, tree):
    item = ItemFactory(library=tree.sibling)
    client.force_login(member(tree.own, Role.LIBRARIAN))
    edit = item_post_data(item, status="lost")
    for response in (
        client.post(reverse("catalog_items:edit", args=[item.pk]), edit),
        client.post(reverse("catalog_items:delete", args=[item.pk])),
    ):
        assert (response.status_code, response["Location"]) == (302, "/admin/")  # Wagtail's refusal
    assert Item.objects.get(pk=item.pk).status == "available"
    assert entries() == []


def test_record_edit_is_filed_under_the_editors_library(client, tree):
    librarian = member(tree.child, Role.LIBRARIAN)
    record = RecordFactory(title="Cũ")
    client.force_login(librarian)
    data = {"title": "Mới", "subtitle": "", "authors": record.authors, "publisher": "",
            "place": "", "year": record.year, "isbn": "", "language": record.language,
            "subjects": "", "call_number": "", "summary": ""}  # fmt: skip
    response = client.post(reverse("catalog_records:edit", args=[record.pk]), data)
    assert response.status_code == 302
    assert entries() == [
        ("libraries.record.edit", str(record.pk), librarian.pk,
         {"before": {"title": "Cũ"}, "after": {"title": "Mới"}, "library": tree.child.pk}),
    ]  # fmt: skip


def rule_data(library, **overrides):
    data = {"library": library.pk, "patron_category": "student", "item_type": "",
            "loan_days": 21, "max_loans": 4, "renewals": 1, "holds_allowed": "on",
            "fine_per_day": 0}  # fmt: skip
    data.update(overrides)
    return data


def test_circulation_rule_changes(client, tree):
    admin = member(tree.own, Role.LIBRARY_ADMIN)
    client.force_login(admin)
    assert client.post(reverse("circulation_rules:add"), rule_data(tree.child)).status_code == 302
    rule = CirculationRule.objects.get()
    url = reverse("circulation_rules:edit", args=[rule.pk])
    assert client.post(url, rule_data(tree.child, max_loans=6)).status_code == 302
    assert client.post(reverse("circulation_rules:delete", args=[rule.pk])).status_code == 302
    logged = entries()
    assert [(a, o, u, d["library"]) for a, o, u, d in logged] == [
        (action, str(rule.pk), admin.pk, tree.child.pk)
        for action in ("libraries.rule.create", "libraries.rule.edit", "libraries.rule.delete")
    ]
    assert (logged[1][3]["before"], logged[1][3]["after"]) == ({"max_loans": 4}, {"max_loans": 6})


def test_no_wagtail_entry_doubles_an_audited_change(client, tree):
    admin = member(tree.own, Role.LIBRARY_ADMIN)
    client.force_login(admin)
    client.post(reverse("network_libraries:edit", args=[tree.child.pk]),
                library_post_data(tree.child, name="Khác"))  # fmt: skip
    client.post(reverse("circulation_rules:add"), rule_data(tree.child))
    client.post(reverse("catalog_shelves:add"), {"library": tree.child.pk, "code": "A1",
                                                 "name": "Kệ A1"})  # fmt: skip
    actions = [action for action, *_rest in entries()]
    assert actions == ["libraries.library.edit", "libraries.rule.create", "libraries.shelf.create"]


def test_messages_show_the_values_before_and_after(client, tree, english):
    admin = member(tree.own, Role.LIBRARY_ADMIN)
    client.force_login(admin)
    client.post(reverse("circulation_rules:add"), rule_data(tree.child))
    rule = CirculationRule.objects.get()
    client.post(
        reverse("circulation_rules:edit", args=[rule.pk]), rule_data(tree.child, max_loans=6)
    )
    page = client.get(reverse("circulation_rules:history", args=[rule.pk])).content.decode()
    text = " ".join(re.sub(r"<[^>]+>", " ", page).split())
    assert "Circulation rule changed: maximum loans: 4 → 6" in text


def test_renewing_an_expired_card(tree):
    """Dates of a card are stored as ISO text and compare equal after a round trip."""
    librarian = member(tree.child, Role.LIBRARIAN)
    card = PatronFactory(home_library=tree.child,
                         expires_on=timezone.localdate() - datetime.timedelta(days=3),
                         status="expired")  # fmt: skip
    patrons.renew_card(patron_id=card.pk, by=librarian)
    card.refresh_from_db()
    [(_a, _o, _u, data)] = entries()
    assert data["after"] == {"status": "active", "expires_on": card.expires_on.isoformat()}
