from django.urls import path

from courses.dashboards import views

urlpatterns = [
    path(
        "teach/classes/<int:pk>/students/<int:student_id>/",
        views.student_detail,
        name="student_detail",
    ),
    path("teach/classes/<int:pk>/report/", views.class_report, name="class_report"),
    path(
        "teach/classes/<int:pk>/report.<str:fmt>",
        views.class_report_export,
        name="class_report_export",
    ),
    path(
        "dashboards/library/<str:code>/",
        views.library_dashboard,
        name="library_dashboard",
    ),
    path("dashboards/network/", views.network_dashboard, name="network_dashboard"),
    path(
        "dashboards/network/export.<str:fmt>",
        views.network_export,
        name="network_export",
    ),
]
