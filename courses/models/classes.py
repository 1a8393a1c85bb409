"""Teacher classes at a school library, their students, and the work assigned to them.

Rules and writes live in courses/classes/services.py; who may see what in
courses/classes/access.py.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, OuterRef, Q, Subquery
from django.utils.translation import gettext_lazy as _

from .progress import Enrollment, LessonProgress


class ClassGroupQuerySet(models.QuerySet):
    def active(self):
        return self.filter(archived_at__isnull=True)


class ClassGroup(models.Model):
    """A class of students at one school library, taught by one or more teachers."""

    library = models.ForeignKey(
        "libraries.Library",
        verbose_name=_("library"),
        on_delete=models.CASCADE,
        related_name="class_groups",
    )
    name = models.CharField(_("class name"), max_length=100)
    school_year = models.CharField(
        _("school year"), max_length=9, help_text=_("For example 2026-2027.")
    )
    teachers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("teachers"),
        related_name="taught_classes",
        blank=True,
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    archived_at = models.DateTimeField(_("archived at"), null=True, blank=True)

    objects = ClassGroupQuerySet.as_manager()

    class Meta:
        verbose_name = _("class")
        verbose_name_plural = _("classes")
        ordering = ["-school_year", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["library", "school_year", "name"], name="classgroup_unique_name"
            )
        ]

    def __str__(self):
        return f"{self.name} ({self.school_year})"

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    def students(self):
        """The class's students: open memberships, or for an archived class those who were in
        it when it was archived."""
        condition = Q(class_memberships__class_group=self)
        if self.is_archived:
            condition &= Q(class_memberships__left_at=self.archived_at)
        else:
            condition &= Q(class_memberships__left_at__isnull=True)
        users = self.teachers.model.objects
        return users.filter(condition).order_by("display_name", "username")


class ClassMembership(models.Model):
    """A student in a class. Leaving (moved, archived) closes the row; it is never deleted."""

    class_group = models.ForeignKey(
        ClassGroup,
        verbose_name=_("class"),
        on_delete=models.CASCADE,
        related_name="memberships",
    )
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("student"),
        on_delete=models.CASCADE,
        related_name="class_memberships",
    )
    # Copied from the class so the database can hold "one open class per library".
    library = models.ForeignKey(
        "libraries.Library", on_delete=models.CASCADE, related_name="+", editable=False
    )
    joined_at = models.DateTimeField(_("joined at"), auto_now_add=True)
    left_at = models.DateTimeField(_("left at"), null=True, blank=True)

    class Meta:
        verbose_name = _("class membership")
        verbose_name_plural = _("class memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["student", "library"],
                condition=Q(left_at__isnull=True),
                name="classmembership_one_open_class_per_library",
            )
        ]
        indexes = [models.Index(fields=["class_group", "left_at"])]

    def __str__(self):
        return f"{self.student} · {self.class_group}"

    def save(self, *args, **kwargs):
        self.library_id = self.class_group.library_id
        super().save(*args, **kwargs)


class AssignmentQuerySet(models.QuerySet):
    def open_for_student(self, user):
        """Open assignments of the learner's current classes, with their progress (one query)."""
        enrollment = Enrollment.objects.filter(user=user, course=OuterRef("course"))
        lesson_done = LessonProgress.objects.filter(
            user=user, lesson=OuterRef("lesson"), completed_at__isnull=False
        )
        return (
            self.filter(
                class_group__memberships__student=user,
                class_group__memberships__left_at__isnull=True,
                class_group__archived_at__isnull=True,
                course__live=True,
            )
            .filter(Q(students__isnull=True) | Q(students=user))
            .distinct()
            .select_related("course", "lesson", "class_group")
            .annotate(
                lessons_completed=Subquery(enrollment.values("lessons_completed")[:1]),
                lessons_total=Subquery(enrollment.values("lessons_total")[:1]),
                course_completed_at=Subquery(enrollment.values("completed_at")[:1]),
                lesson_completed_at=Subquery(lesson_done.values("completed_at")[:1]),
            )
            .order_by(F("due_date").asc(nulls_last=True), "created_at")
        )


class Assignment(models.Model):
    """A course, or one lesson of it, given to a class or to chosen students of it."""

    class_group = models.ForeignKey(
        ClassGroup,
        verbose_name=_("class"),
        on_delete=models.CASCADE,
        related_name="assignments",
    )
    course = models.ForeignKey(
        "courses.CoursePage",
        verbose_name=_("course"),
        on_delete=models.CASCADE,
        related_name="assignments",
    )
    lesson = models.ForeignKey(
        "courses.LessonPage",
        verbose_name=_("lesson"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="assignments",
    )
    # Empty means the whole class.
    students = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("students"),
        related_name="assignments_received",
        blank=True,
    )
    due_date = models.DateField(_("due date"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("assigned at"), auto_now_add=True)

    objects = AssignmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        ordering = ["due_date", "created_at"]

    def __str__(self):
        target = self.lesson or self.course
        return f"{self.class_group} · {target}"

    @property
    def title(self) -> str:
        return self.lesson.title if self.lesson_id else self.course.title


class LibraryTrainingFigures(models.Model):
    """Running totals per library (and per course) for the network dashboard.

    Kept current by courses/training_figures.py, called from the progress service when a
    learner enrols or completes a course; `manage.py rebuild_training_figures` recomputes
    them from the enrolments. The row with no course holds the library's distinct learners.
    """

    library = models.ForeignKey(
        "libraries.Library", on_delete=models.CASCADE, related_name="training_figures"
    )
    course = models.ForeignKey(
        "courses.CoursePage",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="library_figures",
    )
    learners = models.PositiveIntegerField(default=0)
    enrolments = models.PositiveIntegerField(default=0)
    completions = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("library training figures")
        verbose_name_plural = _("library training figures")
        constraints = [
            models.UniqueConstraint(
                fields=["library", "course"],
                condition=Q(course__isnull=False),
                name="trainingfigures_one_per_library_course",
            ),
            models.UniqueConstraint(
                fields=["library"],
                condition=Q(course__isnull=True),
                name="trainingfigures_one_total_per_library",
            ),
        ]

    def __str__(self):
        return f"{self.library_id} · {self.course_id or '*'}"
