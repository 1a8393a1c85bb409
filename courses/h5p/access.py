"""Who may see and manage which H5P packages, built on libraries/access.py.

A package belongs to the library whose admin uploaded it (H5PPackage.library), or to the
whole network (library empty: packages from before ownership, the command line's).

- Manage (edit, delete): network admins and superusers every package; library admins the
  packages of the libraries they administer (theirs and those below).
- See (admin listing and preview): every staff member the network's packages, the packages
  of libraries in their reach, and those of the libraries above theirs (shared downwards).
- Installing or upgrading library code is not a package matter: see
  libraries.access.can_install_h5p_libraries.
"""

from django.db.models import Q, QuerySet

from courses.models import H5PPackage
from libraries import access
from libraries.models import Library, Role


def manages_all_packages(user) -> bool:
    """Superusers and network admins (at an active library) manage every package."""
    if not user or not user.is_authenticated or not user.is_active:
        return False
    return access.is_superuser(user) or any(
        membership.role == Role.NETWORK_ADMIN and membership.library.is_active
        for membership in access.memberships_of(user)
    )


def packages_managed_by(user, queryset: QuerySet[H5PPackage] | None = None) -> QuerySet:
    queryset = H5PPackage.objects.all() if queryset is None else queryset
    if manages_all_packages(user):
        return queryset
    return queryset.filter(access.library_filter(user, "library", access.ADMIN_ROLES))


def packages_visible_to(user, queryset: QuerySet[H5PPackage] | None = None) -> QuerySet:
    queryset = H5PPackage.objects.all() if queryset is None else queryset
    if manages_all_packages(user):
        return queryset
    if not access.is_staff_member(user):
        return queryset.none()
    above = {
        int(part)
        for membership in access.memberships_of(user)
        if membership.role in access.STAFF_ROLES and membership.library.is_active
        for part in membership.library.path.strip("/").split("/")
        if part
    }
    return queryset.filter(
        Q(library__isnull=True) | Q(library__in=above) | access.library_filter(user, "library")
    )


def can_manage_package(user, package: H5PPackage) -> bool:
    if manages_all_packages(user):
        return True
    return access.can_administer(user, package.library)


def owner_libraries_for(user) -> QuerySet[Library]:
    """Libraries a new package of this user may belong to: the active ones they administer."""
    return access.libraries_administered_by(user).filter(is_active=True).order_by("path")


def may_own_packages_at(user, library: Library | None) -> bool:
    """May `user` put a package under `library` (None: the whole network's)?"""
    if library is None:
        return manages_all_packages(user)
    return library.is_active and access.can_administer(user, library)
