"""Training content as Wagtail pages: courses with lessons, and how-to guides."""

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Page
from wagtail.search import index

from .blocks import ACTIVITY_BLOCK_TYPES, GuideStreamBlock, LessonStreamBlock
from .progress import Enrollment


@dataclass(frozen=True)
class ActivitySpec:
    block_id: str
    kind: str  # "h5p" or "quiz"
    required: bool
    pass_mark: int | None  # percent


class Audience(models.TextChoices):
    LIBRARIANS = "librarians", _("Librarians")
    TEACHERS = "teachers", _("Teachers")
    STUDENTS = "students", _("Students")


class Level(models.TextChoices):
    BEGINNER = "beginner", _("Beginner")
    INTERMEDIATE = "intermediate", _("Intermediate")
    ADVANCED = "advanced", _("Advanced")


class CourseIndexPage(Page):
    """Lists the courses, optionally filtered by audience."""

    intro = RichTextField(_("introduction"), blank=True, features=["bold", "italic", "link"])

    content_panels = Page.content_panels + ["intro"]
    parent_page_types = ["training_site.HomePage"]
    subpage_types = ["courses.CoursePage"]

    class Meta:
        verbose_name = _("course list")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        courses = CoursePage.objects.live().public().child_of(self).select_related("cover_image")
        audience = request.GET.get("audience", "")
        if audience in Audience.values:
            courses = courses.filter(audience=audience)
        context["courses"] = courses
        context["audience"] = audience
        context["audiences"] = Audience.choices
        return context


class CoursePage(Page):
    """A course: an ordered set of lessons for one audience."""

    audience = models.CharField(_("audience"), max_length=20, choices=Audience.choices)
    level = models.CharField(
        _("level"), max_length=20, choices=Level.choices, default=Level.BEGINNER
    )
    estimated_minutes = models.PositiveIntegerField(
        _("estimated time (minutes)"), default=30, help_text=_("Time a learner needs, roughly.")
    )
    summary = models.TextField(_("summary"), max_length=600, blank=True)
    outcomes = models.TextField(
        _("learning outcomes"),
        blank=True,
        help_text=_("One outcome per line: what the learner can do after the course."),
    )
    cover_image = models.ForeignKey(
        "wagtailimages.Image",
        verbose_name=_("cover image"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    self_enrolment = models.BooleanField(
        _("open for self-enrolment"),
        default=True,
        help_text=_("Anyone logged in may enrol. Otherwise a teacher or librarian enrols them."),
    )
    certificate_enabled = models.BooleanField(_("issue a certificate on completion"), default=True)

    content_panels = Page.content_panels + [
        "audience",
        "level",
        "estimated_minutes",
        "summary",
        "outcomes",
        "cover_image",
        "self_enrolment",
        "certificate_enabled",
    ]
    search_fields = Page.search_fields + [
        index.SearchField("summary"),
        index.SearchField("outcomes"),
        index.FilterField("audience"),
    ]
    parent_page_types = ["courses.CourseIndexPage"]
    subpage_types = ["courses.LessonPage"]

    class Meta:
        verbose_name = _("course")
        verbose_name_plural = _("courses")

    @property
    def outcome_list(self) -> list[str]:
        return [line.strip() for line in self.outcomes.splitlines() if line.strip()]

    def lessons(self):
        """Published lessons in tree order."""
        return LessonPage.objects.live().child_of(self).order_by("path")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context.update(Enrollment.objects.course_overview(user=request.user, course=self))
        return context


class LessonPage(Page):
    """One lesson: text, media, H5P activities and native quizzes."""

    intro = models.TextField(_("introduction"), max_length=600, blank=True)
    estimated_minutes = models.PositiveIntegerField(_("estimated time (minutes)"), default=10)
    body = StreamField(LessonStreamBlock(), verbose_name=_("content"), blank=True)

    content_panels = Page.content_panels + ["intro", "estimated_minutes", "body"]
    search_fields = Page.search_fields + [
        index.SearchField("intro"),
        index.SearchField("body"),
    ]
    parent_page_types = ["courses.CoursePage"]
    subpage_types: list[str] = []

    class Meta:
        verbose_name = _("lesson")
        verbose_name_plural = _("lessons")

    @property
    def course(self) -> "CoursePage":
        cached = getattr(self, "_course", None)
        if cached is None:
            cached = CoursePage.objects.parent_of(self).first()
            self._course = cached
        return cached

    def activity_blocks(self):
        """The (block_id, block) pairs of activities: H5P and native quizzes."""
        return [(b.id, b) for b in self.body if b.block_type in ACTIVITY_BLOCK_TYPES]

    def activity_specs(self) -> list[ActivitySpec]:
        """Activities of the lesson read from the raw body (no database queries)."""
        specs = []
        for item in self.body.raw_data:
            if item.get("type") in ACTIVITY_BLOCK_TYPES:
                value = item.get("value") or {}
                specs.append(
                    ActivitySpec(
                        block_id=item["id"],
                        kind=item["type"],
                        required=bool(value.get("required", True)),
                        pass_mark=value.get("pass_mark"),
                    )
                )
        return specs

    def required_activities(self) -> dict[str, int | None]:
        """Required activity block ids mapped to their pass mark (percent, or None)."""
        return {spec.block_id: spec.pass_mark for spec in self.activity_specs() if spec.required}

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context.update(Enrollment.objects.lesson_overview(user=request.user, lesson=self))
        return context


class GuideIndexPage(Page):
    """Step-by-step how-to guides, searchable."""

    intro = RichTextField(_("introduction"), blank=True, features=["bold", "italic", "link"])

    content_panels = Page.content_panels + ["intro"]
    parent_page_types = ["training_site.HomePage"]
    subpage_types = ["courses.GuidePage"]

    class Meta:
        verbose_name = _("guide list")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        guides = GuidePage.objects.live().public().child_of(self)
        query = request.GET.get("q", "").strip()[:200]
        guides = guides.search(query) if query else guides.order_by("title")
        context["guides"] = guides
        context["query"] = query
        return context


class GuidePage(Page):
    """A how-to guide, e.g. "Register a reader card online". Print-friendly."""

    summary = models.TextField(_("summary"), max_length=600, blank=True)
    audience = models.CharField(_("audience"), max_length=20, choices=Audience.choices, blank=True)
    body = StreamField(GuideStreamBlock(), verbose_name=_("steps"), blank=True)

    content_panels = Page.content_panels + ["summary", "audience", "body"]
    search_fields = Page.search_fields + [
        index.SearchField("summary"),
        index.SearchField("body"),
        index.FilterField("audience"),
    ]
    parent_page_types = ["courses.GuideIndexPage"]
    subpage_types: list[str] = []

    class Meta:
        verbose_name = _("guide")
        verbose_name_plural = _("guides")
