"""Wagtail admin registrations: one import per area, each module registers its own hooks."""

from . import admin_network  # noqa: F401
