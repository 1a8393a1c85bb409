"""Wagtail admin registrations: one import per area, each module registers its own hooks."""

from libraries.catalog import admin as catalog_admin  # noqa: F401
from libraries.circulation import admin as circulation_admin  # noqa: F401
from libraries.network import admin as network_admin  # noqa: F401
