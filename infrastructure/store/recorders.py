"""sealtrail's recorders: eventsourcing's SQLite and PostgreSQL application recorders, sealed.

Each admits a save only with the sealed event store's batch (:mod:`infrastructure.store.
sealed_batch`), runs the store's last check and appends the save's Merkle leaves
(:mod:`infrastructure.store.merkle_log`) inside the library's own insert transaction.
eventsourcing has no public hook inside that transaction: its recorders call protected methods
that a subclass may override (its process recorders insert their tracking records so). The ones
overridden or called here are listed, with the signatures they are written against, in
:mod:`infrastructure.store.eventsourcing_private`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteDatastore
from psycopg import Cursor
from psycopg.rows import DictRow

from infrastructure.store.merkle_log import TreeWriter
from infrastructure.store.postgres_pool import once_more_after_a_broken_connection
from infrastructure.store.sealed_batch import SealedBatch, sealed, stored_events_of
from infrastructure.store.statements import events_table
from infrastructure.store.write_turns import WriteTurns


class SealedInserts(ABC):
    """``insert_events`` as both recorders take it: the sealed store's batch, typed, checked
    before anything is written, then the backend's own insert."""

    def insert_events(
        self,
        stored_events: Sequence[StoredEvent],
        *,
        sealed_batch: SealedBatch | None = None,
        **kwargs: Any,
    ) -> Sequence[int] | None:
        return self.insert_sealed(stored_events, sealed(sealed_batch, stored_events), **kwargs)

    @abstractmethod
    def insert_sealed(
        self, stored_events: Sequence[StoredEvent], batch: SealedBatch, **kwargs: Any
    ) -> Sequence[int] | None:
        """Insert the events, their leaves and the batch's last check in one transaction."""


class SealedSQLiteRecorder(SealedInserts, SQLiteApplicationRecorder):
    """SQLite's application recorder, sealed; the store's writers take turns
    (:mod:`infrastructure.store.write_turns`) for the transaction."""

    def __init__(self, datastore: SQLiteDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        name = datastore.pool.db_name
        self._turns = None if datastore.pool.is_sqlite_memory_mode else WriteTurns(Path(name))

    def insert_sealed(
        self, stored_events: Sequence[StoredEvent], batch: SealedBatch, **kwargs: Any
    ) -> Sequence[int] | None:
        insert = SQLiteApplicationRecorder.insert_events
        if self._turns is None:  # an in-memory database lives in one process
            return insert(self, stored_events, sealed_batch=batch, **kwargs)
        with self._turns.turn():
            return insert(self, stored_events, sealed_batch=batch, **kwargs)

    def _insert_events(
        self,
        c: SQLiteCursor,
        stored_events: Sequence[StoredEvent],
        *,
        sealed_batch: SealedBatch | None = None,
        **kwargs: Any,
    ) -> Sequence[int] | None:
        batch = sealed(sealed_batch, stored_events)
        # The insert first: it takes SQLite's write lock, and a read before it would pin a
        # snapshot that another connection's commit (sessions, views) makes unwritable. From
        # here until commit no other writer can add an event, so what the admission reads
        # stays true; a refusal rolls the insert back.
        positions = super()._insert_events(c, stored_events, **kwargs)
        assert positions is not None
        batch.admit(_reader(self, c))
        TreeWriter(events_table(self).statements, c).append(positions, batch.leaves)
        return positions


class SealedPostgresRecorder(SealedInserts, PostgresApplicationRecorder):
    """PostgreSQL's application recorder, sealed. The events table's EXCLUSIVE lock, taken by
    the insert, also orders the leaves: two writers can never append to the tree at once."""

    # eventsourcing retries each of these ten times on any operational error, which turns a
    # database outage into a minute's wait per request: once, after a broken connection, is
    # enough (infrastructure/store/postgres_pool.py).

    def insert_sealed(
        self, stored_events: Sequence[StoredEvent], batch: SealedBatch, **kwargs: Any
    ) -> Sequence[int] | None:
        insert = _undecorated(PostgresApplicationRecorder.insert_events)
        positions: Sequence[int] | None = once_more_after_a_broken_connection(
            self.datastore, lambda: insert(self, stored_events, sealed_batch=batch, **kwargs)
        )
        return positions

    def select_events(self, originator_id: Any, **kwargs: Any) -> Sequence[StoredEvent]:
        select_events = _undecorated(PostgresApplicationRecorder.select_events)
        return once_more_after_a_broken_connection(
            self.datastore, lambda: select_events(self, originator_id, **kwargs)
        )

    def select_notifications(self, *args: Any, **kwargs: Any) -> Sequence[Notification]:
        select = _undecorated(PostgresApplicationRecorder.select_notifications)
        return once_more_after_a_broken_connection(
            self.datastore, lambda: select(self, *args, **kwargs)
        )

    def max_notification_id(self) -> int | None:
        maximum = _undecorated(PostgresApplicationRecorder.max_notification_id)
        last: int | None = once_more_after_a_broken_connection(
            self.datastore, lambda: maximum(self)
        )
        return last

    def _insert_events(
        self,
        curs: Cursor[DictRow],
        stored_events: Sequence[StoredEvent],
        *,
        sealed_batch: SealedBatch | None = None,
        **kwargs: Any,
    ) -> None:
        batch = sealed(sealed_batch, stored_events)
        # The table lock the insert would take anyway, taken first: from here until commit no
        # other writer can add an event, so what the admission reads stays true.
        self._lock_table(curs)
        batch.admit(_reader(self, curs))
        super()._insert_events(curs, stored_events, **kwargs)

    def _fetch_ids_after_insert_events(
        self,
        curs: Cursor[DictRow],
        stored_events: Sequence[StoredEvent],
        *,
        sealed_batch: SealedBatch | None = None,
        **kwargs: Any,
    ) -> Sequence[int] | None:
        positions = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        assert positions is not None
        # eventsourcing commits before re-raising what happens here, so nothing here may fail
        # in Python after the insert: the batch was checked in _insert_events, and a database
        # error aborts the transaction, which then commits nothing.
        batch = sealed(sealed_batch, stored_events)
        with curs.connection.cursor() as tree_cursor:
            TreeWriter(events_table(self).statements, tree_cursor).append(positions, batch.leaves)
        return positions


def _reader(
    recorder: SealedSQLiteRecorder | SealedPostgresRecorder, cursor: Any
) -> Callable[[UUID, int], list[StoredEvent]]:
    """A stream's stored events after a version, read on the insert's own cursor."""
    events = events_table(recorder)

    def read_after(originator_id: UUID, version: int) -> list[StoredEvent]:
        rows = events.rows(
            cursor, events.after_version, stream=events.stream(originator_id), version=version
        )
        return stored_events_of(rows, originator_id)

    return read_after


def _undecorated(method: Callable[..., Any]) -> Callable[..., Any]:
    """The library's method without its retry decorator (eventsourcing_private.RETRIED_METHODS)."""
    undecorated: Callable[..., Any] = method.__wrapped__  # type: ignore[attr-defined]
    return undecorated
