"""sealtrail's recorders: eventsourcing's SQLite and PostgreSQL application recorders, sealed.

Each admits a save only with the sealed event store's batch (:mod:`infrastructure.store.
sealed_batch`), runs the store's last check and appends the save's Merkle leaves
(:mod:`infrastructure.store.merkle_log`) inside the library's own insert transaction.
eventsourcing has no public hook inside that transaction: its recorders call protected methods
that a subclass may override (its process recorders insert their tracking records so). The ones
overridden or called here are listed, with the signatures they are written against, in
:mod:`infrastructure.store.eventsourcing_private`.

PostgreSQL's is in :mod:`infrastructure.store.recorders.postgres`, which the settings name only
for a PostgreSQL store: psycopg and eventsourcing's PostgreSQL module are not imported for a
SQLite one (a tenth of a second of every console command).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, cast
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteDatastore
from sqlalchemy import Select

from infrastructure.store.merkle_log import FrontierCache, TreeWriter
from infrastructure.store.sealed_batch import ReadAfter, SealedBatch, sealed, stored_events_of
from infrastructure.store.statements import EventsTable, events_table
from infrastructure.store.write_groups import (
    Member,
    Outcome,
    WriteGroups,
    as_refusal,
    database_failure,
)
from infrastructure.store.write_turns import WriteTurns

_SAVEPOINT = "sealtrail_member"
"""The savepoint each member of a group of several is inserted after (and rolled back to if
it is refused)."""


class SealedInserts(ABC):
    """``insert_events`` as both recorders take it: the sealed store's batch, typed, checked
    before anything is written, then the backend's own insert, in a group with the saves the
    process's other threads make at the same time (:mod:`infrastructure.store.write_groups`)."""

    groups: WriteGroups

    def insert_events(
        self,
        stored_events: Sequence[StoredEvent],
        *,
        sealed_batch: SealedBatch | None = None,
        **kwargs: Any,
    ) -> Sequence[int] | None:
        member = Member(stored_events, sealed(sealed_batch, stored_events), kwargs)
        return self.groups.commit(member, self.commit_group)

    def select_after(self, versions: Mapping[UUID, int]) -> dict[UUID, list[StoredEvent]]:
        """The stored events of several streams, each after a version, in one read (one
        statement, outside any transaction); a stream with none is left out."""
        if not versions:
            return {}
        events = events_table(cast(ApplicationRecorder, self))
        parameters: dict[str, Any] = {}
        for n, (originator_id, version) in enumerate(versions.items()):
            parameters[f"stream_{n}"] = events.stream(originator_id)
            parameters[f"version_{n}"] = version
        rows = self._read_rows(events, events.after_versions(len(versions)), parameters)
        found: dict[UUID, list[StoredEvent]] = {}
        for stream, version, topic, state in sorted(rows, key=lambda row: row[1]):
            originator_id = events.stream_id(stream)
            found.setdefault(originator_id, []).extend(
                stored_events_of([(version, topic, state)], originator_id)
            )
        return found

    @abstractmethod
    def _read_rows(
        self, events: EventsTable, statement: Select[Any], parameters: dict[str, Any]
    ) -> Sequence[Sequence[Any]]:
        """The rows of a SELECT of the events table, on a connection of the recorder's pool."""

    @abstractmethod
    def commit_group(self, members: Sequence[Member]) -> list[Outcome]:
        """Insert the members' events and leaves in one transaction, each member judged by its
        batch's last check: one outcome per member, in order. A group of one is inserted as a
        save of its own always was, its refusal raised."""


class SealedSQLiteRecorder(SealedInserts, SQLiteApplicationRecorder):
    """SQLite's application recorder, sealed; the store's writers take turns
    (:mod:`infrastructure.store.write_turns`) for the transaction."""

    def __init__(self, datastore: SQLiteDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        name = datastore.pool.db_name
        self._turns = None if datastore.pool.is_sqlite_memory_mode else WriteTurns(Path(name))
        self._frontiers = FrontierCache()
        self.groups = WriteGroups()

    def commit_group(self, members: Sequence[Member]) -> list[Outcome]:
        if self._turns is None:  # an in-memory database lives in one process
            return self._group_in_transaction(members)
        with self._turns.turn():
            return self._group_in_transaction(members)

    def _read_rows(
        self, events: EventsTable, statement: Select[Any], parameters: dict[str, Any]
    ) -> Sequence[Sequence[Any]]:
        # One statement in autocommit mode is its own read transaction: no BEGIN, no ROLLBACK.
        with (
            self.datastore.get_connection(commit=False) as connection,
            connection.cursor() as cursor,
        ):
            return events.rows(cursor, statement, **parameters)

    def _group_in_transaction(self, members: Sequence[Member]) -> list[Outcome]:
        # eventsourcing's SQLiteAggregateRecorder.insert_events, with the tree's frontier kept
        # once the transaction has committed.
        with self.datastore.transaction(commit=True) as cursor:
            if len(members) == 1:
                (member,) = members
                positions, tree = self._insert_sealed_events(
                    cursor, member.stored_events, member.batch, **member.kwargs
                )
                outcomes: list[Outcome] = [positions]
            else:
                outcomes, tree = self._insert_members(cursor, members)
        self._frontiers.keep(tree.left)
        return outcomes

    def _insert_members(
        self, c: SQLiteCursor, members: Sequence[Member]
    ) -> tuple[list[Outcome], TreeWriter]:
        """Each member inserted after a savepoint and judged as :meth:`_insert_sealed_events`
        judges a save, seeing the members before it; a refused one is rolled back to its
        savepoint. The leaves of those that stay are appended together, in their order."""
        outcomes: list[Outcome] = []
        kept: list[tuple[Sequence[int], SealedBatch]] = []
        for member in members:
            c.execute(f"SAVEPOINT {_SAVEPOINT}")
            try:
                positions = self._admitted(c, member.stored_events, member.batch, **member.kwargs)
            except Exception as refusal:
                if database_failure(refusal):
                    raise  # the transaction's failure, every member's
                c.execute(f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}")
                outcomes.append(as_refusal(refusal))
            else:
                outcomes.append(positions)
                kept.append((positions, member.batch))
            c.execute(f"RELEASE SAVEPOINT {_SAVEPOINT}")
        tree = TreeWriter(events_table(self).statements, c, self._frontiers)
        tree.append(
            [p for positions, _ in kept for p in positions],
            [leaf for _, batch in kept for leaf in batch.leaves],
        )
        return outcomes, tree

    def _insert_sealed_events(
        self,
        c: SQLiteCursor,
        stored_events: Sequence[StoredEvent],
        batch: SealedBatch,
        **kwargs: Any,
    ) -> tuple[Sequence[int], TreeWriter]:
        positions = self._admitted(c, stored_events, batch, **kwargs)
        tree = TreeWriter(events_table(self).statements, c, self._frontiers)
        tree.append(positions, batch.leaves)
        return positions, tree

    def _admitted(
        self,
        c: SQLiteCursor,
        stored_events: Sequence[StoredEvent],
        batch: SealedBatch,
        **kwargs: Any,
    ) -> Sequence[int]:
        # The insert first: it takes SQLite's write lock, and a read before it would pin a
        # snapshot that another connection's commit (sessions, views) makes unwritable. From
        # here until commit no other writer can add an event, so what the admission reads
        # stays true; a refusal rolls the insert back.
        positions = SQLiteApplicationRecorder._insert_events(self, c, stored_events, **kwargs)
        assert positions is not None
        read_after = insert_reader(self, c)
        batch.admit(answering({key: read_after(*key) for key in batch.reads}, read_after))
        return positions


def insert_reader(recorder: SealedInserts, cursor: Any) -> Callable[[UUID, int], list[StoredEvent]]:
    """A stream's stored events after a version, read on the insert's own cursor."""
    events = events_table(cast(ApplicationRecorder, recorder))

    def read_after(originator_id: UUID, version: int) -> list[StoredEvent]:
        rows = events.rows(
            cursor, events.after_version, stream=events.stream(originator_id), version=version
        )
        return stored_events_of(rows, originator_id)

    return read_after


def answering(
    fetched: dict[tuple[UUID, int], list[StoredEvent]], read_after: ReadAfter
) -> ReadAfter:
    """A :data:`ReadAfter` that answers from what was fetched, and reads anything else."""

    def answer(originator_id: UUID, version: int) -> list[StoredEvent]:
        found = fetched.get((originator_id, version))
        return found if found is not None else read_after(originator_id, version)

    return answer
