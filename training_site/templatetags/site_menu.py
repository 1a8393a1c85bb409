"""The site menu: which links a person gets, decided from their roles (libraries/access.py)."""

from django import template

from libraries import access
from libraries.models import Role

register = template.Library()


@register.simple_tag(takes_context=True)
def menu_roles(context) -> dict:
    """Flags for the menu: staff, teacher, student, reader (memberships loaded once)."""
    user = context.get("user")
    if user is None or not user.is_authenticated:
        return {}
    roles = access.roles_of(user)
    return {
        "staff": access.is_staff_member(user),
        "admin": access.is_superuser(user) or bool(roles & access.ADMIN_ROLES),
        "teacher": Role.TEACHER in roles,
        "student": Role.STUDENT in roles,
    }
