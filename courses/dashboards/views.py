"""Class reports, library and network dashboards. Above a school only counts are shown, never
names."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from courses.classes.access import (
    can_view_library_dashboard,
    may_see_student_names,
    network_libraries,
)
from courses.classes.views import class_or_404
from courses.dashboards import reports
from courses.dashboards.charts import bar_chart, line_chart
from courses.dashboards.exports import class_report_download, network_download
from courses.models import CoursePage
from libraries.models import Library
from training_site.db_router import use_replica


@login_required
def library_dashboard(request, code):
    library = get_object_or_404(Library, code=code.upper(), is_active=True)
    if not can_view_library_dashboard(request.user, library):
        raise PermissionDenied
    with use_replica():
        data = reports.library_dashboard(library)
    by_course = [(row["course__title"], row["completions"]) for row in data["by_course"]]
    by_month = [(date_format(m, "m/Y"), n) for m, n in data["by_month"]]
    data.update(
        {
            "class_links": may_see_student_names(request.user, library),
            "course_chart": bar_chart(
                by_course,
                title=_("Completions by course"),
                desc=_("Number of completed enrolments for each course at this library."),
            ),
            "month_chart": line_chart(
                by_month,
                title=_("Completions over time"),
                desc=_("Number of course completions in each of the last twelve months."),
            ),
            "month_rows": by_month,
        }
    )
    return render(request, "courses/dashboards/library.html", data)


def _network(request):
    if not network_libraries(request.user).exists():
        raise PermissionDenied
    district = course = None
    district_id = request.GET.get("district", "")
    if district_id.isdigit():
        district = network_libraries(request.user).filter(pk=int(district_id)).first()
    course_id = request.GET.get("course", "")
    if course_id.isdigit():
        course = CoursePage.objects.live().filter(pk=int(course_id)).first()
    with use_replica():
        return reports.network_dashboard(
            request.user, district=district, course=course, order=request.GET.get("order", "name")
        )


@login_required
def network_dashboard(request):
    dashboard = _network(request)
    context = {
        "dashboard": dashboard,
        "courses": CoursePage.objects.live().order_by("title").only("pk", "title"),
        "orders": [
            ("name", _("Library")),
            ("staff_trained", _("Staff trained")),
            ("learners", _("Learners enrolled")),
            ("completions", _("Completions")),
            ("completion_rate", _("Completion rate")),
            ("certificates", _("Certificates")),
            ("last_activity", _("Last activity")),
        ],
        "query": request.GET.urlencode(),
        "chart": bar_chart(
            [(row.name, row.rate or 0) for row in dashboard.rows[:30]],
            title=_("Completion rate by library"),
            desc=_("Share of enrolments completed at each library, in percent."),
            unit="%",
        ),
    }
    return render(request, "courses/dashboards/network.html", context)


@login_required
def network_export(request, fmt):
    return network_download(fmt, dashboard=_network(request), by=request.user)


@login_required
def class_report(request, pk):
    class_group = class_or_404(request, pk)
    with use_replica():
        report = reports.class_report(class_group)
    return render(
        request,
        "courses/teach/class_report.html",
        {"class_group": class_group, "report": report, "today": timezone.localdate()},
    )


@login_required
def class_report_export(request, pk, fmt):
    class_group = class_or_404(request, pk)
    with use_replica():
        report = reports.class_report(class_group)
    return class_report_download(fmt, class_group=class_group, report=report, by=request.user)


@login_required
def student_detail(request, pk, student_id):
    class_group = class_or_404(request, pk)
    student = get_object_or_404(class_group.students(), pk=student_id)
    context = {"class_group": class_group, "student": student}
    with use_replica():
        context.update(reports.student_detail(class_group, student))
    return render(request, "courses/teach/student_detail.html", context)
