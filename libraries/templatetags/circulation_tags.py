from django import template

from libraries.models import Library, Patron

register = template.Library()


@register.simple_tag
def pickup_libraries():
    """Libraries where a reader may collect a hold."""
    return Library.objects.active().order_by("name")


@register.simple_tag(takes_context=True)
def my_reader_card(context):
    """The signed-in user's reader card, or None."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if not user or not user.is_authenticated:
        return None
    return Patron.objects.filter(user=user).select_related("home_library").first()
