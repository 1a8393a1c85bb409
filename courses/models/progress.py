"""Who learns what: enrolments, progress per lesson and activity, xAPI statements, certificates.

Rules and writes live in courses/training/progress.py, courses/training/certificates.py and
courses/xapi/services.py; the pages read their learner's state through EnrollmentQuerySet.
"""

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class EnrollmentStatus(models.TextChoices):
    NOT_STARTED = "not_started", _("Not started")
    IN_PROGRESS = "in_progress", _("In progress")
    COMPLETED = "completed", _("Completed")


class EnrollmentQuerySet(models.QuerySet):
    def with_status(self, status: str):
        """Enrolments in one state: completed, started (a lesson opened or an activity
        answered) but not completed, or not started."""
        if status == EnrollmentStatus.COMPLETED:
            return self.filter(completed_at__isnull=False)
        if status == EnrollmentStatus.IN_PROGRESS:
            return self.filter(completed_at__isnull=True, last_activity_at__isnull=False)
        if status == EnrollmentStatus.NOT_STARTED:
            return self.filter(completed_at__isnull=True, last_activity_at__isnull=True)
        return self

    def course_overview(self, *, user, course) -> dict:
        """Enrolment, lessons with the learner's progress, certificate, and where to resume."""
        lessons = list(course.lessons())
        enrollment = certificate = None
        progress = {}
        if user and user.is_authenticated:
            enrollment = self.filter(user=user, course=course).first()
            if enrollment:
                progress = {
                    p.lesson_id: p for p in LessonProgress.objects.filter(user=user, course=course)
                }
                certificate = Certificate.objects.filter(user=user, course=course).first()
        rows = [(lesson, progress.get(lesson.pk)) for lesson in lessons]
        resume = next((lesson for lesson, p in rows if not (p and p.completed)), None)
        return {
            "enrollment": enrollment,
            "lesson_rows": rows,
            "certificate": certificate,
            "resume_lesson": resume or (lessons[0] if lessons else None),
        }

    def lesson_overview(self, *, user, lesson) -> dict:
        """The lesson's place in its course and the learner's progress in it."""
        course = lesson.course
        siblings = list(course.lessons().only("pk", "title", "path", "url_path")) if course else []
        position = next((i for i, s in enumerate(siblings) if s.pk == lesson.pk), None)
        enrollment = progress = None
        activities = {}
        if user and user.is_authenticated and course:
            enrollment = self.filter(user=user, course=course).first()
            if enrollment:
                progress = LessonProgress.objects.filter(user=user, lesson=lesson).first()
                activities = {
                    a.block_id: a for a in ActivityProgress.objects.filter(user=user, lesson=lesson)
                }
        return {
            "course": course,
            "enrollment": enrollment,
            "lesson_progress": progress,
            "activity_progress": activities,
            "lesson_number": None if position is None else position + 1,
            "lesson_count": len(siblings),
            "previous_lesson": siblings[position - 1] if position else None,
            "next_lesson": (
                siblings[position + 1]
                if position is not None and position + 1 < len(siblings)
                else None
            ),
        }


class Enrollment(models.Model):
    """One person taking one course (one row per person and course)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("learner"),
        on_delete=models.CASCADE,
        related_name="enrollments",
    )
    course = models.ForeignKey(
        "courses.CoursePage",
        verbose_name=_("course"),
        on_delete=models.CASCADE,
        related_name="enrollments",
    )
    # The learner's library when they enrolled (from their Membership), for reports upwards.
    library = models.ForeignKey(
        "libraries.Library",
        verbose_name=_("library"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="enrollments",
    )
    enrolled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("enrolled by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    enrolled_at = models.DateTimeField(_("enrolled at"), auto_now_add=True)
    last_lesson = models.ForeignKey(
        "courses.LessonPage",
        verbose_name=_("last lesson opened"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    last_activity_at = models.DateTimeField(_("last activity"), null=True, blank=True)
    lessons_completed = models.PositiveIntegerField(_("lessons completed"), default=0)
    lessons_total = models.PositiveIntegerField(_("lessons"), default=0)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    objects = EnrollmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("enrolment")
        verbose_name_plural = _("enrolments")
        ordering = ["-enrolled_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "course"], name="enrollment_unique_user_course")
        ]
        indexes = [models.Index(fields=["course", "completed_at"])]

    def __str__(self):
        return f"{self.user} · {self.course}"

    @property
    def is_complete(self) -> bool:
        return self.completed_at is not None

    @property
    def status(self) -> str:
        if self.completed_at is not None:
            return EnrollmentStatus.COMPLETED
        if self.last_activity_at is not None:
            return EnrollmentStatus.IN_PROGRESS
        return EnrollmentStatus.NOT_STARTED

    def get_status_display(self) -> str:
        return EnrollmentStatus(self.status).label

    @property
    def percent(self) -> int:
        if not self.lessons_total:
            return 100 if self.completed_at else 0
        return min(100, round(100 * self.lessons_completed / self.lessons_total))


class LessonProgress(models.Model):
    """A learner's state in one lesson."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("learner"),
        on_delete=models.CASCADE,
        related_name="lesson_progress",
    )
    lesson = models.ForeignKey(
        "courses.LessonPage",
        verbose_name=_("lesson"),
        on_delete=models.CASCADE,
        related_name="progress",
    )
    course = models.ForeignKey(
        "courses.CoursePage",
        verbose_name=_("course"),
        on_delete=models.CASCADE,
        related_name="lesson_progress",
    )
    viewed_at = models.DateTimeField(_("first viewed"), null=True, blank=True)
    attempted = models.BooleanField(_("attempted"), default=False)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    # Mean of the best scaled scores (0..1) of the lesson's scored activities.
    best_score = models.FloatField(_("best score"), null=True, blank=True)
    passed = models.BooleanField(_("passed"), default=False)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("lesson progress")
        verbose_name_plural = _("lesson progress")
        constraints = [
            models.UniqueConstraint(fields=["user", "lesson"], name="lessonprogress_unique"),
            models.CheckConstraint(
                condition=Q(best_score__isnull=True)
                | (Q(best_score__gte=0) & Q(best_score__lte=1)),
                name="lessonprogress_score_range",
            ),
        ]
        indexes = [models.Index(fields=["course", "user"])]

    def __str__(self):
        return f"{self.user} · {self.lesson}"

    @property
    def viewed(self) -> bool:
        return self.viewed_at is not None

    @property
    def completed(self) -> bool:
        return self.completed_at is not None


class ActivityProgress(models.Model):
    """A learner's state in one activity (an H5P block or a native quiz) of a lesson."""

    class Kind(models.TextChoices):
        H5P = "h5p", _("H5P activity")
        QUIZ = "quiz", _("Quiz")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("learner"),
        on_delete=models.CASCADE,
        related_name="activity_progress",
    )
    lesson = models.ForeignKey(
        "courses.LessonPage",
        verbose_name=_("lesson"),
        on_delete=models.CASCADE,
        related_name="activity_progress",
    )
    block_id = models.CharField(_("activity block"), max_length=64)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_score = models.FloatField(_("last score"), null=True, blank=True)
    best_score = models.FloatField(_("best score"), null=True, blank=True)
    completed = models.BooleanField(_("completed"), default=False)
    passed = models.BooleanField(_("passed"), default=False)
    # Last answers to a native quiz (choice indexes per question), to show the result again.
    last_answers = models.JSONField(_("last answers"), default=dict, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("activity progress")
        verbose_name_plural = _("activity progress")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "lesson", "block_id"], name="activityprogress_unique"
            ),
            models.CheckConstraint(
                condition=Q(best_score__isnull=True)
                | (Q(best_score__gte=0) & Q(best_score__lte=1)),
                name="activityprogress_score_range",
            ),
        ]

    def __str__(self):
        return f"{self.user} · {self.lesson} · {self.block_id}"


class XAPIStatement(models.Model):
    """A raw xAPI statement as received (actor replaced by the session user), kept once per id."""

    statement_id = models.UUIDField(_("statement id"), unique=True, default=uuid.uuid4)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("learner"),
        on_delete=models.CASCADE,
        related_name="xapi_statements",
    )
    lesson = models.ForeignKey(
        "courses.LessonPage",
        verbose_name=_("lesson"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="xapi_statements",
    )
    block_id = models.CharField(_("activity block"), max_length=64, blank=True)
    verb = models.CharField(_("verb"), max_length=255)
    object_id = models.CharField(_("object"), max_length=512)
    # H5P sub-content (a question inside a Column or Question Set) carries ?subContentId=.
    sub_content_id = models.CharField(_("sub-content id"), max_length=64, blank=True)
    score_scaled = models.FloatField(_("scaled score"), null=True, blank=True)
    success = models.BooleanField(_("success"), null=True, blank=True)
    completion = models.BooleanField(_("completion"), null=True, blank=True)
    timestamp = models.DateTimeField(_("timestamp"), null=True, blank=True)
    stored_at = models.DateTimeField(_("stored at"), auto_now_add=True)
    raw = models.JSONField(_("statement"))

    class Meta:
        verbose_name = _("xAPI statement")
        verbose_name_plural = _("xAPI statements")
        ordering = ["-stored_at"]
        indexes = [models.Index(fields=["user", "lesson"])]

    def __str__(self):
        return f"{self.statement_id} {self.verb}"


def new_verification_code() -> str:
    """12 random characters from an unambiguous alphabet, grouped for reading aloud."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    raw = "".join(secrets.choice(alphabet) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


class Certificate(models.Model):
    """Issued once when a learner completes a course. Names are kept as they were at issue.

    Staff may revoke it (courses/training/certificates.py: revoke_certificate): the public
    verification page then shows the date and the reason category, never the staff note.
    """

    class RevocationReason(models.TextChoices):
        ISSUED_IN_ERROR = "issued_in_error", _("Issued in error")
        NOT_EARNED = "not_earned", _("Requirements not met fairly")
        DUPLICATE = "duplicate", _("Replaced by another certificate")
        LEARNER_REQUEST = "learner_request", _("Withdrawn at the learner's request")
        OTHER = "other", _("Other reason")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("learner"),
        on_delete=models.CASCADE,
        related_name="certificates",
    )
    course = models.ForeignKey(
        "courses.CoursePage",
        verbose_name=_("course"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="certificates",
    )
    library = models.ForeignKey(
        "libraries.Library",
        verbose_name=_("library"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="certificates",
    )
    code = models.CharField(
        _("verification code"), max_length=20, unique=True, default=new_verification_code
    )
    learner_name = models.CharField(_("learner name"), max_length=200)
    course_title = models.CharField(_("course title"), max_length=255)
    library_name = models.CharField(_("library name"), max_length=200, blank=True)
    issued_at = models.DateTimeField(_("issued at"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_reason = models.CharField(
        _("reason for revoking"), max_length=20, choices=RevocationReason.choices, blank=True
    )
    # For staff only: never shown on the public verification page or the PDF.
    revoked_note = models.TextField(_("note for staff"), max_length=1000, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("revoked by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("certificate")
        verbose_name_plural = _("certificates")
        ordering = ["-issued_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "course"], name="certificate_unique_user_course"
            ),
            models.CheckConstraint(
                condition=Q(revoked_at__isnull=True, revoked_reason="")
                | (Q(revoked_at__isnull=False) & ~Q(revoked_reason="")),
                name="certificate_revoked_with_reason",
            ),
        ]

    def __str__(self):
        return f"{self.code} · {self.learner_name} · {self.course_title}"

    @property
    def is_valid(self) -> bool:
        return self.revoked_at is None
