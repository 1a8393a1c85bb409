import datetime

import pytest
from django.urls import reverse
from wagtail import hooks

from libraries.circulation.admin import CardApplicationViewSet, DeskLinkViewSet
from libraries.models import CirculationRule, Patron, RegistrationRequest, Role
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def rule_data(library, **overrides):
    data = {
        "library": library.pk if library else "",
        "patron_category": "student",
        "item_type": "",
        "loan_days": 21,
        "max_loans": 4,
        "renewals": 1,
        "holds_allowed": "on",
        "fine_per_day": 0,
    }
    data.update(overrides)
    return data


def test_library_admin_sets_rules_for_their_libraries_only(client, network):
    network_wide = CirculationRule.objects.create(loan_days=14)
    theirs = CirculationRule.objects.create(library=network.b, loan_days=10)
    client.force_login(network.admin)
    add = reverse("circulation_rules:add")
    assert client.post(add, rule_data(network.a)).status_code == 302
    assert CirculationRule.objects.get(library=network.a).loan_days == 21
    refused = client.post(add, rule_data(None))
    assert refused.status_code == 200 and "library" in refused.context["form"].errors
    again = client.post(add, rule_data(network.a))
    assert again.status_code == 200 and again.context["form"].non_field_errors()
    assert CirculationRule.objects.count() == 3
    edit_network_wide = reverse("circulation_rules:edit", args=[network_wide.pk])
    client.post(edit_network_wide, rule_data(network.a, loan_days=99))
    network_wide.refresh_from_db()
    assert network_wide.loan_days == 14 and network_wide.library is None
    # theirs (school B) is inside the district admin's reach: editable.
    client.post(
        reverse("circulation_rules:edit", args=[theirs.pk]), rule_data(network.b, loan_days=30)
    )
    theirs.refresh_from_db()
    assert theirs.loan_days == 30


def test_librarian_sees_rules_but_cannot_add(client, network):
    CirculationRule.objects.create(library=network.b, loan_days=10)
    mine = CirculationRule.objects.create(library=network.a, loan_days=12)
    client.force_login(network.librarian_a)
    index = client.get(reverse("circulation_rules:index"))
    assert index.status_code == 200
    assert [r.pk for r in index.context["object_list"]] == [mine.pk]
    client.post(reverse("circulation_rules:add"), rule_data(network.a))
    assert CirculationRule.objects.count() == 2


# --- Reader card applications and the desk link ----------------------------------------------


def test_card_application_screens_keep_their_admin_urls(network):
    application = RegistrationRequest.objects.create(
        full_name="Ứng Viên", date_of_birth=datetime.date(2001, 2, 3), home_library=network.a
    )
    pk = application.pk
    assert reverse("circulation_registrations:index") == "/admin/circulation/applications/"
    assert reverse("circulation_registrations:review", args=[pk]) == (
        f"/admin/circulation/applications/{pk}/"
    )
    assert reverse("circulation_registrations:approve", args=[pk]) == (
        f"/admin/circulation/applications/{pk}/approve/"
    )
    assert reverse("circulation_registrations:reject", args=[pk]) == (
        f"/admin/circulation/applications/{pk}/reject/"
    )


def test_circulation_registers_viewsets_not_admin_urls():
    modules = {fn.__module__ for fn in hooks.get_hooks("register_admin_urls")}
    assert "libraries.circulation.admin" not in modules
    assert "libraries.circulation.admin" in {
        fn.__module__ for fn in hooks.get_hooks("register_admin_viewset")
    }


@pytest.mark.parametrize(
    ("who", "visible"),
    [
        ("librarian", {"desk", "applications", "rules"}),
        ("admin", {"desk", "applications", "rules", "join_requests"}),
    ],
)
def test_admin_menu_shows_circulation_to_staff(client, network, who, visible):
    user = {"librarian": network.librarian_a, "admin": network.admin}[who]
    client.force_login(user)
    content = client.get("/admin/").content.decode()
    urls = {
        "desk": reverse("libraries:desk"),
        "applications": reverse("circulation_registrations:index"),
        "rules": reverse("circulation_rules:index"),
        "join_requests": reverse("libraries_join_requests:index"),
    }
    assert {name for name, url in urls.items() if f'"{url}"' in content} == visible


def test_staff_menu_item_is_hidden_from_non_staff(rf, network):
    teacher = UserFactory()
    MembershipFactory(user=teacher, library=network.a, role=Role.TEACHER)
    desk_item = DeskLinkViewSet().get_menu_item()
    applications_item = CardApplicationViewSet().get_menu_item()
    for user, shown in ((teacher, False), (network.librarian_a, True)):
        request = rf.get("/admin/")
        request.user = user
        assert desk_item.is_shown(request) is shown
        assert applications_item.is_shown(request) is shown
    assert desk_item.url == "/desk/"


def test_librarian_reviews_an_application_and_rejects_it_with_a_reason(
    client, network, mailoutbox, django_capture_on_commit_callbacks
):
    application = RegistrationRequest.objects.create(
        full_name="Ứng Viên C",
        date_of_birth=datetime.date(2015, 9, 1),
        home_library=network.a,
        category="child",
        guardian_name="Phụ Huynh C",
        guardian_contact="ph@example.org",
        guardian_consent=True,
    )
    client.force_login(network.librarian_a)
    page = client.get(reverse("circulation_registrations:review", args=[application.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Ứng Viên C" in html and "Phụ Huynh C" in html and "consent given" in html
    assert "Approve and issue a card" in html
    assert "Reason for rejection (sent to the applicant)" in html
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("circulation_registrations:reject", args=[application.pk]),
            {"reason": "Thiếu xác nhận của nhà trường."},
            follow=True,
        )
    assert response.redirect_chain == [(reverse("circulation_registrations:index"), 302)]
    assert "Application rejected; the applicant is told why." in response.content.decode()
    application.refresh_from_db()
    assert (application.status, application.reason, application.decided_by) == (
        "rejected",
        "Thiếu xác nhận của nhà trường.",
        network.librarian_a,
    )
    assert [m.to for m in mailoutbox] == [["ph@example.org"]]
    assert not Patron.objects.exists()
