"""Builders for training pages in tests: a course index, courses, lessons with activities."""

import json
import uuid

from courses.models import (
    CourseIndexPage,
    CoursePage,
    GuideIndexPage,
    GuidePage,
    H5PLibrary,
    H5PPackage,
    LessonPage,
)
from libraries.network.demo import ensure_home_page
from training_site.models import HomePage

BASE = "http://testserver"


def home() -> HomePage:
    """The home page; rebuilt after a transactional test flushed the migration's pages."""
    return ensure_home_page()


def course_index() -> CourseIndexPage:
    existing = CourseIndexPage.objects.first()
    if existing:
        return existing
    return home().add_child(instance=CourseIndexPage(title="Khoá học", slug="khoa-hoc"))


def make_course(title="Kỹ năng số", **fields) -> CoursePage:
    fields.setdefault("audience", "students")
    fields.setdefault("slug", f"course-{uuid.uuid4().hex[:8]}")
    return course_index().add_child(instance=CoursePage(title=title, **fields))


def question(text, kind, explanation, choices: dict[str, bool]) -> dict:
    """A quiz question; `choices` maps each choice's text to whether it is correct."""
    return {
        "question": text,
        "kind": kind,
        "explanation": explanation,
        "choices": [{"text": choice, "correct": correct} for choice, correct in choices.items()],
    }


def quiz_block(pass_mark=None, required=True, block_id=None) -> dict:
    """Two questions: Q0 single (answer 1), Q1 multiple (answers 0 and 2)."""
    capital = {"Huế": False, "Hà Nội": True, "Đà Nẵng": False}
    formats = {"EPUB": True, "MP3": False, "PDF": True}
    return {
        "type": "quiz",
        "id": block_id or str(uuid.uuid4()),
        "value": {
            "title": "Kiểm tra nhanh",
            "required": required,
            "pass_mark": pass_mark,
            "questions": [
                question("Thủ đô của Việt Nam là gì?", "single", "Hà Nội là thủ đô.", capital),
                question(
                    "Chọn các định dạng sách điện tử.",
                    "multiple",
                    "EPUB và PDF là định dạng tài liệu.",
                    formats,
                ),
            ],
        },
    }


def h5p_package(title="Trắc nghiệm H5P") -> H5PPackage:
    library, _ = H5PLibrary.objects.get_or_create(
        machine_name="H5P.MultiChoice",
        major_version=1,
        minor_version=16,
        defaults={"runnable": True},
    )
    return H5PPackage.objects.create(title=title, main_library=library, h5p_json={"title": title})


def h5p_block(package=None, pass_mark=None, required=True, block_id=None) -> dict:
    package = package or h5p_package()
    return {
        "type": "h5p",
        "id": block_id or str(uuid.uuid4()),
        "value": {"package": package.pk, "required": required, "pass_mark": pass_mark},
    }


def text_block(text="<p>Nội dung bài học.</p>") -> dict:
    return {"type": "text", "id": str(uuid.uuid4()), "value": text}


def make_lesson(course: CoursePage, title="Bài 1", blocks=None, **fields) -> LessonPage:
    fields.setdefault("slug", f"lesson-{uuid.uuid4().hex[:8]}")
    body = json.dumps(blocks if blocks is not None else [text_block()])
    return course.add_child(instance=LessonPage(title=title, body=body, **fields))


def make_guides():
    index = home().add_child(instance=GuideIndexPage(title="Hướng dẫn", slug="huong-dan"))
    guides = []
    for title, summary in (
        ("Đăng ký thẻ bạn đọc trực tuyến", "Các bước đăng ký thẻ thư viện qua mạng."),
        ("Quét mã vạch tại quầy", "Dùng máy quét mã vạch USB để mượn và trả sách."),
    ):
        body = json.dumps(
            [
                {
                    "type": "step",
                    "id": str(uuid.uuid4()),
                    "value": {"title": "Bước 1", "text": f"<p>{summary}</p>"},
                }
            ]
        )
        guides.append(
            index.add_child(
                instance=GuidePage(title=title, summary=summary, body=body, slug=str(uuid.uuid4()))
            )
        )
    return index, guides


def activity_iri(lesson, block_id) -> str:
    return f"{BASE}/courses/activity/{lesson.pk}/{block_id}"
