import pytest
from django.urls import reverse

from courses.models import Enrollment, LessonProgress
from courses.training.progress import enrol
from tests.courses.training.factories import (
    course_index,
    make_course,
    make_guides,
    make_lesson,
    quiz_block,
    text_block,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_course_page_offers_enrolment_and_lists_lessons(client):
    course = make_course(title="Thư viện điện tử")
    make_lesson(course, title="Bài mở đầu")
    client.force_login(UserFactory())
    response = client.get(course.url)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Bài mở đầu" in html
    assert reverse("courses:enrol", args=[course.pk]) in html


def test_enrol_button_enrols_once(client):
    course = make_course()
    user = UserFactory()
    client.force_login(user)
    url = reverse("courses:enrol", args=[course.pk])
    assert client.post(url).status_code == 302
    assert client.post(url).status_code == 302
    assert Enrollment.objects.filter(user=user, course=course).count() == 1


def test_closed_course_refuses_self_enrolment(client):
    course = make_course(self_enrolment=False)
    user = UserFactory()
    client.force_login(user)
    client.post(reverse("courses:enrol", args=[course.pk]))
    assert not Enrollment.objects.filter(user=user).exists()


def test_lesson_get_marks_viewed_for_enrolled_learner_only(client):
    course = make_course()
    lesson = make_lesson(course, blocks=[text_block(), quiz_block()])
    user, stranger = UserFactory(), UserFactory()
    enrol(user=user, course=course)
    client.force_login(stranger)
    assert client.get(lesson.url).status_code == 200
    assert not LessonProgress.objects.exists()
    client.force_login(user)
    assert client.get(lesson.url).status_code == 200
    progress = LessonProgress.objects.get(user=user, lesson=lesson)
    assert progress.viewed and not progress.completed


def test_quiz_html_never_reveals_correct_answers(client):
    course = make_course()
    lesson = make_lesson(course, blocks=[quiz_block()])
    user = UserFactory()
    enrol(user=user, course=course)
    client.force_login(user)
    html = client.get(lesson.url).content.decode()
    assert "Hà Nội" in html and "EPUB" in html
    assert "correct" not in html.lower().replace("not correct yet", "")
    assert "Hà Nội là thủ đô" not in html  # explanations only after an attempt


def test_lesson_without_activities_completes_on_view_and_course_follows(client):
    course = make_course()
    lesson = make_lesson(course)
    user = UserFactory()
    enrol(user=user, course=course)
    client.force_login(user)
    client.get(lesson.url)
    enrollment = Enrollment.objects.get(user=user, course=course)
    assert enrollment.completed_at is not None
    assert enrollment.percent == 100


def test_tree_rules_keep_lessons_under_courses():
    from courses.models import CourseIndexPage, CoursePage, LessonPage

    assert LessonPage.parent_page_types == ["courses.CoursePage"]
    assert CoursePage.can_create_at(course_index())
    assert not LessonPage.can_create_at(course_index())
    assert CourseIndexPage.parent_page_types == ["training_site.HomePage"]


def test_guide_search_finds_by_words(client):
    index, guides = make_guides()
    response = client.get(index.url, {"q": "mã vạch"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Quét mã vạch tại quầy" in html
    assert "Đăng ký thẻ bạn đọc trực tuyến" not in html


def test_guide_page_is_print_friendly(client):
    _index, guides = make_guides()
    html = client.get(guides[0].url).content.decode()
    # The print button is wired by static/js/site.js (no inline handler under the CSP).
    assert '<button type="button" class="button secondary" data-print>' in html
    assert "js/site.js" in html
    assert "training.css" in html
    assert "Bước 1" in html


def test_my_learning_lists_enrolled_courses_with_resume_link(client):
    course = make_course(title="Khoá A")
    lesson = make_lesson(course, title="Bài A1", blocks=[quiz_block()])
    make_course(title="Khoá B")
    user = UserFactory()
    enrol(user=user, course=course)
    client.force_login(user)
    client.get(lesson.url)
    html = client.get(reverse("courses:my_learning")).content.decode()
    assert "Khoá A" in html and "Khoá B" not in html
    assert lesson.url in html


def test_my_learning_needs_login(client):
    response = client.get(reverse("courses:my_learning"))
    assert response.status_code == 302


def test_h5p_block_plays_its_package_under_the_lesson_activity_iri(client):
    from tests.courses.training.factories import activity_iri, h5p_block

    course = make_course()
    block = h5p_block()
    lesson = make_lesson(course, blocks=[block])
    html = client.get(lesson.url).content.decode()
    assert f'data-xapi-iri="{activity_iri(lesson, block["id"])}"' in html
    assert "data-h5p-player" in html
