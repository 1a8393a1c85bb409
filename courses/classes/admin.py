"""Staff screens of classes in the Wagtail admin: a school's classes and teachers, reassigning a
class, archiving a school year; and enrolling a group (a class, or a list of people).

- Classes: the school's own staff list its classes and teachers (courses/classes/access.py:
  names of children stay at their school, so staff above it see none); its library admins
  reassign a class to another teacher of the school and archive a school year's classes in
  one step. A class out of sight is not found (404); a librarian who sees it but may not
  change it is refused (403); nothing changes either way.
- Enrol a group: staff pick a course and a class of their school and/or people within their
  reach (courses/training/access.py). Enrolling twice changes nothing.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, Q
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from courses.classes import services
from courses.classes.access import (
    administers_classes_at,
    class_admin_libraries,
    class_staff_libraries,
    school_class_filter,
)
from courses.models import ClassGroup, CoursePage
from courses.training.access import learners_within_reach
from courses.training.progress import ProgressError, enrol_group
from libraries.access import is_staff_member
from libraries.models import Membership, Role
from libraries.network.decisions import forbid_instead_of_redirect
from libraries.network.menu import StaffViewSet

MAX_PEOPLE = 200
SCHOOL_YEAR = r"^\d{4}-\d{4}$"


class StaffScreen(WagtailAdminTemplateMixin, TemplateView):
    """A screen of this module: staff only (403 otherwise), inside the admin's furniture."""

    viewset = None
    page_title = ""

    def dispatch(self, request, *args, **kwargs):
        if not is_staff_member(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_header_icon(self):
        return self.viewset.icon

    def get_breadcrumbs_items(self):
        return [*self.breadcrumbs_items, {"url": "", "label": self.get_page_title()}]


# --- Enrol a group -------------------------------------------------------------------------


class GroupEnrolmentForm(forms.Form):
    course = forms.ModelChoiceField(
        label=gettext_lazy("Course"), queryset=CoursePage.objects.none()
    )
    class_group = forms.ModelChoiceField(
        label=gettext_lazy("A class of your school"),
        queryset=ClassGroup.objects.none(),
        required=False,
        help_text=gettext_lazy("Its current students are enrolled."),
    )
    people = forms.CharField(
        label=gettext_lazy("People"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=gettext_lazy(
            "Usernames or email addresses, one per line, of people of your libraries."
        ),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["course"].queryset = CoursePage.objects.live().order_by("title")
        self.fields["class_group"].queryset = (
            ClassGroup.objects.active()
            .filter(school_class_filter(user))
            .select_related("library")
            .order_by("library__name", "-school_year", "name")
        )
        self.fields["class_group"].label_from_instance = lambda c: f"{c} · {c.library.name}"
        self.learners = []

    def clean_people(self):
        lines = list(
            dict.fromkeys(line.strip() for line in self.cleaned_data["people"].splitlines())
        )
        names = [line for line in lines if line]
        if len(names) > MAX_PEOPLE:
            raise forms.ValidationError(_("At most %(n)s people at a time.") % {"n": MAX_PEOPLE})
        if not names:
            return []
        condition = Q(pk__in=[])
        for name in names:
            condition |= Q(username__iexact=name) | Q(email__iexact=name)
            condition |= Q(emailaddress__email__iexact=name)
        found = list(
            learners_within_reach(self.user)
            .filter(condition)
            .distinct()
            .prefetch_related("emailaddress_set")
        )
        by_key = {}
        for person in found:
            keys = {person.username.lower(), (person.email or "").lower()}
            keys |= {address.email.lower() for address in person.emailaddress_set.all()}
            for key in keys - {""}:
                by_key.setdefault(key, person)
        # Unknown accounts and accounts out of reach get the same answer.
        missing = [name for name in names if name.lower() not in by_key]
        if missing:
            raise forms.ValidationError(
                _("Not found among the people of your libraries: %(names)s")
                % {"names": ", ".join(missing[:20])}
            )
        return [by_key[name.lower()] for name in names]

    def clean(self):
        data = super().clean()
        if not data.get("class_group") and not data.get("people") and not self.errors:
            raise forms.ValidationError(_("Choose a class or write the people to enrol."))
        learners = {person.pk: person for person in data.get("people") or []}
        class_group = data.get("class_group")
        if class_group is not None:
            learners.update({student.pk: student for student in class_group.students()})
        self.learners = list(learners.values())
        return data


class GroupEnrolmentView(StaffScreen):
    template_name = "courses/classes/admin/group_enrolment.html"
    page_title = gettext_lazy("Enrol a group")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["form"] = self.form
        return context

    def get(self, request, *args, **kwargs):
        self.form = GroupEnrolmentForm(user=request.user, initial=request.GET.dict())
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        self.form = form = GroupEnrolmentForm(request.POST, user=request.user)
        if form.is_valid():
            course = form.cleaned_data["course"]
            try:
                result = enrol_group(users=form.learners, course=course, by=request.user)
            except ProgressError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request,
                    _("%(course)s: %(new)s enrolled now, %(already)s enrolled before.")
                    % {
                        "course": course.title,
                        "new": len(result.enrolled),
                        "already": len(result.already),
                    },
                )
                return redirect(reverse("training_enrolments:index") + f"?course={course.pk}")
        return super().get(request, *args, **kwargs)


class GroupEnrolmentViewSet(StaffViewSet):
    name = "training_group_enrolment"
    url_prefix = "training/enrol-group"
    icon = "group"
    menu_label = gettext_lazy("Enrol a group")

    def get_urlpatterns(self):
        view = forbid_instead_of_redirect(GroupEnrolmentView.as_view(viewset=self))
        return [path("", view, name="enrol")]


# --- Classes of a school -------------------------------------------------------------------


class ClassFilterForm(forms.Form):
    school_year = forms.RegexField(
        regex=SCHOOL_YEAR, label=gettext_lazy("School year"), max_length=9, required=False
    )
    status = forms.ChoiceField(
        label=gettext_lazy("Status"),
        required=False,
        choices=[
            ("", gettext_lazy("All")),
            ("open", gettext_lazy("Open")),
            ("archived", gettext_lazy("Archived")),
        ],
    )


def classes_in_sight(user):
    return ClassGroup.objects.filter(school_class_filter(user))


class ClassIndexView(StaffScreen):
    template_name = "courses/classes/admin/index.html"
    page_title = gettext_lazy("Classes")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        form = ClassFilterForm(self.request.GET or None)
        classes = (
            classes_in_sight(user)
            .select_related("library")
            .prefetch_related("teachers")
            .annotate(
                student_count=Count(
                    "memberships", filter=Q(memberships__left_at__isnull=True), distinct=True
                )
            )
            .order_by("library__name", "archived_at", "-school_year", "name")
        )
        if form.is_valid():
            if form.cleaned_data["school_year"]:
                classes = classes.filter(school_year=form.cleaned_data["school_year"])
            if form.cleaned_data["status"] == "open":
                classes = classes.filter(archived_at__isnull=True)
            elif form.cleaned_data["status"] == "archived":
                classes = classes.filter(archived_at__isnull=False)
        administered = {library.pk for library in class_admin_libraries(user)}
        libraries = list(class_staff_libraries(user).order_by("name"))
        teachers = (
            Membership.objects.filter(
                library__in=libraries, role=Role.TEACHER, user__is_active=True
            )
            .select_related("user", "library")
            .annotate(
                open_classes=Count(
                    "user__taught_classes",
                    filter=Q(
                        user__taught_classes__library=F("library"),
                        user__taught_classes__archived_at__isnull=True,
                    ),
                    distinct=True,
                )
            )
            .order_by("library__name", "user__display_name", "user__username")
        )
        open_years = (
            ClassGroup.objects.active()
            .filter(library__in=administered)
            .values("library_id", "library__name", "school_year")
            .annotate(count=Count("pk"))
            .order_by("library__name", "school_year")
        )
        context.update(
            filter_form=form,
            classes=classes,
            administered=administered,
            teachers=teachers,
            open_years=open_years,
        )
        return context


class ReassignForm(forms.Form):
    teacher = forms.ModelChoiceField(
        label=gettext_lazy("New teacher"), queryset=get_user_model().objects.none()
    )

    def __init__(self, *args, class_group, **kwargs):
        super().__init__(*args, **kwargs)
        # Any active account: a teacher of another library is refused by the service with
        # a reason, not hidden by the form.
        self.fields["teacher"].queryset = get_user_model().objects.filter(is_active=True)
        self.fields["teacher"].widget = forms.Select(
            choices=[("", "---------")]
            + [
                (t.pk, t.get_full_name() or t.username)
                for t in services.eligible_teachers(class_group.library)
            ]
        )


class ReassignView(StaffScreen):
    template_name = "courses/classes/admin/reassign.html"
    page_title = gettext_lazy("Give the class to another teacher")

    def load(self, request, pk):
        class_group = get_object_or_404(
            classes_in_sight(request.user).select_related("library"), pk=pk
        )
        if not administers_classes_at(request.user, class_group.library):
            raise PermissionDenied
        self.class_group = class_group
        return class_group

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            class_group=self.class_group,
            teachers=self.class_group.teachers.all(),
            form=self.form,
            index_url=reverse("training_classes:index"),
        )
        return context

    def get(self, request, pk):
        class_group = self.load(request, pk)
        self.form = ReassignForm(class_group=class_group)
        return super().get(request, pk=pk)

    def post(self, request, pk):
        class_group = self.load(request, pk)
        self.form = form = ReassignForm(request.POST, class_group=class_group)
        if form.is_valid():
            teacher = form.cleaned_data["teacher"]
            try:
                services.reassign_class(class_group=class_group, teacher=teacher, by=request.user)
            except services.ClassError as exc:
                form.add_error("teacher", str(exc))
            else:
                messages.success(
                    request,
                    _("%(class)s is now taught by %(teacher)s.")
                    % {"class": class_group, "teacher": teacher.get_full_name() or teacher},
                )
                return redirect("training_classes:index")
        return super().get(request, pk=pk)


class ArchiveYearForm(forms.Form):
    library = forms.ModelChoiceField(label=gettext_lazy("School library"), queryset=None)
    school_year = forms.RegexField(
        regex=SCHOOL_YEAR,
        label=gettext_lazy("School year"),
        max_length=9,
        help_text=gettext_lazy("For example 2026-2027."),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["library"].queryset = class_admin_libraries(user).order_by("name")


class ArchiveYearView(StaffScreen):
    """GET: the open classes that archiving the year would close; POST: archive them all."""

    template_name = "courses/classes/admin/archive_year.html"
    page_title = gettext_lazy("Archive a school year")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(form=self.form, to_archive=self.to_archive)
        return context

    def get(self, request, *args, **kwargs):
        self.form = ArchiveYearForm(request.GET or None, user=request.user)
        self.to_archive = None
        if self.form.is_valid():
            self.to_archive = list(
                ClassGroup.objects.active()
                .filter(
                    library=self.form.cleaned_data["library"],
                    school_year=self.form.cleaned_data["school_year"],
                )
                .prefetch_related("teachers")
                .order_by("name")
            )
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        self.form = form = ArchiveYearForm(request.POST, user=request.user)
        self.to_archive = None
        if form.is_valid():
            library, year = form.cleaned_data["library"], form.cleaned_data["school_year"]
            try:
                archived = services.archive_school_year(
                    library=library, school_year=year, by=request.user
                )
            except services.ClassError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request,
                    _(
                        "%(count)s classes of %(library)s for %(year)s are archived. Students "
                        "keep their accounts and progress; the reports stay available."
                    )
                    % {"count": len(archived), "library": library.name, "year": year},
                )
                return redirect("training_classes:index")
        return super().get(request, *args, **kwargs)


class ClassAdminViewSet(StaffViewSet):
    name = "training_classes"
    url_prefix = "training/classes"
    icon = "group"
    menu_label = gettext_lazy("Classes")

    def get_urlpatterns(self):
        def view(view_class):
            return forbid_instead_of_redirect(view_class.as_view(viewset=self))

        return [
            path("", view(ClassIndexView), name="index"),
            path("<int:pk>/reassign/", view(ReassignView), name="reassign"),
            path("archive-year/", view(ArchiveYearView), name="archive_year"),
        ]
