"""Teacher pages (/teach/): classes, students, login cards and assignments, and the students'
"My assignments". Thin: rules live in courses/classes/services.py, access in
courses/classes/access.py; class reports are pages of courses/dashboards/."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from courses.classes import services
from courses.classes.access import (
    can_create_class,
    can_manage_class,
    can_view_class,
    class_filter,
    teaching_libraries,
)
from courses.classes.forms import AddStudentsForm, AssignForm, CreateClassForm, MoveStudentForm
from courses.classes.login_cards import login_cards_export
from courses.models import Assignment, ClassGroup

CARDS_SESSION_KEY = "kb_login_cards_%s"
CARDS_KEEP = 50


def class_or_404(request, pk, manage=False) -> ClassGroup:
    class_group = get_object_or_404(ClassGroup.objects.select_related("library"), pk=pk)
    allowed = (can_manage_class if manage else can_view_class)(request.user, class_group)
    if not allowed:
        raise PermissionDenied
    return class_group


def _remember_cards(request, class_group, credentials):
    """Keep the last printed passwords for this class in the session, to print the cards."""
    key = CARDS_SESSION_KEY % class_group.pk
    kept = request.session.get(key, [])
    names = {c[1] for c in credentials}
    kept = [c for c in kept if c[1] not in names] + [list(c) for c in credentials]
    request.session[key] = kept[-CARDS_KEEP * 4 :]


@login_required
def teacher_home(request):
    libraries = teaching_libraries(request.user)
    visible = ClassGroup.objects.filter(class_filter(request.user)).distinct()
    classes = (
        visible.active()
        .select_related("library")
        .annotate(
            student_count=Count(
                "memberships", filter=Q(memberships__left_at__isnull=True), distinct=True
            )
        )
        .order_by("-school_year", "name")
    )
    # Archived classes leave the list of open classes; their reports stay one click away.
    archived = (
        visible.filter(archived_at__isnull=False)
        .select_related("library")
        .order_by("-school_year", "name")
    )
    form = None
    if libraries:
        form = CreateClassForm(request.POST or None, libraries=libraries)
        if request.method == "POST" and form.is_valid():
            library = form.cleaned_data["library"]
            if not can_create_class(request.user, library):
                raise PermissionDenied
            try:
                class_group = services.create_class(
                    library=library,
                    name=form.cleaned_data["name"],
                    school_year=form.cleaned_data["school_year"],
                    teacher=request.user,
                    by=request.user,
                )
            except services.ClassError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("Class created. Now add its students."))
                return redirect("courses:add_students", pk=class_group.pk)
    elif request.method == "POST":
        raise PermissionDenied
    return render(
        request,
        "courses/teach/home.html",
        {"classes": classes, "archived_classes": archived, "form": form},
    )


@login_required
def class_detail(request, pk):
    class_group = class_or_404(request, pk)
    manage = can_manage_class(request.user, class_group)
    students = class_group.students()
    assign_form = AssignForm(class_group=class_group, students=students)
    if request.method == "POST":
        if not manage:
            raise PermissionDenied
        assign_form = AssignForm(request.POST, class_group=class_group, students=students)
        if assign_form.is_valid():
            data = assign_form.cleaned_data
            try:
                services.assign(
                    class_group=class_group,
                    course=data["course"],
                    lesson=data["lesson"],
                    students=list(data["students"]),
                    due_date=data["due_date"],
                    by=request.user,
                )
            except services.ClassError as exc:
                assign_form.add_error(None, str(exc))
            else:
                messages.success(request, _("Assigned."))
                return redirect("courses:class_detail", pk=class_group.pk)
    context = {
        "class_group": class_group,
        "manage": manage,
        "students": students,
        "assignments": class_group.assignments.select_related("course", "lesson").annotate(
            chosen=Count("students")
        ),
        "teachers": class_group.teachers.all(),
        "assign_form": assign_form,
        "move_targets": list(MoveStudentForm(class_group=class_group).fields["to_class"].queryset),
        "has_cards": bool(request.session.get(CARDS_SESSION_KEY % class_group.pk)),
    }
    return render(request, "courses/teach/class_detail.html", context)


@login_required
def add_students(request, pk):
    class_group = class_or_404(request, pk, manage=True)
    if class_group.is_archived:
        messages.error(request, _("This class is archived."))
        return redirect("courses:class_detail", pk=pk)
    form = AddStudentsForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        try:
            if form.cleaned_data.get("upload"):
                rows = services.rows_from_upload(form.cleaned_data["upload"])
            else:
                rows = services.rows_from_text(form.cleaned_data["names"])
            report = services.bulk_create_students(
                class_group=class_group, rows=rows, by=request.user
            )
        except services.ClassError as exc:
            form.add_error(None, str(exc))
        else:
            _remember_cards(
                request,
                class_group,
                [(c.name, c.user.username, c.password) for c in report.created],
            )
    return render(
        request,
        "courses/teach/add_students.html",
        {"class_group": class_group, "form": form, "report": report},
    )


@login_required
@require_POST
def reset_password(request, pk, student_id):
    class_group = class_or_404(request, pk, manage=True)
    student = get_object_or_404(get_user_model(), pk=student_id)
    try:
        password = services.reset_password(
            class_group=class_group, student=student, by=request.user
        )
    except services.ClassError as exc:
        messages.error(request, str(exc))
    else:
        _remember_cards(
            request,
            class_group,
            [(student.display_name or student.username, student.username, password)],
        )
        messages.success(
            request,
            _("New password for %(username)s: %(password)s")
            % {"username": student.username, "password": password},
        )
    return redirect("courses:class_detail", pk=pk)


@login_required
@require_POST
def move_student(request, pk, student_id):
    class_group = class_or_404(request, pk, manage=True)
    student = get_object_or_404(get_user_model(), pk=student_id)
    form = MoveStudentForm(request.POST, class_group=class_group)
    if not form.is_valid():
        messages.error(request, _("Choose a class to move the student to."))
        return redirect("courses:class_detail", pk=pk)
    target = form.cleaned_data["to_class"]
    if not can_manage_class(request.user, target):
        raise PermissionDenied
    try:
        services.move_student(
            student=student, from_class=class_group, to_class=target, by=request.user
        )
    except services.ClassError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Student moved to %(name)s.") % {"name": target.name})
    return redirect("courses:class_detail", pk=pk)


@login_required
@require_POST
def archive_class(request, pk):
    class_group = class_or_404(request, pk, manage=True)
    services.archive_class(class_group=class_group, by=request.user)
    messages.success(request, _("The class is archived. Its report stays available."))
    return redirect("courses:class_detail", pk=pk)


@login_required
def login_cards(request, pk):
    """GET: cards for the passwords issued in this session. POST: new passwords for the
    whole class, then their cards."""
    class_group = class_or_404(request, pk, manage=True)
    if request.method == "POST":
        try:
            credentials = services.reset_class_passwords(class_group=class_group, by=request.user)
        except services.ClassError as exc:
            messages.error(request, str(exc))
            return redirect("courses:class_detail", pk=pk)
        _remember_cards(request, class_group, credentials)
    else:
        credentials = [tuple(c) for c in request.session.get(CARDS_SESSION_KEY % pk, [])]
    pdf = login_cards_export(
        class_group=class_group, credentials=credentials, site=request.get_host(), by=request.user
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="login-cards-{slugify(class_group.name)}.pdf"'
    )
    response["Cache-Control"] = "no-store"
    return response


@login_required
def my_assignments(request):
    return render(
        request,
        "courses/teach/my_assignments.html",
        {
            "assignments": Assignment.objects.open_for_student(request.user),
            "today": timezone.localdate(),
        },
    )
