from . import admin_circulation  # noqa: F401
