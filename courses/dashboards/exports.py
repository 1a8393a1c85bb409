"""Class reports and the network dashboard as tables (header, rows) for the spreadsheet writer
in training_site/spreadsheets.py, and their downloads, each logged in the staff audit log
(libraries/network/audit.py: log_export) on the library whose figures or people it holds."""

from django.db.models.functions import Length
from django.http import HttpResponse
from django.utils.text import slugify
from django.utils.translation import gettext as _

from courses.classes.access import network_libraries
from courses.classes.services import EXPORT_ACTION
from courses.dashboards.reports import COMPLETED, IN_PROGRESS, ClassReport, NetworkDashboard
from courses.models import ClassGroup
from libraries.access import ADMIN_ROLES, memberships_of
from libraries.models import Library
from libraries.network.audit import log_export
from training_site.spreadsheets import spreadsheet_response


def status_label(status: str) -> str:
    return {
        COMPLETED: _("completed"),
        IN_PROGRESS: _("in progress"),
    }.get(status, _("not started"))


def class_report_table(report: ClassReport) -> tuple[list[str], list[list]]:
    """One row per student; for each lesson: status, score %, attempts, minutes."""
    header = [_("Student"), _("Username"), _("Lessons completed"), _("Overdue")]
    for column in report.columns:
        title = column.lesson.title
        header += [
            f"{title}: " + _("status"),
            f"{title}: " + _("score %"),
            f"{title}: " + _("attempts"),
            f"{title}: " + _("minutes"),
        ]
    rows = []
    for row in report.rows:
        line = [
            row.student.display_name or row.student.username,
            row.student.username,
            row.completed,
            len(row.overdue),
        ]
        for cell in row.cells:
            line += [
                status_label(cell.status),
                cell.percent if cell.percent is not None else "",
                cell.attempts,
                round(cell.seconds / 60, 1),
            ]
        rows.append(line)
    return header, rows


def network_table(dashboard: NetworkDashboard) -> tuple[list[str], list[list]]:
    header = [
        _("Code"),
        _("Library"),
        _("District"),
        _("Staff trained"),
        _("Learners enrolled"),
        _("Enrolments"),
        _("Completions"),
        _("Completion rate %"),
        _("Certificates"),
        _("Last activity"),
        _("Loans this month"),
        _("E-book loans this month"),
        _("E-book readers this month"),
    ]
    rows = [
        [
            r.code,
            r.name,
            r.district.name if r.district else "",
            r.staff_trained,
            r.learners,
            r.enrolments,
            r.completions,
            "" if r.rate is None else r.rate,
            r.certificate_count,
            r.last_activity.strftime("%Y-%m-%d %H:%M") if r.last_activity else "",
            r.loans_this_month,
            r.digital_loans_this_month,
            r.digital_readers,
        ]
        for r in dashboard.rows
    ]
    return header, rows


def class_report_download(
    fmt: str, *, class_group: ClassGroup, report: ClassReport, by
) -> HttpResponse:
    """The class report as CSV or XLSX (404 for another format), logged on the class's school
    library with one row per student."""
    header, rows = class_report_table(report)
    response = spreadsheet_response(
        fmt,
        header=header,
        rows=rows,
        title=class_group.name,
        filename=f"class-report-{slugify(class_group.name) or class_group.pk}",
    )
    log_export(
        class_group.library, by=by, what="class_report", rows=len(rows), action=EXPORT_ACTION
    )
    return response


def network_export_library(dashboard: NetworkDashboard, user) -> Library | None:
    """The library a network table download is logged on: the district shown, or else the
    highest library the admin's dashboard covers (their own)."""
    if dashboard.district is not None:
        return dashboard.district
    own = [m.library for m in memberships_of(user) if m.role in ADMIN_ROLES and m.library.is_active]
    if own:  # the memberships are loaded already: no query
        return min(own, key=lambda library: (library.depth, library.path))
    return network_libraries(user).order_by(Length("path"), "path").first()  # superusers


def network_download(fmt: str, *, dashboard: NetworkDashboard, by) -> HttpResponse:
    """The network table as CSV or XLSX (404 for another format), logged with one row per
    library."""
    header, rows = network_table(dashboard)
    response = spreadsheet_response(
        fmt, header=header, rows=rows, title=_("Network"), filename="network-dashboard"
    )
    library = network_export_library(dashboard, by)
    if library is not None:
        log_export(library, by=by, what="network_dashboard", rows=len(rows), action=EXPORT_ACTION)
    return response
