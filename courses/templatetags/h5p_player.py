"""{% load h5p_player %} {% h5p_player package %} plays an H5P package on any page.

Options: iri="..." (default: courses.h5p.player.activity_iri), block_id="..." (a StreamField
block id, part of the default IRI), xapi_endpoint="..." (default /api/xapi/statements).
"""

from django import template

from courses.h5p.player import DEFAULT_XAPI_ENDPOINT, player_context
from training_site.middleware import allow_h5p_player

register = template.Library()


@register.inclusion_tag("courses/h5p/player.html", takes_context=True)
def h5p_player(context, package, iri=None, block_id=None, xapi_endpoint=DEFAULT_XAPI_ENDPOINT):
    if package is None:
        return {"package": None}
    # The page's Content-Security-Policy gets the player's exceptions (docs/SECURITY.md).
    allow_h5p_player(context.get("request"))
    return player_context(
        context.get("request"),
        package,
        iri=iri,
        block_id=block_id,
        xapi_endpoint=xapi_endpoint,
    )
