from courses import admin_h5p  # noqa: F401
