from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoursesConfig(AppConfig):
    name = "courses"
    verbose_name = _("Training")

    def ready(self):
        # Signal receivers: a deleted H5P package takes its content folder with it.
        from courses.h5p import storage  # noqa: F401
