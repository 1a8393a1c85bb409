from django.urls import path

from courses.classes import views

urlpatterns = [
    path("teach/", views.teacher_home, name="teacher_home"),
    path("teach/classes/<int:pk>/", views.class_detail, name="class_detail"),
    path("teach/classes/<int:pk>/students/add/", views.add_students, name="add_students"),
    path(
        "teach/classes/<int:pk>/students/<int:student_id>/reset-password/",
        views.reset_password,
        name="reset_password",
    ),
    path(
        "teach/classes/<int:pk>/students/<int:student_id>/move/",
        views.move_student,
        name="move_student",
    ),
    path("teach/classes/<int:pk>/archive/", views.archive_class, name="archive_class"),
    path("teach/classes/<int:pk>/login-cards.pdf", views.login_cards, name="login_cards"),
    path("my/assignments/", views.my_assignments, name="my_assignments"),
]
