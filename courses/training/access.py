"""Which learners' enrolments and certificates staff see, built on libraries/access.py.

- Staff (librarian, library admin, network admin) see the enrolments and certificates of
  learners whose library (the enrolment's, the certificate's) is within their reach: their
  library and those below it.
- A student's rows (a learner holding a student membership at that library) are seen only
  by the staff of that library itself: above the school, names of children are not shown
  (as for classes and class reports, courses/classes/access.py).
- Admins (library or network) of a certificate's library revoke it; librarians do not.
- Enrolling someone needs the same sight of them: staff enrol the accounts with a membership
  at a library within their reach (students only at their own library).

Rows without a library (learners with no membership) are seen by superusers only.
"""

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q, QuerySet

from courses.models import Certificate, Enrollment
from libraries.access import (
    ADMIN_ROLES,
    STAFF_ROLES,
    is_staff_member,
    is_superuser,
    library_filter,
    memberships_of,
)
from libraries.models import Membership, Role


def _own_library_ids(user, roles=STAFF_ROLES) -> set[int]:
    """Libraries where the user holds one of `roles` themselves (not above)."""
    return {m.library_id for m in memberships_of(user) if m.role in roles and m.library.is_active}


def learner_rows_filter(user, roles=STAFF_ROLES) -> Q:
    """Q limiting rows with `user` (the learner) and `library` fields: Enrollment, Certificate.

    Rows at libraries the user reaches with `roles`; a student's rows only at libraries where
    the user holds one of `roles` themselves.
    """
    if is_superuser(user):
        return Q()
    reach = library_filter(user, "library", roles)
    student_here = Membership.objects.filter(
        user=OuterRef("user"), library=OuterRef("library"), role=Role.STUDENT
    )
    return reach & (Q(library_id__in=_own_library_ids(user, roles)) | ~Exists(student_here))


def enrolments_visible_to(user) -> QuerySet[Enrollment]:
    if not is_staff_member(user):
        return Enrollment.objects.none()
    return Enrollment.objects.filter(learner_rows_filter(user))


def certificates_visible_to(user) -> QuerySet[Certificate]:
    if not is_staff_member(user):
        return Certificate.objects.none()
    return Certificate.objects.filter(learner_rows_filter(user))


def certificates_revocable_by(user) -> QuerySet[Certificate]:
    if not is_staff_member(user):
        return Certificate.objects.none()
    return Certificate.objects.filter(learner_rows_filter(user, ADMIN_ROLES))


def may_revoke_any(user) -> bool:
    return is_superuser(user) or bool(_own_library_ids(user, ADMIN_ROLES))


def may_revoke(user, certificate: Certificate) -> bool:
    return certificates_revocable_by(user).filter(pk=certificate.pk).exists()


def learners_within_reach(user) -> QuerySet:
    """Active accounts the user may enrol: a membership at a library within their staff
    reach (a student membership only at a library where they are staff themselves)."""
    User = get_user_model()
    if not is_staff_member(user):
        return User.objects.none()
    if is_superuser(user):
        return User.objects.filter(is_active=True)
    memberships = Membership.objects.filter(
        library_filter(user, "library"), user=OuterRef("pk"), library__is_active=True
    ).filter(~Q(role=Role.STUDENT) | Q(library_id__in=_own_library_ids(user)))
    return User.objects.filter(Exists(memberships), is_active=True)
