import io

import pytest

from libraries.circulation import demo as demo_circulation
from libraries.models import CirculationRule, Hold, Loan, Patron, Role
from tests.factories import LibraryFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_demo_step_is_idempotent_and_builds_circulation():
    tvt = LibraryFactory(code="TVT", kind="provincial")
    hbt = LibraryFactory(code="HBT", kind="district", parent=tvt)
    school = LibraryFactory(code="THCSA", parent=hbt)
    MembershipFactory(user=UserFactory(username="mang"), library=tvt, role=Role.NETWORK_ADMIN)
    bandoc = UserFactory(username="bandoc")
    out = io.StringIO()
    demo_circulation.load(stdout=out)
    counts = (
        CirculationRule.objects.count(),
        Patron.objects.count(),
        Loan.objects.count(),
        Hold.objects.count(),
    )
    demo_circulation.load(stdout=out)
    assert counts == (
        CirculationRule.objects.count(),
        Patron.objects.count(),
        Loan.objects.count(),
        Hold.objects.count(),
    )
    assert counts == (8, 12, 6, 3)
    assert Loan.objects.overdue().filter(library=school).count() == 1
    assert Patron.objects.get(user=bandoc).home_library == school
    assert Patron.objects.filter(category="child", keep_loan_history=False).count() == 3
