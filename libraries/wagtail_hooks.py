"""Wagtail hooks of the library app: one admin module per area, and its part of the home page."""

from wagtail import hooks

from libraries.catalog import admin as catalog_admin  # noqa: F401
from libraries.circulation import admin as circulation_admin  # noqa: F401
from libraries.models import NetworkPage
from libraries.models.network import members_by_district
from libraries.network import admin as network_admin  # noqa: F401


@hooks.register("home_page_context")
def network_on_the_home_page(request) -> dict:
    members = members_by_district()
    return {
        "district_groups": members["district_groups"],
        "member_count": (
            len(members["top_libraries"])
            + len(members["other_members"])
            + sum(1 + len(schools) for _district, schools in members["district_groups"])
        ),
        "network_page": NetworkPage.objects.live().first(),
    }
