from django.urls import path

from courses.classes import views as views_teach
from courses.dashboards import views as views_dashboards
from courses.training import views
from courses.xapi import views as api

app_name = "courses"
urlpatterns = [
    path("api/xapi/statements", api.xapi_statements, name="xapi_statements"),
    path("courses/<int:course_id>/enrol/", views.enrol_view, name="enrol"),
    path(
        "courses/lessons/<int:lesson_id>/quiz/<str:block_id>/",
        views.submit_quiz_view,
        name="submit_quiz",
    ),
    path(
        "courses/activity/<int:lesson_id>/<str:block_id>",
        views.activity_view,
        name="activity",
    ),
    path("my/learning/", views.my_learning, name="my_learning"),
    path("certificates/verify/", views.certificate_lookup, name="certificate_lookup"),
    path(
        "certificates/verify/<str:code>/",
        views.certificate_verify,
        name="certificate_verify",
    ),
    path("certificates/<str:code>.pdf", views.certificate_download, name="certificate_download"),
    path("teach/", views_teach.teacher_home, name="teacher_home"),
    path("teach/classes/<int:pk>/", views_teach.class_detail, name="class_detail"),
    path("teach/classes/<int:pk>/students/add/", views_teach.add_students, name="add_students"),
    path(
        "teach/classes/<int:pk>/students/<int:student_id>/",
        views_teach.student_detail,
        name="student_detail",
    ),
    path(
        "teach/classes/<int:pk>/students/<int:student_id>/reset-password/",
        views_teach.reset_password,
        name="reset_password",
    ),
    path(
        "teach/classes/<int:pk>/students/<int:student_id>/move/",
        views_teach.move_student,
        name="move_student",
    ),
    path("teach/classes/<int:pk>/archive/", views_teach.archive_class, name="archive_class"),
    path("teach/classes/<int:pk>/login-cards.pdf", views_teach.login_cards, name="login_cards"),
    path("teach/classes/<int:pk>/report/", views_teach.class_report, name="class_report"),
    path(
        "teach/classes/<int:pk>/report.<str:fmt>",
        views_teach.class_report_export,
        name="class_report_export",
    ),
    path("my/assignments/", views_teach.my_assignments, name="my_assignments"),
    path(
        "dashboards/library/<str:code>/",
        views_dashboards.library_dashboard,
        name="library_dashboard",
    ),
    path("dashboards/network/", views_dashboards.network_dashboard, name="network_dashboard"),
    path(
        "dashboards/network/export.<str:fmt>",
        views_dashboards.network_export,
        name="network_export",
    ),
]
