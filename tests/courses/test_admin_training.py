import pytest

from courses.models import LessonPage
from tests.courses.training_factories import h5p_block, h5p_package, make_course, make_lesson
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
    # The H5P block's select (in the JSON block definition) offers the package.
    option = f"option value=\\&quot;{package.pk}\\&quot;&gt;G\\u00f3i tr\\u1eafc nghi\\u1ec7m"
    assert option in html


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
