"""Downloads of personal data (courses/dashboards/exports.py): one audit entry per download,
on the library whose people or figures the file holds, with its number of rows; a refused or
unknown download writes nothing."""

import csv
import io

import pytest
from django.urls import reverse

from courses.classes.services import EXPORT_ACTION
from libraries.models import Library, Role
from tests.courses.audit.support import entries_since, mark, rows_since
from tests.courses.classes.factories import class_with_students, staff_at, teacher_at

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_class_report_download_is_logged_with_its_rows(client, net, fmt):
    teacher, class_group, _students = class_with_students(net.school, "An", "Bình", "Cúc")
    client.force_login(teacher)
    marker = mark()
    response = client.get(reverse("courses:class_report_export", args=[class_group.pk, fmt]))
    assert response.status_code == 200
    if fmt == "csv":
        assert len(csv_rows(response)) == 1 + 3
    assert rows_since(marker) == [
        (EXPORT_ACTION, teacher.pk, Library, net.school.pk,
         {"library": net.school.pk, "export": "class_report", "rows": 3}),
    ]  # fmt: skip


def test_a_school_librarian_download_is_logged_as_theirs(client, net):
    _teacher, class_group, _students = class_with_students(net.school, "An")
    librarian = staff_at(net.school, Role.LIBRARIAN)
    client.force_login(librarian)
    marker = mark()
    url = reverse("courses:class_report_export", args=[class_group.pk, "csv"])
    assert client.get(url).status_code == 200
    assert rows_since(marker) == [
        (EXPORT_ACTION, librarian.pk, Library, net.school.pk,
         {"library": net.school.pk, "export": "class_report", "rows": 1}),
    ]  # fmt: skip


@pytest.mark.parametrize("who", ["other_teacher", "district_admin"])
def test_a_refused_class_report_download_writes_nothing(client, net, who):
    _teacher, class_group, _students = class_with_students(net.school, "An")
    user = {
        "other_teacher": lambda: teacher_at(net.other_school),
        "district_admin": lambda: staff_at(net.district),  # counts only, never names
    }[who]()
    client.force_login(user)
    marker = mark()
    url = reverse("courses:class_report_export", args=[class_group.pk, "csv"])
    assert client.get(url).status_code == 403
    assert entries_since(marker) == []


def test_an_unknown_format_downloads_and_logs_nothing(client, net):
    teacher, class_group, _students = class_with_students(net.school, "An")
    client.force_login(teacher)
    marker = mark()
    url = reverse("courses:class_report_export", args=[class_group.pk, "pdf"])
    assert client.get(url).status_code == 404
    assert entries_since(marker) == []


def test_the_network_table_download_is_logged_on_the_admins_library(client, net):
    class_with_students(net.school, "An")
    admin = staff_at(net.province, Role.NETWORK_ADMIN)
    client.force_login(admin)
    marker = mark()
    response = client.get(reverse("courses:network_export", args=["csv"]))
    assert response.status_code == 200
    libraries = len(csv_rows(response)) - 1
    assert libraries == Library.objects.filter(is_active=True).count() == 5
    assert rows_since(marker) == [
        (EXPORT_ACTION, admin.pk, Library, net.province.pk,
         {"library": net.province.pk, "export": "network_dashboard", "rows": 5}),
    ]  # fmt: skip


def test_a_district_table_download_is_logged_on_the_district(client, net):
    admin = staff_at(net.district)
    client.force_login(admin)
    marker = mark()
    response = client.get(reverse("courses:network_export", args=["csv"]))
    assert response.status_code == 200
    assert len(csv_rows(response)) - 1 == 2  # the district and its school
    assert rows_since(marker) == [
        (EXPORT_ACTION, admin.pk, Library, net.district.pk,
         {"library": net.district.pk, "export": "network_dashboard", "rows": 2}),
    ]  # fmt: skip


def test_a_network_table_download_filtered_by_district_is_logged_on_it(client, net):
    admin = staff_at(net.province, Role.NETWORK_ADMIN)
    client.force_login(admin)
    marker = mark()
    url = reverse("courses:network_export", args=["csv"])
    response = client.get(url, {"district": net.other_district.pk})
    assert response.status_code == 200
    rows = len(csv_rows(response)) - 1
    assert rows_since(marker) == [
        (EXPORT_ACTION, admin.pk, Library, net.other_district.pk,
         {"library": net.other_district.pk, "export": "network_dashboard", "rows": rows}),
    ]  # fmt: skip


@pytest.mark.parametrize("role", [Role.LIBRARIAN, Role.TEACHER])
def test_a_refused_network_download_writes_nothing(client, net, role):
    client.force_login(staff_at(net.school, role))
    marker = mark()
    assert client.get(reverse("courses:network_export", args=["csv"])).status_code == 403
    assert entries_since(marker) == []
