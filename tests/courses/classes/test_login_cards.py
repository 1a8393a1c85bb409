import pytest
from django.urls import reverse
from django.utils import translation

from courses.classes.login_cards import login_cards_pdf
from courses.classes.views import CARDS_SESSION_KEY
from tests.courses.classes.factories import make_class, teacher_at
from tests.pdf_text import page_texts, pdf_fonts, pdf_text

pytestmark = pytest.mark.django_db

NAME = "Nguyễn Thị Hồng Đào"


def test_login_cards_print_vietnamese_names_and_credentials(client, net):
    teacher = teacher_at(net.school)
    class_group = make_class(net.school, teacher, name="6A Sáng")
    client.force_login(teacher)
    client.post(reverse("courses:add_students", args=[class_group.pk]), {"names": NAME})
    [(name, username, password)] = client.session[CARDS_SESSION_KEY % class_group.pk]
    response = client.get(reverse("courses:login_cards", args=[class_group.pk]))
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    assert name == NAME
    assert f"Trường THCS A · 6A Sáng\n{NAME}\n" in text
    assert username in text.split() and password in text.split()
    assert "testserver" in text
    assert pdf_fonts(response.content) == {"DejaVuSans", "DejaVuSans-Bold"}


def card(n: int) -> str:
    return (
        f"Trường THCS A · 6A\nLê Văn Đức {n}\nTên đăng nhập:\nMật khẩu:\n"
        f"ducl{n}\npw{n:04d}\nĐăng nhập tại kb.example\n"
    )


def test_eleven_cards_fill_two_pages_in_vietnamese(net):
    class_group = make_class(net.school, teacher_at(net.school))
    credentials = [(f"Lê Văn Đức {n}", f"ducl{n}", f"pw{n:04d}") for n in range(11)]
    with translation.override("vi"):
        pdf = login_cards_pdf(class_group=class_group, credentials=credentials, site="kb.example")
    assert page_texts(pdf) == ["".join(card(n) for n in range(10)), card(10)]
