"""Who may see and manage classes, class reports and dashboards (built on libraries.access).

- A teacher manages the classes they teach, and creates classes only at a library where
  they hold a teacher membership.
- Staff (library admin, librarian) of the school itself see its classes and their reports;
  its library admins also manage them. Staff above the school (district, province) see
  counts only: no class report, no student names.
- Library dashboards: staff of the library or above it. Network dashboard: admins.
- Staff area (courses/classes/admin.py): the school's own staff list its classes and
  teachers; its library admins reassign classes and archive a school year.
"""

from django.db.models import Q

from libraries.access import (
    ADMIN_ROLES,
    STAFF_ROLES,
    is_superuser,
    libraries_visible_to,
    memberships_of,
    reaches,
)
from libraries.models import Library, Role


def _library_ids(user, roles) -> set[int]:
    return {m.library_id for m in memberships_of(user) if m.role in roles and m.library.is_active}


def teaching_libraries(user) -> list[Library]:
    """Libraries where the user may create classes (teacher or library admin there)."""
    if is_superuser(user):
        return list(Library.objects.filter(kind=Library.Kind.SCHOOL, is_active=True))
    seen: dict[int, Library] = {}
    for m in memberships_of(user):
        if m.role in (Role.TEACHER, Role.LIBRARY_ADMIN) and m.library.is_active:
            seen.setdefault(m.library_id, m.library)
    return sorted(seen.values(), key=lambda lib: lib.name)


def can_create_class(user, library: Library) -> bool:
    return any(lib.pk == library.pk for lib in teaching_libraries(user))


def class_filter(user, prefix: str = "") -> Q:
    """Q limiting ClassGroup rows (or rows pointing to one via `prefix`) to those the user
    may open: classes they teach, or classes of the school where they are staff."""
    if is_superuser(user):
        return Q()
    if not user or not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    condition = Q(**{f"{prefix}teachers": user})
    school_ids = _library_ids(user, STAFF_ROLES)
    if school_ids:
        condition |= Q(**{f"{prefix}library_id__in": school_ids})
    return condition


def can_view_class(user, class_group) -> bool:
    if is_superuser(user):
        return True
    if not user or not user.is_authenticated or not user.is_active:
        return False
    if class_group.library_id in _library_ids(user, STAFF_ROLES):
        return True
    return class_group.teachers.filter(pk=user.pk).exists()


def can_manage_class(user, class_group) -> bool:
    if is_superuser(user):
        return True
    if not user or not user.is_authenticated or not user.is_active:
        return False
    if class_group.library_id in _library_ids(user, ADMIN_ROLES):
        return True
    return class_group.teachers.filter(pk=user.pk).exists()


def can_view_library_dashboard(user, library: Library) -> bool:
    return reaches(user, library, STAFF_ROLES)


def may_see_student_names(user, library: Library) -> bool:
    """Only the school's own staff see its students' names; above the school, counts."""
    return is_superuser(user) or library.pk in _library_ids(user, STAFF_ROLES)


def network_libraries(user):
    """Libraries whose rows an admin sees on the network dashboard (their subtrees)."""
    return libraries_visible_to(user, ADMIN_ROLES)


def school_class_filter(user) -> Q:
    """Q limiting ClassGroup rows to the classes of the schools where the user is staff."""
    if is_superuser(user):
        return Q()
    if not user or not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    return Q(library_id__in=_library_ids(user, STAFF_ROLES))


def class_staff_libraries(user):
    """Libraries whose classes the user lists in the staff area (staff there themselves)."""
    if is_superuser(user):
        return Library.objects.filter(is_active=True)
    return Library.objects.filter(pk__in=_library_ids(user, STAFF_ROLES))


def class_admin_libraries(user):
    """Libraries whose classes the user reassigns and archives (library admin there)."""
    if is_superuser(user):
        return Library.objects.filter(is_active=True)
    return Library.objects.filter(pk__in=_library_ids(user, ADMIN_ROLES))


def administers_classes_at(user, library: Library) -> bool:
    return is_superuser(user) or library.pk in _library_ids(user, ADMIN_ROLES)
