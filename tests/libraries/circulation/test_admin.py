import pytest
from django.urls import reverse

from libraries.models import CirculationRule

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
