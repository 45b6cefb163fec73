"""Every protected member of eventsourcing that sealtrail overrides, calls or sets, in one list.

sealtrail uses eventsourcing's public extension points where it has them: the recorder and
persistence module chosen by topic (``APPLICATION_RECORDER_TOPIC``, ``PERSISTENCE_MODULE``),
``Application.construct_event_store``, ``EventStore.put``'s keyword arguments passed on to
``insert_events`` (:mod:`infrastructure.store.sealed_batch`), ``Mapper`` and transcodings. It has
none for work inside the recorder's insert transaction, where the store's last check and the
Merkle leaves must go, nor for an aggregate's identity or a command's scratch copy; there
sealtrail relies on the protected members below, in the modules named. A new one is added here
first: tests/unit/test_eventsourcing_private.py fails when a member listed here changes in the
installed eventsourcing, and when code outside the named module touches one not listed.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass

from eventsourcing.domain import Aggregate
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder


@dataclass(frozen=True)
class ProtectedMember:
    """A protected method or attribute of an eventsourcing class that sealtrail relies on."""

    owner: type
    name: str
    signature: str | None
    """The method's signature as written against (``inspect.signature``); None: an attribute."""
    used_in: str
    """The one module (or package) of sealtrail that uses it."""
    why: str


RECORDERS = "infrastructure.store.recorders"

PROTECTED_MEMBERS = (
    ProtectedMember(
        SQLiteApplicationRecorder,
        "_insert_events",
        "(self, c: 'SQLiteCursor', stored_events: 'Sequence[StoredEvent]', **_: 'Any')"
        " -> 'Sequence[int] | None'",
        RECORDERS,
        "called: inserts the events on the transaction's cursor and returns their rowids; "
        "the admission and the tree's append follow on that cursor",
    ),
    ProtectedMember(
        PostgresApplicationRecorder,
        "_insert_stored_events",
        "(self, curs: 'Cursor[DictRow]', stored_events: 'Sequence[StoredEvent]', **kwargs: "
        "'Any') -> 'None'",
        RECORDERS,
        "called: the insert (with the table lock, already held, and the notification), in the "
        "recorder's own pipelined transaction after the admission",
    ),
    ProtectedMember(
        PostgresApplicationRecorder,
        "_lock_table",
        "(self, curs: 'Cursor[DictRow]') -> 'None'",
        RECORDERS,
        "called: the EXCLUSIVE table lock the insert takes, taken before the admission reads",
    ),
    ProtectedMember(
        PostgresApplicationRecorder,
        "_fetch_ids_after_insert_events",
        "(self, curs: 'Cursor[DictRow]', stored_events: 'Sequence[StoredEvent]', **_: 'Any')"
        " -> 'Sequence[int] | None'",
        RECORDERS,
        "called: the new notification ids, inside the transaction; the tree's append follows",
    ),
    ProtectedMember(
        Aggregate,
        "_create",
        "(event_class: 'type[CanInitAggregate[TAggregateID]]', *, id: 'TAggregateID | None'"
        " = None, **kwargs: 'Any') -> 'Self'",
        "domain",
        "called: eventsourcing's own way for an aggregate's class method to create one (its "
        "documentation's explicit style); domain.signed overrides it so that a signed stream's "
        "id is derived from its name and its first link is the genesis hash",
    ),
    ProtectedMember(
        Aggregate,
        "_pending_events",
        None,
        "domain.signed",
        "set: a command's copy of an aggregate starts with no pending events of its own",
    ),
)

RETRIED_METHODS = ("insert_events", "select_events", "select_notifications", "max_notification_id")
"""PostgresApplicationRecorder's methods that eventsourcing wraps in its ``retry`` decorator;
:mod:`infrastructure.store.recorders` calls each undecorated (``__wrapped__``, which
functools.wraps keeps) under a single retry after a broken connection instead
(:mod:`infrastructure.store.postgres_pool`)."""


def changed_members() -> list[str]:
    """What the installed eventsourcing no longer has as listed here, one line each."""
    changes = []
    for member in PROTECTED_MEMBERS:
        where = f"{member.owner.__qualname__}.{member.name}"
        if member.signature is None:
            if not _has_attribute(member.owner, member.name):
                changes.append(f"{where}: no longer set")
            continue
        found = getattr(member.owner, member.name, None)
        if found is None:
            changes.append(f"{where}: gone")
        elif str(inspect.signature(found)) != member.signature:
            changes.append(f"{where}: now {inspect.signature(found)}")
    for name in RETRIED_METHODS:
        method = getattr(PostgresApplicationRecorder, name)
        if not hasattr(method, "__wrapped__"):
            changes.append(f"PostgresApplicationRecorder.{name}: no longer decorated")
    return changes


def _has_attribute(owner: type, name: str) -> bool:
    """Whether an instance of ``owner`` (a fresh aggregate) has the attribute."""
    if owner is Aggregate:

        class Probe(Aggregate):
            pass

        return hasattr(Probe(), name)
    return hasattr(owner, name)  # pragma: no cover - only aggregates' attributes are listed
