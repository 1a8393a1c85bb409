"""The staff audit log: who changed what, kept in Wagtail's own log (ModelLogEntry).

Every service that changes rows for staff records one entry per changed object through
`log_change`, with the action registered in libraries/wagtail_hooks.py (`register_log_actions`).
The entries show in each object's history in the staff area and in Wagtail's site history.
"""

import uuid

from wagtail.log_actions import log


def log_change(instance, action: str, *, by, before: dict, after: dict, batch=None) -> None:
    """Record that `by` changed `instance`: `before` and `after` hold the changed fields only,
    as JSON values (codes and primary keys).

    Entries of one staff action on many objects share `batch` (kept in the data). Each entry
    has a uuid of its own: an object's history shows only the latest entry of a uuid.
    """
    data = {"before": before, "after": after}
    if batch is not None:
        data["batch"] = str(batch)
    log(instance=instance, action=action, user=by, uuid=uuid.uuid4(), data=data)
