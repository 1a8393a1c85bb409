"""Forms of the teacher pages. They only parse input; courses/classes.py applies the rules."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from courses.models import ClassGroup, CoursePage, LessonPage
from libraries.models import Library


def current_school_year() -> str:
    today = timezone.localdate()
    start = today.year if today.month >= 8 else today.year - 1
    return f"{start}-{start + 1}"


class CreateClassForm(forms.Form):
    library = forms.ModelChoiceField(queryset=None, label=_("School library"), empty_label=None)
    name = forms.CharField(label=_("Class name"), max_length=100)
    school_year = forms.RegexField(
        regex=r"^\d{4}-\d{4}$",
        label=_("School year"),
        max_length=9,
        help_text=_("For example 2026-2027."),
    )

    def __init__(self, *args, libraries=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["library"].queryset = Library.objects.filter(
            pk__in=[lib.pk for lib in libraries]
        )
        self.fields["school_year"].initial = current_school_year()


class AddStudentsForm(forms.Form):
    names = forms.CharField(
        label=_("Names, one per line"),
        widget=forms.Textarea(attrs={"rows": 10}),
        required=False,
    )
    upload = forms.FileField(
        label=_("Or a CSV / Excel (.xlsx) file with the names in the first column"),
        required=False,
    )

    def clean(self):
        data = super().clean()
        if not data.get("names", "").strip() and not data.get("upload"):
            raise forms.ValidationError(_("Paste names or choose a file."))
        return data


class AssignForm(forms.Form):
    course = forms.ModelChoiceField(queryset=None, label=_("Course"))
    lesson = forms.ModelChoiceField(
        queryset=None,
        label=_("Only this lesson (optional)"),
        required=False,
    )
    students = forms.ModelMultipleChoiceField(
        queryset=None,
        label=_("Only these students (leave empty for the whole class)"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    due_date = forms.DateField(
        label=_("Due date (optional)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args, class_group: ClassGroup, students, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["course"].queryset = CoursePage.objects.live().order_by("title")
        self.fields["lesson"].queryset = LessonPage.objects.live().order_by("path")
        self.fields["lesson"].label_from_instance = lambda lesson: lesson.title
        self.fields["students"].queryset = students
        self.fields["students"].label_from_instance = lambda u: u.display_name or u.username

    def clean(self):
        data = super().clean()
        course, lesson = data.get("course"), data.get("lesson")
        if course and lesson and not lesson.path.startswith(course.path):
            self.add_error("lesson", _("This lesson does not belong to the course."))
        return data


class MoveStudentForm(forms.Form):
    to_class = forms.ModelChoiceField(queryset=None, label=_("Move to class"))

    def __init__(self, *args, class_group: ClassGroup, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_class"].queryset = (
            ClassGroup.objects.active()
            .filter(library_id=class_group.library_id)
            .exclude(pk=class_group.pk)
        )
