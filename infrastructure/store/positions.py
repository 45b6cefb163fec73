"""Where a stream's events stand in the log: log positions by version, versions by position.

Read on the recorder's own connection, in the SQL of :mod:`infrastructure.store.statements`
(SQLite calls the position ``rowid``, PostgreSQL ``notification_id``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, StoredEvent

from infrastructure.store.sealed_batch import stored_events_of
from infrastructure.store.statements import EventsTable, events_table


def log_positions(
    recorder: ApplicationRecorder, originator_id: UUID, versions: Iterable[int] | None = None
) -> dict[int, int]:
    """Map versions of one stream to their log positions (notification ids)."""
    wanted = None if versions is None else set(versions)
    events = events_table(recorder)
    rows = _rows(recorder, events, events.positions_of_stream, originator_id)
    return {
        int(version): int(position)
        for version, position in rows
        if wanted is None or version in wanted
    }


def version_at_position(recorder: ApplicationRecorder, originator_id: UUID, position: int) -> int:
    """The stream's last version stored at or before a log position (0 if none was)."""
    events = events_table(recorder)
    ((version,),) = _rows(
        recorder, events, events.version_at_position, originator_id, position=position
    )
    return int(version or 0)


def log_position(recorder: ApplicationRecorder, originator_id: UUID, version: int) -> int:
    """The log position of one version of a stream (0 if it is not stored)."""
    events = events_table(recorder)
    ((position,),) = _rows(
        recorder, events, events.position_of_version, originator_id, version=version
    )
    return int(position or 0)


def stored_events_at(
    recorder: ApplicationRecorder, originator_id: UUID, versions: Sequence[int]
) -> list[StoredEvent]:
    """These versions of a stream (those it has), in one query."""
    if not versions:
        return []
    events = events_table(recorder)
    numbers = {f"version_{n}": int(version) for n, version in enumerate(versions)}
    rows = _rows(recorder, events, events.versions_among(len(numbers)), originator_id, **numbers)
    return stored_events_of(rows, originator_id)


def _rows(
    recorder: ApplicationRecorder,
    events: EventsTable,
    statement: Any,
    originator_id: UUID,
    **parameters: Any,
) -> Sequence[Sequence[Any]]:
    with recorder.datastore.transaction(commit=False) as cursor:  # type: ignore[attr-defined]
        return events.rows(cursor, statement, stream=events.stream(originator_id), **parameters)
