"""The courses' audit actions are registered (courses/wagtail_hooks.py) with a readable label
and message, in Vietnamese by default and in English."""

import pytest
from django.utils import translation
from wagtail.log_actions import registry

from courses.classes import services as classes
from courses.classes.services import EXPORT_ACTION
from courses.h5p import storage
from courses.h5p.validation import validate_package
from courses.training.certificates import CERTIFICATE_REVOKE_ACTION
from courses.training.progress import ENROLMENT_CREATE_ACTION
from tests.courses.audit.support import entries_since, mark
from tests.courses.classes.factories import class_with_students, make_class
from tests.courses.h5p.support import fixture

pytestmark = pytest.mark.django_db

ACTIONS = [
    storage.LIBRARY_INSTALL_ACTION,
    storage.LIBRARY_UPGRADE_ACTION,
    storage.PACKAGE_UPLOAD_ACTION,
    storage.PACKAGE_EDIT_ACTION,
    storage.PACKAGE_CONTENT_ACTION,
    storage.PACKAGE_DELETE_ACTION,
    classes.CLASS_CREATE_ACTION,
    classes.CLASS_ARCHIVE_ACTION,
    classes.CLASS_REASSIGN_ACTION,
    classes.STUDENT_CREATE_ACTION,
    classes.STUDENT_ADD_ACTION,
    classes.STUDENT_MOVE_ACTION,
    classes.STUDENT_RESET_ACTION,
    classes.ASSIGNMENT_CREATE_ACTION,
    ENROLMENT_CREATE_ACTION,
    CERTIFICATE_REVOKE_ACTION,
    EXPORT_ACTION,
]


def test_every_action_has_a_translated_label():
    assert len(set(ACTIONS)) == 17
    for action in ACTIONS:
        assert registry.action_exists(action), action
        with translation.override("en"):
            english = str(registry.get_action_label(action))
        with translation.override("vi"):
            vietnamese = str(registry.get_action_label(action))
        assert english and vietnamese and english != vietnamese, action


def message(entry, language):
    with translation.override(language):
        return str(registry.get_formatter(entry).format_message(entry))


def test_messages_read_the_entry_data(net):
    teacher, six_a, _students = class_with_students(net.school, "An")
    six_b = make_class(net.school, teacher, name="6B")
    marker = mark()
    classes.archive_class(class_group=six_a, by=teacher)
    classes.archive_school_year(library=net.school, school_year=six_b.school_year, by=teacher)
    single, in_year = entries_since(marker)
    assert message(single, "vi") == "Đã lưu trữ lớp"
    assert message(in_year, "en") == "Archived the class with its school year"
    assert message(in_year, "vi") == "Đã lưu trữ lớp cùng cả năm học"


def test_h5p_messages_name_the_library_and_the_titles():
    marker = mark()
    package = storage.install_package(validate_package(fixture("truefalse")), by=storage.OPERATOR)
    storage.retitle_package(package=package, title="Mới", by=storage.OPERATOR)
    entries = entries_since(marker)
    truefalse = next(
        e for e in entries if e.data.get("after", {}).get("machine_name") == "H5P.TrueFalse"
    )
    assert message(truefalse, "vi") == "Đã cài đặt thư viện H5P H5P.TrueFalse 1.6.1"
    assert message(entries[-1], "en") == "Renamed the H5P activity from “Hello World” to “Mới”"
    # The command line acts as no user.
    assert {e.user_id for e in entries} == {None}
