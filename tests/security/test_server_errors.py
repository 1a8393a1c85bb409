"""Inputs that used to end in a server error now give a working file or a clear message."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from courses.classes import services as classes
from tests.courses.classes.factories import add_students, make_class, network, teacher_at

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name", ["6A: chiều", "Lớp [A]", "6A*?", "Sáng/Chiều\\Tối"])
def test_class_report_xlsx_of_a_class_named_with_sheet_title_characters(client, name):
    net = network()
    teacher = teacher_at(net.school)
    class_group = make_class(net.school, teacher, name=name)
    add_students(class_group, teacher, "Trần Minh Khoa")
    client.force_login(teacher)
    response = client.get(reverse("courses:class_report_export", args=[class_group.pk, "xlsx"]))
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    assert not set(sheet.title) & set("\\*?:/[]")
    assert [c.value for c in sheet[2]][0] == "Trần Minh Khoa"


def test_login_cards_of_an_archived_class_say_why_and_change_no_password(client):
    net = network()
    teacher = teacher_at(net.school)
    class_group = make_class(net.school, teacher)
    add_students(class_group, teacher, "Lê Thu Hà", "Phạm Văn Nam")
    classes.archive_class(class_group=class_group)
    hashes = dict(
        get_user_model()
        .objects.filter(class_memberships__class_group=class_group)
        .values_list("username", "password")
    )
    client.force_login(teacher)
    with translation.override("vi"):
        response = client.post(
            reverse("courses:login_cards", args=[class_group.pk]),
            HTTP_ACCEPT_LANGUAGE="vi",
            follow=True,
        )
    assert response.redirect_chain == [
        (reverse("courses:class_detail", args=[class_group.pk]), 302)
    ]
    assert [str(m) for m in response.context["messages"]] == [
        "Lớp này đã lưu trữ: hãy in thẻ đăng nhập từ lớp hiện tại của học sinh."
    ]
    assert (
        dict(
            get_user_model()
            .objects.filter(class_memberships__class_group=class_group)
            .values_list("username", "password")
        )
        == hashes
    )
    assert len(hashes) == 2
