"""Reads of dashboards and reports on a PostgreSQL read replica (docs/SCALING.md).

Nothing goes to the replica by itself: a view opts in around its reads with

    with use_replica():
        data = reports.library_dashboard(library)

and ReplicaRouter (DATABASE_ROUTERS, set by the production settings when DATABASE_REPLICA_URL
is) sends the reads inside that block to the `replica` alias. Writes always go to `default`.
Inside a transaction on `default`, and after a write in the same block, reads stay on
`default` too: a replica lags behind and would not show what was just written. Access
decisions are taken before the block, on `default`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

REPLICA = "replica"


@dataclass
class _Block:
    wrote: bool = False


_block: ContextVar[_Block | None] = ContextVar("kb_replica_block", default=None)


@contextmanager
def use_replica() -> Iterator[None]:
    """Reads inside the block may come from the replica (a few seconds behind at most)."""
    token = _block.set(_Block())
    try:
        yield
    finally:
        _block.reset(token)


def reading_from_replica() -> bool:
    block = _block.get()
    return (
        block is not None
        and not block.wrote
        and REPLICA in settings.DATABASES
        and not connections[DEFAULT_DB_ALIAS].in_atomic_block
    )


class ReplicaRouter:
    def db_for_read(self, model, **hints) -> str:
        return REPLICA if reading_from_replica() else DEFAULT_DB_ALIAS

    def db_for_write(self, model, **hints) -> str:
        block = _block.get()
        if block is not None:
            block.wrote = True
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints) -> bool | None:
        # Both aliases are the same database: rows read from either may be related.
        if {obj1._state.db, obj2._state.db} <= {DEFAULT_DB_ALIAS, REPLICA}:
            return True
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints) -> bool | None:
        return False if db == REPLICA else None
