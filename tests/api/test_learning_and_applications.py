"""/me/learning and /me/certificates show the caller's own; card applications go through the
site's form and its per-address limit."""

import pytest

from courses.models import Certificate, Enrollment
from libraries.models import RegistrationRequest
from tests.courses.training.factories import make_course, make_lesson
from training_site.throttle import card_applications

pytestmark = pytest.mark.usefixtures("english")


def test_my_learning_and_certificates_are_only_mine(client, world, token_client):
    course = make_course(title="Kỹ năng số")
    lesson = make_lesson(course, title="Bài 1")
    Enrollment.objects.create(user=world.student, course=course, lessons_total=2,
                              lessons_completed=1)  # fmt: skip
    Enrollment.objects.create(user=world.reader, course=course)
    Certificate.objects.create(user=world.student, course=course, code="KB-ABC-123",
                               learner_name="Học Sinh", course_title="Kỹ năng số")  # fmt: skip
    headers = token_client(world.student)
    learning = client.get("/api/v1/me/learning", **headers)
    assert learning.status_code == 200
    assert learning.json() == [
        {
            "course_id": course.pk,
            "course_title": "Kỹ năng số",
            "percent": 50,
            "lessons_completed": 1,
            "lessons_total": 2,
            "completed_at": None,
            "resume_lesson_id": lesson.pk,
            "resume_lesson_title": "Bài 1",
            "certificate_code": "KB-ABC-123",
        }
    ]
    certificates = client.get("/api/v1/me/certificates", **headers).json()
    assert [(c["code"], c["valid"]) for c in certificates] == [("KB-ABC-123", True)]
    # The reader (enrolled, no certificate) sees no one else's certificate.
    reader = token_client(world.reader)
    assert client.get("/api/v1/me/certificates", **reader).json() == []
    assert client.get("/api/v1/me/certificates").status_code == 401


APPLICATION = {
    "full_name": "Nguyễn Thị Hoa",
    "date_of_birth": "1990-05-01",
    "home_library": "thcsa",
    "address": "Số 1 Phố Huế",
    "phone": "0912345678",
    "consent": True,
}


def test_a_card_application_is_stored_for_staff_to_decide(client, world):
    response = client.post("/api/v1/card-applications", APPLICATION,
                           content_type="application/json")  # fmt: skip
    assert response.status_code == 201
    application = RegistrationRequest.objects.get()
    assert (application.full_name, application.home_library) == ("Nguyễn Thị Hoa", world.a)


def test_an_invalid_application_says_which_fields(client, world):
    response = client.post("/api/v1/card-applications", {**APPLICATION, "consent": False},
                           content_type="application/json")  # fmt: skip
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid"
    assert list(response.json()["error"]["fields"]) == ["consent"]
    assert RegistrationRequest.objects.count() == 0


def test_card_applications_share_the_pages_per_address_limit(client, world):
    for _ in range(card_applications.limit):
        assert client.post("/api/v1/card-applications", APPLICATION,
                           content_type="application/json").status_code == 201  # fmt: skip
    stored = RegistrationRequest.objects.count()
    response = client.post("/api/v1/card-applications", APPLICATION,
                           content_type="application/json")  # fmt: skip
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "rate_limited"
    assert RegistrationRequest.objects.count() == stored


def test_courses_lists_live_public_courses(client, world):
    shown = make_course(title="Kỹ năng số", audience="students", summary="Cơ bản")
    draft = make_course(title="Bản nháp")
    draft.unpublish()
    response = client.get("/api/v1/courses", {"audience": "students"})
    assert response.status_code == 200
    data = response.json()
    assert (data["count"], [c["id"] for c in data["results"]]) == (1, [shown.pk])
    assert data["results"][0]["summary"] == "Cơ bản"
