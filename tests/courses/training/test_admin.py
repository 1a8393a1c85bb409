import pytest

from courses.models import LessonPage
from tests.courses.training.factories import h5p_block, h5p_package, make_course, make_lesson
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    return client


def test_editor_opens_the_lesson_form_with_h5p_and_quiz_blocks(admin_client):
    course = make_course()
    package = h5p_package(title="Gói trắc nghiệm")
    response = admin_client.get(f"/admin/pages/add/courses/lessonpage/{course.pk}/")
    html = response.content.decode()
    assert response.status_code == 200
    # The H5P block opens the H5P chooser, and that chooser offers the package.
    assert "/admin/h5p-chooser/" in html
    chooser = admin_client.get("/admin/h5p-chooser/")
    assert f'href="/admin/h5p-chooser/chosen/{package.pk}/"' in chooser.json()["html"]


def test_editor_edits_a_lesson_holding_an_h5p_activity(admin_client):
    course = make_course()
    lesson = make_lesson(course, blocks=[h5p_block(pass_mark=70)])
    response = admin_client.get(f"/admin/pages/{lesson.pk}/edit/")
    assert response.status_code == 200


def test_lessons_can_only_be_added_under_courses(admin_client):
    course = make_course()
    lesson = make_lesson(course)
    assert LessonPage.can_create_at(course)
    response = admin_client.get(f"/admin/pages/add/courses/lessonpage/{lesson.pk}/")
    assert response.status_code == 302  # Wagtail refuses the page type there
    assert not LessonPage.can_create_at(lesson)
