"""Wagtail admin registrations: one import per area, each module registers its own hooks."""

from . import admin_catalog, admin_circulation, admin_network  # noqa: F401
