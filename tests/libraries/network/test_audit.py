"""The staff audit log helper (libraries/network/audit.py) on Wagtail's own log."""

import uuid

import pytest
from wagtail.models import ModelLogEntry

from libraries.catalog.services import BULK_EDIT_ACTION
from libraries.network.audit import log_change
from tests.factories import UserFactory
from tests.libraries.catalog.factories import ItemFactory

pytestmark = pytest.mark.django_db


def test_one_entry_per_object_with_before_after_and_batch():
    user = UserFactory()
    first, second = ItemFactory(), ItemFactory()
    batch = uuid.uuid4()
    log_change(first, BULK_EDIT_ACTION, by=user, before={"status": "available"},
               after={"status": "lost"}, batch=batch)  # fmt: skip
    log_change(second, BULK_EDIT_ACTION, by=user, before={"shelf": None}, after={"shelf": 3},
               batch=batch)  # fmt: skip
    entries = list(ModelLogEntry.objects.order_by("pk"))
    assert [(e.object_id, e.action, e.user, e.data) for e in entries] == [
        (str(first.pk), BULK_EDIT_ACTION, user,
         {"before": {"status": "available"}, "after": {"status": "lost"}, "batch": str(batch)}),
        (str(second.pk), BULK_EDIT_ACTION, user,
         {"before": {"shelf": None}, "after": {"shelf": 3}, "batch": str(batch)}),
    ]  # fmt: skip
    # Each entry has its own uuid, so each object's history shows it.
    assert entries[0].uuid != entries[1].uuid
    assert entries[0].label == str(first)


def test_a_single_change_needs_no_batch():
    item = ItemFactory()
    log_change(item, BULK_EDIT_ACTION, by=None, before={"status": "a"}, after={"status": "b"})
    assert ModelLogEntry.objects.get().data == {"before": {"status": "a"}, "after": {"status": "b"}}
