from courses.h5p import admin  # noqa: F401
