"""Who may see and change what. Every view, admin screen, export and API asks this module.

A staff role (network admin, library admin, librarian) at a library reaches that library and
every library below it. Teachers, students and readers reach only their own library and only
what later modules grant them (their classes, their loans).
"""

import datetime
from collections.abc import Collection

from django.db.models import Q, QuerySet
from django.utils import timezone

from libraries.models import (
    CirculationRule,
    DigitalFile,
    DigitalLoan,
    Item,
    Library,
    Membership,
    Patron,
    PatronCategory,
    Role,
)
from libraries.models.digital import DIGITAL_ITEM_TYPE
from libraries.models.patrons import CHILD_AGE, age_on

ADMIN_ROLES = frozenset({Role.NETWORK_ADMIN, Role.LIBRARY_ADMIN})
STAFF_ROLES = frozenset({Role.NETWORK_ADMIN, Role.LIBRARY_ADMIN, Role.LIBRARIAN})

CATALOG_STAFF_PERMISSIONS = {
    "libraries.view_record",
    "libraries.add_record",
    "libraries.change_record",
    "libraries.view_item",
    "libraries.add_item",
    "libraries.change_item",
    "libraries.delete_item",
    "libraries.view_marcimportjob",
    "libraries.add_marcimportjob",
    # E-books and documents have screens of their own (libraries/digital/admin.py, scoped by
    # may_manage_digital); this one lets their audit entries show in Reports -> Site history.
    "libraries.view_digitalfile",
}
CATALOG_ADMIN_PERMISSIONS = CATALOG_STAFF_PERMISSIONS | {"libraries.delete_record"}

ADMIN_PERMISSIONS = {
    "wagtailadmin.access_admin",
    "libraries.view_library",
    "libraries.add_library",
    "libraries.change_library",
    "libraries.view_membership",
    "libraries.add_membership",
    "libraries.change_membership",
    "libraries.delete_membership",
    "libraries.view_joinrequest",
    "libraries.change_joinrequest",
    # H5P packages: these open the screens; each package belongs to a library and admins
    # manage only those within their reach (courses/h5p/access.py). Installing library code
    # is H5P_INSTALL_PERMISSION, network admins only.
    "courses.view_h5ppackage",
    "courses.add_h5ppackage",
    "courses.change_h5ppackage",
    "courses.delete_h5ppackage",
    *CATALOG_ADMIN_PERMISSIONS,
}

# H5P library code runs as the site in every lesson: installing or upgrading it is H5P core's
# "update libraries", held by network admins (and superusers) only, never by library admins.
H5P_INSTALL_PERMISSION = "courses.install_h5plibrary"

# Django permissions a role grants, inside its reach. Object-level scoping is done by
# the querysets below; these only open the door of a screen.
ROLE_PERMISSIONS: dict[str, set[str]] = {
    # Network and library admins open the same screens; their reach differs.
    Role.NETWORK_ADMIN: set(ADMIN_PERMISSIONS) | {H5P_INSTALL_PERMISSION},
    Role.LIBRARY_ADMIN: set(ADMIN_PERMISSIONS),
    Role.LIBRARIAN: {
        "wagtailadmin.access_admin",
        "libraries.view_library",
        "libraries.view_membership",
        "courses.view_h5ppackage",
        *CATALOG_STAFF_PERMISSIONS,
    },
    Role.TEACHER: set(),
    Role.STUDENT: set(),
    Role.READER: set(),
}

# Circulation: every staff role works the desk, decides card applications and takes stock;
# admins also set the circulation rules of their libraries.
CIRCULATION_PERMISSIONS = {
    "libraries.view_patron",
    "libraries.add_patron",
    "libraries.change_patron",
    "libraries.view_registrationrequest",
    "libraries.change_registrationrequest",
    "libraries.view_loan",
    "libraries.add_loan",
    "libraries.change_loan",
    "libraries.view_hold",
    "libraries.view_stocktake",
    "libraries.add_stocktake",
    "libraries.view_interlibraryloan",
    "libraries.add_interlibraryloan",
    "libraries.view_circulationrule",
}
for _role in STAFF_ROLES:
    ROLE_PERMISSIONS[_role] |= CIRCULATION_PERMISSIONS
for _role in ADMIN_ROLES:
    ROLE_PERMISSIONS[_role] |= {
        "libraries.add_circulationrule",
        "libraries.change_circulationrule",
        "libraries.delete_circulationrule",
    }

# Staff work: every staff role keeps its libraries' shelves; admins invite members and word
# the notices their readers receive. Each screen narrows these to the user's reach.
for _role in STAFF_ROLES:
    ROLE_PERMISSIONS[_role] |= {
        "libraries.view_shelf",
        "libraries.add_shelf",
        "libraries.change_shelf",
        "libraries.delete_shelf",
    }
for _role in ADMIN_ROLES:
    ROLE_PERMISSIONS[_role] |= {
        "libraries.view_invitation",
        "libraries.add_invitation",
        "libraries.change_invitation",
        "libraries.view_noticetemplate",
        "libraries.add_noticetemplate",
        "libraries.change_noticetemplate",
        "libraries.delete_noticetemplate",
    }


def memberships_of(user) -> list[Membership]:
    """The user's memberships with their libraries, loaded once per user object."""
    if not user or not user.is_authenticated:
        return []
    cached = getattr(user, "_kb_memberships", None)
    if cached is None:
        cached = list(Membership.objects.filter(user=user).select_related("library"))
        user._kb_memberships = cached
    return cached


def forget_memberships(user) -> None:
    """Drop the per-object cache after memberships change."""
    if hasattr(user, "_kb_memberships"):
        del user._kb_memberships


def roles_of(user) -> set[str]:
    return {m.role for m in memberships_of(user)}


def _paths(user, roles) -> list[str]:
    return [m.library.path for m in memberships_of(user) if m.role in roles and m.library.is_active]


def is_superuser(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.is_superuser)


def libraries_visible_to(user, roles=STAFF_ROLES) -> QuerySet[Library]:
    """Libraries where the user holds one of `roles` here or at an ancestor."""
    if is_superuser(user):
        return Library.objects.all()
    if not user or not user.is_authenticated or not user.is_active:
        return Library.objects.none()
    paths = _paths(user, roles)
    if not paths:
        return Library.objects.none()
    return Library.objects.subtrees_of(paths)


def libraries_administered_by(user) -> QuerySet[Library]:
    return libraries_visible_to(user, ADMIN_ROLES)


def library_filter(user, field: str = "library", roles=STAFF_ROLES) -> Q:
    """A Q object limiting rows whose `field` is a library the user reaches with `roles`.

    Use it to scope any queryset: ``Item.objects.filter(library_filter(user, "owner"))``.
    """
    if is_superuser(user):
        return Q()
    paths = _paths(user, roles) if user and user.is_authenticated and user.is_active else []
    if not paths:
        return Q(pk__in=[])
    condition = Q(pk__in=[])
    for path in paths:
        condition |= Q(**{f"{field}__path__startswith": path})
    return condition


def reaches(user, library: Library | None, roles=STAFF_ROLES) -> bool:
    """True when the user holds one of `roles` at this library or above it."""
    if library is None:
        return False
    if is_superuser(user):
        return True
    if not user or not user.is_authenticated or not user.is_active:
        return False
    return any(library.path.startswith(path) for path in _paths(user, roles))


def can_administer(user, library: Library | None) -> bool:
    return reaches(user, library, ADMIN_ROLES)


def is_staff_member(user) -> bool:
    return is_superuser(user) or bool(roles_of(user) & STAFF_ROLES)


def is_network_admin(user) -> bool:
    return is_superuser(user) or Role.NETWORK_ADMIN in roles_of(user)


def can_install_h5p_libraries(user) -> bool:
    """May `user` add or upgrade H5P library code (H5P_INSTALL_PERMISSION)?"""
    return bool(user and user.is_authenticated and user.has_perm(H5P_INSTALL_PERMISSION))


def roles_user_may_grant(user, library: Library) -> list[str]:
    """Roles `user` may give to someone at `library`: admins grant roles up to their own."""
    if is_superuser(user):
        return list(Role.values)
    if not can_administer(user, library):
        return []
    grantable = [r for r in Role.values if r != Role.NETWORK_ADMIN]
    if Role.NETWORK_ADMIN in {
        m.role for m in memberships_of(user) if library.path.startswith(m.library.path)
    }:
        grantable.insert(0, Role.NETWORK_ADMIN)
    return grantable


def scope_memberships(user, queryset):
    """Memberships the user may see: those at libraries within their staff reach."""
    return queryset.filter(library_filter(user, "library"))


def scope_patrons(user, queryset, field: str = "home_library"):
    """Reader cards the user may see: those whose home library is within their staff reach."""
    return queryset.filter(library_filter(user, field))


# --- Readers seen from a desk ----------------------------------------------------------------
# Card numbers are sequential, so whatever a desk shows for a typed number, anyone at it can
# list. A desk shows a reader when its staff reach the reader's home library; a child is never
# shown further away; another library's adult reader is shown (and served) where a stored
# circulation rule lets their category borrow: a visiting reader. The fallback rule in code
# (no rule stored at all) serves a library's own readers only.


def is_child_reader(patron, today: datetime.date | None = None) -> bool:
    """A child card, or a reader under CHILD_AGE whatever the card says."""
    if patron.category == PatronCategory.CHILD:
        return True
    age = age_on(patron.date_of_birth, today or timezone.localdate())
    return age is not None and age < CHILD_AGE


def _rules_at(library: Library) -> list[CirculationRule]:
    """Stored rules that apply at `library`, most specific first (as rules are matched)."""
    rules = CirculationRule.objects.filter(Q(library__isnull=True) | Q(library=library))
    return sorted(
        rules, key=lambda r: (r.library_id is None, r.patron_category == "", r.item_type == "")
    )


def _visitor_allowed(rules, category: str, item_types) -> bool:
    for item_type in item_types:
        rule = next(
            (
                r
                for r in rules
                if r.patron_category in ("", category) and r.item_type in ("", item_type)
            ),
            None,
        )
        if rule is not None and rule.max_loans > 0:
            return True
    return False


def visiting_categories(library: Library) -> frozenset[str]:
    """Reader categories another library's readers may borrow in at `library`: for at least one
    item type, the stored rule that applies there allows one loan or more. Never children."""
    rules = _rules_at(library)
    return frozenset(
        category
        for category in PatronCategory.values
        if category != PatronCategory.CHILD and _visitor_allowed(rules, category, Item.Type.values)
    )


def visitor_may_borrow(*, library: Library, category: str, item_type: str) -> bool:
    """Whether the stored rule for this item type lets a visiting reader of `category` borrow."""
    if category == PatronCategory.CHILD:
        return False
    return _visitor_allowed(_rules_at(library), category, [item_type])


def patron_visible_at(
    user, patron, library: Library | None, *, visiting: Collection[str] | None = None
) -> bool:
    """May `user`, working the desk of `library`, see this reader (name, loans) and serve them?

    Pass `visiting` (from visiting_categories) when asking about many readers at one desk.
    """
    if patron is None or not reaches(user, library):
        return False
    if reaches(user, patron.home_library):
        return True
    if is_child_reader(patron):
        return False
    if visiting is None:
        visiting = visiting_categories(library)
    return patron.category in visiting


def reader_may_borrow_at(patron, library: Library) -> bool:
    """Whoever works its desk: the reader's home library and those above it, or a library
    whose rules take visiting readers of their category (never a child)."""
    home = patron.home_library
    if home.pk == library.pk or (library.path and home.path.startswith(library.path)):
        return True
    return not is_child_reader(patron) and patron.category in visiting_categories(library)


def scope_join_requests(user, queryset):
    """Join requests the user may decide: those addressed to a library they administer."""
    return queryset.filter(library_filter(user, "parent", ADMIN_ROLES))


# --- The digital collection ------------------------------------------------------------------
# Who may read which e-book or document (libraries/models/digital.py, docs/DIGITAL.md). Staff
# who reach the owning library open any of its files, to check what was uploaded.


def reader_card_of(user):
    """The reader card linked to the account, loaded once per user object (None if none)."""
    if not user or not user.is_authenticated or not user.is_active:
        return None
    if not hasattr(user, "_kb_patron"):
        user._kb_patron = Patron.objects.select_related("home_library").filter(user=user).first()
    return user._kb_patron


def _card_in_use(patron) -> bool:
    return (
        patron is not None
        and patron.status == Patron.Status.ACTIVE
        and not patron.is_expired()
        and patron.home_library.is_active
    )


def is_network_member(user) -> bool:
    """A logged-in account with a role at an active library or a reader card in use."""
    if not user or not user.is_authenticated or not user.is_active:
        return False
    if is_superuser(user) or any(m.library.is_active for m in memberships_of(user)):
        return True
    return _card_in_use(reader_card_of(user))


def may_manage_digital(user, file) -> bool:
    """Staff who reach the owning library upload, change and check its files."""
    return reaches(user, file.library)


def digital_files_managed_by(user) -> QuerySet[DigitalFile]:
    return DigitalFile.objects.filter(library_filter(user, "library"))


def may_read_digital(user, file, *, now=None) -> bool:
    """May `user` (anonymous too) open this file's bytes now?"""
    if file.access == DigitalFile.Access.OPEN:
        return True
    if not user or not user.is_authenticated or not user.is_active:
        return False
    if may_manage_digital(user, file):
        return True
    if file.access == DigitalFile.Access.MEMBERS:
        return is_network_member(user)
    patron = reader_card_of(user)
    if file.access == DigitalFile.Access.CARDHOLDERS:
        if not _card_in_use(patron):
            return False
        home = patron.home_library.path
        return any(home.startswith(lib.path) for lib in file.cardholder_libraries.all())
    if file.access == DigitalFile.Access.LENDING and patron is not None:
        return (
            DigitalLoan.objects.open()
            .filter(file=file, patron=patron, due_at__gt=now or timezone.now())
            .exists()
        )
    return False


def may_borrow_digital(patron, file) -> bool:
    """A lending file's licences go to readers of the owning library and the libraries below
    it, and to other readers where a circulation rule for digital loans at the owning library
    lets their category borrow (never another library's children)."""
    if patron is None or file.access != DigitalFile.Access.LENDING:
        return False
    if patron.home_library.is_below(file.library):
        return True
    return visitor_may_borrow(
        library=file.library, category=patron.category, item_type=DIGITAL_ITEM_TYPE
    ) and not is_child_reader(patron)


class MembershipPermissionBackend:
    """Grants the Django permissions of the roles a user holds, so Wagtail screens open.

    It never authenticates anyone; it only answers permission questions.
    """

    def authenticate(self, request, **credentials):
        return None

    def get_user(self, user_id):
        return None

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous:
            return set()
        perms: set[str] = set()
        for membership in memberships_of(user_obj):
            if membership.library.is_active:
                perms |= ROLE_PERMISSIONS.get(membership.role, set())
        return perms

    def has_perm(self, user_obj, perm, obj=None):
        return perm in self.get_all_permissions(user_obj, obj)

    def has_module_perms(self, user_obj, app_label):
        return any(p.startswith(app_label + ".") for p in self.get_all_permissions(user_obj))
