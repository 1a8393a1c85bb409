from django.urls import path

from courses.training import offline, views

urlpatterns = [
    path("courses/<int:course_id>/enrol/", views.enrol_view, name="enrol"),
    path(
        "courses/activity/<int:lesson_id>/<str:block_id>",
        views.activity_view,
        name="activity",
    ),
    path(
        "courses/lessons/<int:lesson_id>/offline/",
        offline.lesson_offline_files,
        name="lesson_offline_files",
    ),
    path("my/learning/", views.my_learning, name="my_learning"),
    path("certificates/verify/", views.certificate_lookup, name="certificate_lookup"),
    path(
        "certificates/verify/<str:code>/",
        views.certificate_verify,
        name="certificate_verify",
    ),
    path(
        "certificates/<str:code>.pdf",
        views.certificate_download,
        name="certificate_download",
    ),
]
