"""A learner's own learning: their enrolments (courses/training/progress.py) and
certificates. Only the caller's own rows."""

import datetime

from django.core.paginator import Paginator
from ninja import Router, Schema

from api.v1.errors import PUBLIC_ERRORS, READER_ERRORS
from api.v1.security import READER_AUTH
from courses.models import Audience, Certificate, CoursePage
from courses.training.progress import learning_summary

router = Router(tags=["learning"], auth=READER_AUTH)


class Learning(Schema):
    course_id: int
    course_title: str
    percent: int
    lessons_completed: int
    lessons_total: int
    completed_at: datetime.datetime | None
    resume_lesson_id: int | None
    resume_lesson_title: str | None
    certificate_code: str | None


class CertificateOut(Schema):
    code: str
    course_title: str
    library_name: str
    learner_name: str
    issued_at: datetime.datetime
    valid: bool


class CourseOut(Schema):
    id: int
    title: str
    audience: str
    summary: str
    url: str


class CoursePageOut(Schema):
    count: int
    page: int
    pages: int
    page_size: int
    results: list[CourseOut]


COURSES_PER_PAGE = 20


@router.get(
    "/courses",
    response={200: CoursePageOut, **PUBLIC_ERRORS},
    auth=None,
    summary="Published courses",
)
def courses(request, audience: str = "", page: int = 1):
    """The courses the course list shows everyone: live and public, by title."""
    qs = CoursePage.objects.live().public().order_by("title", "pk")
    if audience in Audience.values:
        qs = qs.filter(audience=audience)
    paginator = Paginator(qs, COURSES_PER_PAGE)
    current = paginator.get_page(min(max(page, 1), max(paginator.num_pages, 1)))
    return {
        "count": paginator.count,
        "page": current.number,
        "pages": paginator.num_pages if paginator.count else 0,
        "page_size": COURSES_PER_PAGE,
        "results": [
            {
                "id": c.pk,
                "title": c.title,
                "audience": c.audience,
                "summary": c.summary,
                "url": c.get_url(request) or "",
            }
            for c in current.object_list
        ],
    }


@router.get("/me/learning", response={200: list[Learning], **READER_ERRORS}, summary="My courses")
def my_learning(request):
    return [
        {
            "course_id": s.course.pk,
            "course_title": s.course.title,
            "percent": s.enrollment.percent,
            "lessons_completed": s.enrollment.lessons_completed,
            "lessons_total": s.enrollment.lessons_total,
            "completed_at": s.enrollment.completed_at,
            "resume_lesson_id": s.resume_lesson.pk if s.resume_lesson else None,
            "resume_lesson_title": s.resume_lesson.title if s.resume_lesson else None,
            "certificate_code": s.certificate.code if s.certificate else None,
        }
        for s in learning_summary(request.auth)
    ]


@router.get(
    "/me/certificates",
    response={200: list[CertificateOut], **READER_ERRORS},
    summary="My certificates",
)
def my_certificates(request):
    certificates = Certificate.objects.filter(user=request.auth).order_by("-issued_at", "pk")
    return [
        {
            "code": c.code,
            "course_title": c.course_title,
            "library_name": c.library_name,
            "learner_name": c.learner_name,
            "issued_at": c.issued_at,
            "valid": c.is_valid,
        }
        for c in certificates
    ]
