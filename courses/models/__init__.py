from .classes import Assignment, ClassGroup, ClassMembership, LibraryTrainingFigures
from .h5p import H5PLibrary, H5PPackage
from .pages import (
    Audience,
    CourseIndexPage,
    CoursePage,
    GuideIndexPage,
    GuidePage,
    LessonPage,
    Level,
)
from .progress import (
    ActivityProgress,
    Certificate,
    Enrollment,
    EnrollmentStatus,
    LessonProgress,
    XAPIStatement,
)

__all__ = [
    "Assignment",
    "ClassGroup",
    "ClassMembership",
    "ActivityProgress",
    "Audience",
    "Certificate",
    "CourseIndexPage",
    "CoursePage",
    "Enrollment",
    "EnrollmentStatus",
    "GuideIndexPage",
    "GuidePage",
    "H5PLibrary",
    "H5PPackage",
    "LessonPage",
    "LessonProgress",
    "LibraryTrainingFigures",
    "Level",
    "XAPIStatement",
]
