import datetime

import pytest
from django.core import mail
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from libraries.models import Hold, Loan, Patron, RegistrationRequest
from tests.factories import UserFactory
from tests.libraries.catalog.factories import ItemFactory
from tests.libraries.circulation.factories import PatronFactory, lend

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def application(library, **overrides):
    data = {
        "full_name": "Nguyễn Văn An",
        "date_of_birth": "1990-04-30",
        "category": "adult",
        "home_library": library.pk,
        "address": "12 Phố Huế, Hà Nội",
        "phone": "0912345678",
        "email": "an@example.org",
        "consent": "on",
        "website": "",
    }
    data.update(overrides)
    return data


def test_registration_creates_a_pending_application(client, network):
    response = client.post(reverse("libraries:register_card"), application(network.a))
    assert response.status_code == 302
    request = RegistrationRequest.objects.get()
    assert (request.full_name, request.status, request.category) == (
        "Nguyễn Văn An",
        "pending",
        "adult",
    )
    assert not Patron.objects.exists()


def test_registration_rejects_bad_input(client, network):
    url = reverse("libraries:register_card")
    cases = [
        ({"full_name": ""}, "full_name"),
        ({"date_of_birth": "không phải ngày"}, "date_of_birth"),
        ({"phone": "", "email": ""}, "phone"),
        ({"email": "not-an-email"}, "email"),
        ({"address": "", "school_class": ""}, "address"),
        ({"home_library": "999999"}, "home_library"),
        ({"consent": ""}, "consent"),
        ({"category": "staff"}, "category"),
        ({"category": "child"}, "category"),
    ]
    for override, field in cases:
        response = client.post(url, application(network.a, **override))
        assert response.status_code == 200, override
        assert field in response.context["form"].errors, override
    assert not RegistrationRequest.objects.exists()


def test_children_need_guardian_consent(client, network):
    url = reverse("libraries:register_card")
    dob = (timezone.localdate() - datetime.timedelta(days=12 * 365)).isoformat()
    response = client.post(url, application(network.a, date_of_birth=dob, category="student"))
    errors = response.context["form"].errors
    assert {"guardian_name", "guardian_contact", "guardian_consent"} <= set(errors)
    ok = client.post(
        url,
        application(
            network.a,
            date_of_birth=dob,
            category="student",
            guardian_name="Nguyễn Thị Mẹ",
            guardian_contact="me@example.org",
            guardian_consent="on",
        ),
    )
    assert ok.status_code == 302
    assert RegistrationRequest.objects.get().category == "child"


def test_honeypot_stores_nothing(client, network):
    response = client.post(
        reverse("libraries:register_card"), application(network.a, website="http://spam")
    )
    assert response.status_code == 302
    assert not RegistrationRequest.objects.exists()


def test_rate_limit_per_ip(client, network):
    url = reverse("libraries:register_card")
    for n in range(5):
        assert client.post(url, application(network.a, full_name=f"Người {n}")).status_code == 302
    blocked = client.post(url, application(network.a, full_name="Người 6"))
    assert blocked.status_code == 429
    assert RegistrationRequest.objects.count() == 5
    other_ip = client.post(url, application(network.a, full_name="Khác"), REMOTE_ADDR="10.0.0.9")
    assert other_ip.status_code == 302


def test_staff_decide_applications_in_the_admin_within_their_reach(
    client, network, django_capture_on_commit_callbacks
):
    mine = RegistrationRequest.objects.create(
        full_name="Ứng Viên A",
        date_of_birth=datetime.date(2000, 1, 1),
        home_library=network.a,
        email="a@example.org",
    )
    theirs = RegistrationRequest.objects.create(
        full_name="Ứng Viên B", date_of_birth=datetime.date(2000, 1, 1), home_library=network.b
    )
    client.force_login(network.librarian_a)
    listing = client.get(reverse("circulation_registrations:index"))
    assert listing.status_code == 200
    assert list(listing.context["requests"]) == [mine]
    url_theirs = reverse("circulation_registrations:approve", args=[theirs.pk])
    assert client.post(url_theirs).status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("circulation_registrations:approve", args=[mine.pk]))
    mine.refresh_from_db()
    assert mine.status == "approved" and mine.patron.card_number == "THCSA-000001"
    assert mail.outbox[0].to == ["a@example.org"]
    assert not Patron.objects.filter(home_library=network.b).exists()


def test_my_loans_renew_and_history(client, network):
    reader = UserFactory()
    patron = PatronFactory(home_library=network.a, user=reader, keep_loan_history=False)
    item = ItemFactory(library=network.a, record__title="Dế Mèn phiêu lưu ký")
    lend(item, patron, by=network.librarian_a)
    client.force_login(reader)
    page = client.get(reverse("libraries:my_loans"))
    assert "Dế Mèn phiêu lưu ký" in page.content.decode()
    assert "Loan history" not in page.content.decode()
    loan = Loan.objects.get()
    response = client.post(reverse("libraries:my_renew", args=[loan.pk]), follow=True)
    assert "Renewed." in response.content.decode()
    assert Loan.objects.get().renewals_count == 1
    stranger = UserFactory()
    client.force_login(stranger)
    assert client.post(reverse("libraries:my_renew", args=[loan.pk])).status_code == 404
    assert client.get(reverse("libraries:my_loans")).status_code == 404


def test_place_hold_from_the_record_page(client, network):
    reader = UserFactory()
    patron = PatronFactory(home_library=network.a, user=reader)
    item = ItemFactory(library=network.b)
    client.force_login(reader)
    url = reverse("libraries:place_hold", args=[item.record.pk])
    response = client.post(url, {"pickup_library": network.a.pk, "next": "/somewhere/"})
    assert response.status_code == 302 and response["Location"] == "/somewhere/"
    hold = Hold.objects.get()
    assert (hold.patron, hold.pickup_library, hold.status) == (patron, network.a, "pending")
    evil = client.post(url, {"pickup_library": network.a.pk, "next": "https://evil.example/"})
    assert evil["Location"] == reverse("libraries:my_loans")
    assert Hold.objects.count() == 1
    client.post(reverse("libraries:my_cancel_hold", args=[hold.pk]))
    hold.refresh_from_db()
    assert hold.status == "cancelled"


def test_hold_form_include_renders_for_a_reader(client, network, rf):
    from django.template.loader import render_to_string

    reader = UserFactory()
    PatronFactory(home_library=network.a, user=reader)
    item = ItemFactory(library=network.a)
    request = rf.get("/catalog/record/1/")
    request.user = reader
    html = render_to_string(
        "libraries/circulation/hold_form.html", {"record": item.record, "user": reader}, request
    )
    assert reverse("libraries:place_hold", args=[item.record.pk]) in html
    assert f'value="{network.a.pk}" selected' in html


def test_reader_card_pdf_for_its_owner_only(client, network):
    reader = UserFactory()
    patron = PatronFactory(home_library=network.a, user=reader, full_name="Lưu Thị Ánh Dương")
    other = PatronFactory(home_library=network.a)
    client.force_login(reader)
    response = client.get(reverse("libraries:card_pdf", args=[patron.pk]))
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert client.get(reverse("libraries:card_pdf", args=[other.pk])).status_code == 404
