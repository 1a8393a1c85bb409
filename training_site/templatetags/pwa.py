"""{% pwa_account %}: whose pages these are, for the service worker (static/pwa/pwa.js).

An opaque mark of the logged-in account (empty when logged out): the worker clears the pages
and lessons it kept when the mark changes from one account to anything else.
"""

from django import template
from django.utils.crypto import salted_hmac

register = template.Library()


@register.simple_tag(takes_context=True)
def pwa_account(context) -> str:
    user = context.get("user")
    if user is None or not user.is_authenticated:
        return ""
    return salted_hmac("training_site.pwa.account", str(user.pk)).hexdigest()[:24]
