"""The staff audit log: who changed what, kept in Wagtail's own log (ModelLogEntry).

Every service that changes rows for staff records one entry per changed object through
`log_change`, with the action registered in a `register_log_actions` hook
(libraries/wagtail_hooks.py, courses/wagtail_hooks.py). The entries show in each object's
history in the staff area and in Wagtail's site history.

Each entry names the library whose staff may read it (`data["library"]`, a primary key): the
site history shows a staff member only the entries of libraries within their reach
(libraries/access.py), network admins all of them. An entry without a library is for network
admins only.

Helpers for new code:
* `field_values` / `stored_values` / `changes`: before and after of a model instance's fields.
* `log_reader_change`: an entry about a reader card, labelled with the card number (never the
  reader's name, birth date or address).
* `AuditedCreateMixin`, `AuditedEditMixin`, `AuditedDeleteMixin`: for Wagtail ModelViewSet and
  snippet views; they replace Wagtail's wagtail.create/edit/delete entry with one entry of
  `<prefix>.create|edit|delete` holding the changed values. `AuditedHistoryMixin` scopes an
  object's history. `ChangeFormatter` shows an entry's changed values in the history.
* `scope_log_entries(user, queryset)`: the entries a user may read.
"""

import functools
import json
import uuid

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from wagtail.log_actions import LogFormatter, log

from libraries import access


def _data(before: dict, after: dict, library, batch) -> dict:
    data = {"before": before, "after": after}
    if library is not None:
        data["library"] = library.pk
    if batch is not None:
        data["batch"] = str(batch)
    return data


def log_change(
    instance, action: str, *, by, before: dict, after: dict, library=None, batch=None
) -> None:
    """Record that `by` changed `instance`: `before` and `after` hold the changed fields only,
    as JSON values (codes and primary keys), `library` the library the change belongs to.

    Entries of one staff action on many objects share `batch` (kept in the data). Each entry
    has a uuid of its own: an object's history shows only the latest entry of a uuid.
    """
    data = _data(before, after, library, batch)
    log(instance=instance, action=action, user=by, uuid=uuid.uuid4(), data=data)


def log_export(library, *, by, what: str, rows: int, action: str = "libraries.export") -> None:
    """Record that `by` downloaded personal data of `library` (`what` names the export, e.g.
    "class_report", `rows` how many people it held). Logged on the library itself."""
    log(
        instance=library,
        action=action,
        user=by,
        uuid=uuid.uuid4(),
        data={"library": library.pk, "export": what, "rows": rows},
    )


# --- How an entry reads in the staff area ----------------------------------------------------

MAX_SHOWN = 80  # characters of a long value shown in a message


def _shown(value) -> str:
    if value is None or value == "":
        return "—"
    text = str(value)
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…"


def _field_label(model, name: str) -> str:
    try:
        return str(model._meta.get_field(name).verbose_name) if model else name
    except Exception:  # a field renamed or removed since the entry was written
        return name


class ChangeFormatter(LogFormatter):
    """`verb`, then each changed field: "Status: available → lost; Shelf: 3 → 4"."""

    label = ""
    verb = ""

    def format_message(self, log_entry):
        data = log_entry.data or {}
        before, after = data.get("before") or {}, data.get("after") or {}
        model = log_entry.content_type.model_class() if log_entry.content_type_id else None
        parts = []
        for name in sorted({*before, *after}):
            label = _field_label(model, name)
            if name in before and name in after:
                parts.append(f"{label}: {_shown(before[name])} → {_shown(after[name])}")
            else:
                parts.append(f"{label}: {_shown(after.get(name, before.get(name)))}")
        return f"{self.verb}: {'; '.join(parts)}" if parts else str(self.verb)


def change_formatter(label, verb) -> type[ChangeFormatter]:
    """A ChangeFormatter class for `actions.register_action(action)(...)`."""
    return type("ChangeFormatter", (ChangeFormatter,), {"label": label, "verb": verb})


class ExportFormatter(LogFormatter):
    label = _("Export personal data")

    def format_message(self, log_entry):
        data = log_entry.data or {}
        return _("Downloaded %(export)s: %(rows)s people") % {
            "export": data.get("export", "?"),
            "rows": data.get("rows", "?"),
        }


# --- Readers: entries name the card, never the person ----------------------------------------

# The only reader card fields an entry holds: no name, birth date, address, phone or email
# (a child's above all); the entry's label is the card number.
CARD_FIELDS = (
    "card_number",
    "home_library",
    "category",
    "status",
    "blocked_reason",
    "expires_on",
    "user",
)
APPLICATION_FIELDS = ("status", "home_library", "category", "patron")


def reader_label(instance) -> str:
    """A reader card by its number, a row about a reader (a hold) by the card number and its
    own number, an application by its library and number: never a name."""
    card_number = getattr(instance, "card_number", "")
    if card_number:
        return card_number
    patron = getattr(instance, "patron", None)
    if patron is not None and getattr(patron, "card_number", ""):
        return f"{patron.card_number} #{instance.pk}"
    library = getattr(instance, "home_library", None)
    return f"{library.code if library else '?'} #{instance.pk}"


def log_reader_change(
    instance, action: str, *, by, before: dict, after: dict, library=None, batch=None
) -> None:
    """`log_change` for a reader card or card application (or a row that names a reader, such
    as a hold): the entry is labelled with the card number, and `before`/`after` must hold only
    CARD_FIELDS-like values (codes, dates of the card, primary keys)."""
    data = _data(before, after, library, batch)
    log(
        instance=instance,
        action=action,
        user=by,
        uuid=uuid.uuid4(),
        data=data,
        title=reader_label(instance),
    )


# --- Values of a model instance ----------------------------------------------------------------

# Fields no entry records: keys, bookkeeping times, tree paths, search copies, raw MARC, secrets.
SKIPPED_FIELDS = frozenset(
    {"id", "path", "created_at", "updated_at", "joined_at", "secret_hash", "fingerprint", "marc"}
)


def _skipped(field) -> bool:
    return (
        field.name in SKIPPED_FIELDS
        or field.name.startswith("search_")
        or field.name.endswith("_folded")
        or field.get_internal_type() == "BinaryField"
    )


def json_value(value):
    """A value as the log stores it (dates and decimals as text), so before and after compare
    the same way before and after a round trip through the database."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def field_values(instance, fields=None) -> dict:
    """The instance's concrete fields as JSON values: a foreign key as its primary key, a
    choice as its code. `fields` narrows them (names); by default every field but keys,
    bookkeeping times, search copies and secrets."""
    values = {}
    for field in instance._meta.concrete_fields:
        if fields is not None and field.name not in fields:
            continue
        if fields is None and _skipped(field):
            continue
        values[field.name] = json_value(field.value_from_object(instance))
    return values


def stored_values(instance, fields=None) -> dict:
    """`field_values` of the row as the database holds it now ({} for a new object)."""
    if instance.pk is None:
        return {}
    stored = type(instance)._default_manager.filter(pk=instance.pk).first()
    return field_values(stored, fields) if stored is not None else {}


def changes(before: dict, after: dict) -> tuple[dict, dict]:
    """Only what differs: (before, after) of the changed keys."""
    keys = [key for key in {**before, **after} if before.get(key) != after.get(key)]
    return {k: before.get(k) for k in keys if k in before}, {
        k: after.get(k) for k in keys if k in after
    }


def staff_library_of(user):
    """The library a staff member works for (their highest staff library): entries about
    network-wide rows (bibliographic records) are read by its staff and those above it."""
    libraries = [m.library for m in access.memberships_of(user) if m.role in access.STAFF_ROLES]
    return min(libraries, key=lambda library: (len(library.path), library.path), default=None)


# --- Who reads which entry -------------------------------------------------------------------


def scope_log_entries(user, queryset):
    """Entries `user` may read: network admins (and superusers) all of them; other staff those
    whose data["library"] is a library within their reach; anyone else none. An entry without
    a library is for network admins only."""
    if access.is_network_admin(user):
        return queryset
    pks = list(access.libraries_visible_to(user).values_list("pk", flat=True))
    if not pks:
        return queryset.none()
    return queryset.filter(data__library__in=pks)


# --- Staff screens (Wagtail ModelViewSet / SnippetViewSet) -----------------------------------


class AuditedHistoryMixin:
    """An object's history shows only the entries the user may read (scope_log_entries)."""

    def get_base_queryset(self):
        return scope_log_entries(self.request.user, super().get_base_queryset())


class _AuditedViewMixin:
    """Logs the screen's change as `<audit_action_prefix>.create|edit|delete` with the changed
    fields before and after, instead of Wagtail's own wagtail.create/edit/delete entry (one
    entry per change). Set `audit_action_prefix`; `audit_fields` narrows the fields logged;
    `audit_library(instance)` names the library whose staff read the entry. When a service
    already logs the change (`audit_logged_by_service`), the screen only drops Wagtail's entry.
    """

    audit_action_prefix = ""
    audit_fields = None
    audit_logged_by_service = False

    def audit_library(self, instance):
        return getattr(instance, "library", None)

    def _without_wagtail_entry(self):
        return functools.partial(self.action_class, log_action=False)

    def _save_without_wagtail_entry(self):
        """Wagtail's save_instance, its create/edit action told not to log."""
        action_class = self.action_class
        self.action_class = self._without_wagtail_entry()
        try:
            return super().save_instance()
        finally:
            self.action_class = action_class

    def _log(self, instance, verb: str, before: dict, after: dict) -> None:
        log_change(
            instance,
            f"{self.audit_action_prefix}.{verb}",
            by=self.request.user,
            before=before,
            after=after,
            library=self.audit_library(instance),
        )


class AuditedCreateMixin(_AuditedViewMixin):
    def save_instance(self):
        instance = self._save_without_wagtail_entry()
        if not self.audit_logged_by_service:
            self._log(instance, "create", {}, field_values(instance, self.audit_fields))
        return instance


class AuditedEditMixin(_AuditedViewMixin):
    def save_instance(self):
        before = stored_values(self.form.instance, self.audit_fields)
        instance = self._save_without_wagtail_entry()
        if not self.audit_logged_by_service:
            old, new = changes(before, field_values(instance, self.audit_fields))
            if new or old:
                self._log(instance, "edit", old, new)
        return instance


class AuditedDeleteMixin(_AuditedViewMixin):
    def delete_action(self):
        instance = self.object
        with transaction.atomic():
            if not self.audit_logged_by_service:
                self._log(instance, "delete", stored_values(instance, self.audit_fields), {})
            self._without_wagtail_entry()(instance, user=self.request.user).execute(
                skip_permission_checks=True
            )
