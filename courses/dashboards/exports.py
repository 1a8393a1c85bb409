"""Class reports and the network dashboard as tables (header, rows) for the spreadsheet writer
in training_site/spreadsheets.py."""

from django.utils.translation import gettext as _

from courses.dashboards.reports import COMPLETED, IN_PROGRESS, ClassReport, NetworkDashboard


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
        ]
        for r in dashboard.rows
    ]
    return header, rows
