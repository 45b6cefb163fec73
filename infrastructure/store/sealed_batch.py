"""What the sealed event store hands its recorder with a save, as one typed argument.

eventsourcing passes ``Application.save``'s keyword arguments through ``EventStore.put`` to
``recorder.insert_events``: that is the library's public way to give a recorder more than the
stored events (its process applications hand over their tracking record so). sealtrail's
recorders take a :class:`SealedBatch` as their ``sealed`` keyword argument, typed in their
signature: each event's pending Merkle leaf, and the store's last check to run in the insert's
transaction. A save without one is refused before anything is written.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

ReadAfter = Callable[[UUID, int], list[StoredEvent]]
"""The stored events of one stream after a version, read in the insert's own transaction."""


@dataclass
class PendingLeaf:
    """One event's leaf-to-be: how to make its data once its position is known, and, after the
    insert, the leaf index and position the recorder gave it."""

    make: Callable[[int], bytes]
    leaf_index: int | None = None
    position: int | None = None


@dataclass(frozen=True)
class SealedBatch:
    """A save's events as the sealed event store admitted them."""

    leaves: Sequence[PendingLeaf]
    """One pending leaf per stored event, in the same order."""
    admit: Callable[[ReadAfter], None]
    """The store's last check, run by the recorder in the insert's transaction once no other
    writer can add an event, and given a :data:`ReadAfter` on that transaction."""
    reads: Sequence[tuple[UUID, int]] = ()
    """The streams the last check reads, each after the version it was first checked at (the
    signers' accounts): the recorder fetches them together, with the tree's size, and the
    :data:`ReadAfter` it gives the check answers from them (and reads any other itself)."""


def sealed(batch: SealedBatch | None, stored_events: Sequence[StoredEvent]) -> SealedBatch:
    """The batch a recorder was given for these events.

    Raises:
        RuntimeError: no batch, or not one leaf per event: the events did not come through the
            sealed event store, and nothing is written.
    """
    if batch is None or len(batch.leaves) != len(stored_events):
        raise RuntimeError("events reach the recorder only through the sealed event store")
    return batch


def stored_events_of(rows: Sequence[Sequence[Any]], originator_id: UUID) -> list[StoredEvent]:
    """Rows of (version, topic, state) of one stream, as eventsourcing's stored events."""
    return [
        StoredEvent(
            originator_id=originator_id,
            originator_version=int(version),
            topic=str(topic),
            state=bytes(state),
        )
        for version, topic, state in rows
    ]
