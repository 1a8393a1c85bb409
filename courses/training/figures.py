"""Running totals behind the network dashboard (LibraryTrainingFigures).

The progress service calls `enrolment_added` and `completion_added` inside its own
transaction, so the totals move with the enrolments they count. Each call is one or two
UPDATEs of small rows (F() expressions: safe under concurrency). `rebuild` recomputes
everything from the enrolments (after bulk imports, deletions, or to check).
"""

from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q

from courses.models import Enrollment, LibraryTrainingFigures


def _bump(library_id, course_id, **fields) -> None:
    changes = {name: F(name) + amount for name, amount in fields.items()}
    rows = LibraryTrainingFigures.objects.filter(library_id=library_id, course_id=course_id)
    if rows.update(**changes):
        return
    try:
        with transaction.atomic():
            LibraryTrainingFigures.objects.create(
                library_id=library_id, course_id=course_id, **fields
            )
    except IntegrityError:  # created by a concurrent request meanwhile
        rows.update(**changes)


def enrolment_added(enrollment: Enrollment) -> None:
    if enrollment.library_id is None:
        return
    _bump(enrollment.library_id, enrollment.course_id, learners=1, enrolments=1)
    first_here = (
        not Enrollment.objects.filter(user_id=enrollment.user_id, library_id=enrollment.library_id)
        .exclude(pk=enrollment.pk)
        .exists()
    )
    _bump(enrollment.library_id, None, learners=1 if first_here else 0, enrolments=1)


def completion_added(enrollment: Enrollment) -> None:
    if enrollment.library_id is None:
        return
    _bump(enrollment.library_id, enrollment.course_id, completions=1)
    _bump(enrollment.library_id, None, completions=1)


@transaction.atomic
def rebuild() -> int:
    """Recompute all totals from the enrolments (three queries and a bulk insert)."""
    LibraryTrainingFigures.objects.all().delete()
    done = Count("pk", filter=Q(completed_at__isnull=False))
    rows = [
        LibraryTrainingFigures(
            library_id=r["library_id"],
            course_id=r["course_id"],
            learners=r["n"],
            enrolments=r["n"],
            completions=r["done"],
        )
        for r in Enrollment.objects.filter(library__isnull=False)
        .order_by()
        .values("library_id", "course_id")
        .annotate(n=Count("pk"), done=done)
    ]
    rows += [
        LibraryTrainingFigures(
            library_id=r["library_id"],
            course_id=None,
            learners=r["learners"],
            enrolments=r["n"],
            completions=r["done"],
        )
        for r in Enrollment.objects.filter(library__isnull=False)
        .order_by()
        .values("library_id")
        .annotate(learners=Count("user_id", distinct=True), n=Count("pk"), done=done)
    ]
    LibraryTrainingFigures.objects.bulk_create(rows, batch_size=2000)
    return len(rows)
