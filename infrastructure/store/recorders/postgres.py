"""sealtrail's PostgreSQL recorder and the factory that makes it, its pool tuned for outages
(:mod:`infrastructure.store.postgres_pool`): imported only for a PostgreSQL store, through the
settings' topics (``PERSISTENCE_MODULE``, ``APPLICATION_RECORDER_TOPIC``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError, Notification, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore, PostgresFactory
from eventsourcing.utils import Environment
from psycopg import Connection, Cursor, Pipeline
from psycopg.pq import TransactionStatus
from psycopg.rows import DictRow
from sqlalchemy import Select

from infrastructure.store.merkle_log import FrontierCache, TreeWriter, tree_size
from infrastructure.store.postgres_pool import (
    CONNECT_TIMEOUT,
    POOL_TIMEOUT,
    RECONNECT_SECONDS,
    once_more_after_a_broken_connection,
    session_options,
)
from infrastructure.store.recorders import SealedInserts, answering, insert_reader
from infrastructure.store.sealed_batch import SealedBatch, stored_events_of
from infrastructure.store.statements import EventsTable, events_table
from infrastructure.store.write_groups import Member, Outcome, WriteGroups, database_failure

_IN_TRANSACTION = (TransactionStatus.INTRANS, TransactionStatus.INERROR)


class SealedPostgresFactory(PostgresFactory):
    """eventsourcing's PostgreSQL factory, its pool set for outages as
    :mod:`infrastructure.store.postgres_pool` says."""

    def __init__(self, env: Environment) -> None:
        super().__init__(env)
        tune(self.datastore, env.get("SEALTRAIL_POSTGRES_OPTIONS") or None)


def tune(datastore: PostgresDatastore, options: str | None = None) -> None:
    """Set the pool's waits before it opens its first connection; ``options``: the database
    URL's own session options, kept before the statement timeout as the other pool keeps
    them."""
    pool = datastore.pool
    pool.timeout = POOL_TIMEOUT
    pool.reconnect_timeout = RECONNECT_SECONDS
    assert isinstance(pool.kwargs, dict)  # eventsourcing passes its connection settings so
    pool.kwargs["connect_timeout"] = CONNECT_TIMEOUT
    pool.kwargs["options"] = session_options(options)


class SealedPostgresRecorder(SealedInserts, PostgresApplicationRecorder):
    """PostgreSQL's application recorder, sealed. The events table's EXCLUSIVE lock, taken
    first in the insert's transaction, also orders the leaves: two writers can never append to
    the tree at once.

    The transaction is sealtrail's own, in psycopg's pipeline mode, in three round trips:
    ``BEGIN``, the lock and the admission's reads (each signer's account after the version
    it was checked at, and the tree's size), fetched together; the insert, synced (a version
    already taken is an ``IntegrityError`` here); the leaves, the nodes and ``COMMIT``, synced
    as the pipeline ends. eventsourcing's own insert (``conn.transaction()`` inside a pipeline)
    takes eight, and its admission hook runs before reads can be batched.
    """

    # eventsourcing retries each of these ten times on any operational error, which turns a
    # database outage into a minute's wait per request: once, after a broken connection, is
    # enough (infrastructure/store/postgres_pool.py).

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self._frontiers = FrontierCache()
        self.groups = WriteGroups()

    def commit_group(self, members: Sequence[Member]) -> list[Outcome]:
        # The whole group once more after a broken connection: nothing of it was committed.
        outcomes: list[Outcome] = once_more_after_a_broken_connection(
            self.datastore, lambda: self._group_in_transaction(members)
        )
        return outcomes

    def _group_in_transaction(self, members: Sequence[Member]) -> list[Outcome]:
        with self.datastore.get_connection() as connection:  # psycopg's errors made the library's
            failure: Exception | None = None
            try:
                # The pool's connections are in autocommit mode: the transaction is begun and
                # committed here, inside one pipeline.
                with connection.pipeline() as pipeline, connection.cursor() as cursor:
                    try:
                        outcomes, tree = self._insert_pipelined(
                            connection, pipeline, cursor, members
                        )
                    except Exception as error:
                        failure = error  # raised once the pipeline has ended, without a warning
            finally:
                if connection.pgconn.transaction_status in _IN_TRANSACTION:
                    connection.execute("ROLLBACK")
            if failure is not None:
                raise failure
        self._frontiers.keep(tree.left)
        return outcomes

    def _insert_pipelined(
        self,
        connection: Connection[DictRow],
        pipeline: Pipeline,
        cursor: Cursor[DictRow],
        members: Sequence[Member],
    ) -> tuple[list[Outcome], TreeWriter]:
        events = events_table(self)
        cursor.execute("BEGIN")
        self._lock_table(cursor)
        # From here until commit no other writer can add an event, so what the admission
        # reads stays true. The reads (of every member) are sent together and fetched in one
        # round trip; with them, for a group of several, whether each version its members
        # write is stored already.
        reads = dict.fromkeys(key for member in members for key in member.batch.reads)
        queued = {key: _queued_read(events, connection, *key) for key in reads}
        versions = {} if len(members) == 1 else _queued_versions(events, connection, members)
        tree_cursor = connection.cursor()
        tree = TreeWriter(events.statements, tree_cursor, self._frontiers)
        tree.size_statement.run(tree_cursor, ())
        fetched = {key: read() for key, read in queued.items()}
        stored = {key for key, is_stored in versions.items() if is_stored()}
        size = tree_size(tree.size_statement.fetched(tree_cursor))
        if len(members) == 1:
            (member,) = members
            member.batch.admit(answering(fetched, insert_reader(self, cursor)))
            self._insert_stored_events(cursor, member.stored_events)  # the lock again (held)
            pipeline.sync()  # a version already taken fails here
            positions = self._fetch_ids_after_insert_events(cursor, member.stored_events)
            assert positions is not None
            outcomes: list[Outcome] = [positions]
            kept = [(positions, member.batch)]
        else:
            outcomes, kept = self._insert_members(connection, pipeline, members, fetched, stored)
        tree.append(
            [p for positions, _ in kept for p in positions],
            [leaf for _, batch in kept for leaf in batch.leaves],
            size,
        )
        cursor.execute("COMMIT")
        return outcomes, tree

    def _insert_members(
        self,
        connection: Connection[DictRow],
        pipeline: Pipeline,
        members: Sequence[Member],
        fetched: dict[tuple[UUID, int], list[StoredEvent]],
        stored: set[tuple[UUID, int]],
    ) -> tuple[list[Outcome], list[tuple[Sequence[int], SealedBatch]]]:
        """Each member refused if a version it writes is ``stored`` or written by an earlier
        member (the table's key would refuse its insert), else judged by its batch's last
        check, else inserted; the inserts are sent one after another and synced together.

        A member is judged on the reads fetched at the lock, except of a stream an earlier
        member wrote to: that one it reads again, in the transaction, after the earlier
        member's insert. No member's insert can fail on its key, so none needs a savepoint
        (a statement prepared inside a savepoint rolled back is lost to the connection, which
        psycopg does not know in pipeline mode); an insert that fails all the same fails the
        group."""
        outcomes: list[Outcome | None] = []
        inserting: list[tuple[int, Member, Cursor[DictRow]]] = []
        taken = set(stored)
        written: set[UUID] = set()
        for member in members:
            keys = _versions_of(member)
            if any(key in taken for key in keys):
                outcomes.append(IntegrityError("a version the save writes is already stored"))
                continue
            current = {key: found for key, found in fetched.items() if key[0] not in written}
            try:
                member.batch.admit(answering(current, insert_reader(self, connection.cursor())))
            except Exception as refusal:
                if database_failure(refusal):
                    raise  # the transaction's failure, every member's
                outcomes.append(refusal)
                continue
            member_cursor = connection.cursor()
            self._insert_stored_events(member_cursor, member.stored_events)  # sent, not synced
            inserting.append((len(outcomes), member, member_cursor))
            outcomes.append(None)
            taken.update(keys)
            written.update(key[0] for key in keys)
        pipeline.sync()
        kept: list[tuple[Sequence[int], SealedBatch]] = []
        for index, member, member_cursor in inserting:
            positions = self._fetch_ids_after_insert_events(member_cursor, member.stored_events)
            assert positions is not None
            outcomes[index] = positions
            kept.append((positions, member.batch))
        answered = [outcome for outcome in outcomes if outcome is not None]
        assert len(answered) == len(members)
        return answered, kept

    def _read_rows(
        self, events: EventsTable, statement: Select[Any], parameters: dict[str, Any]
    ) -> Sequence[Sequence[Any]]:
        def read() -> Sequence[Sequence[Any]]:
            with self.datastore.get_connection() as connection, connection.cursor() as cursor:
                return events.rows(cursor, statement, **parameters)

        rows: Sequence[Sequence[Any]] = once_more_after_a_broken_connection(self.datastore, read)
        return rows

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


def _queued_read(
    events: EventsTable, connection: Any, originator_id: UUID, version: int
) -> Callable[[], list[StoredEvent]]:
    """A stream's events after a version, sent now on a cursor of its own (in a pipeline, not
    waited for); the returned function fetches them."""
    cursor = connection.cursor()
    compiled = events.statements.compiled(events.after_version)
    parameters = {"stream": events.stream(originator_id), "version": version}
    cursor.execute(compiled.sql, compiled.arguments(parameters))

    def fetch() -> list[StoredEvent]:
        return stored_events_of(compiled.typed(cursor.fetchall()), originator_id)

    return fetch


def _queued_versions(
    events: EventsTable, connection: Any, members: Sequence[Member]
) -> dict[tuple[UUID, int], Callable[[], bool]]:
    """Whether each version the members write is stored, each asked now on a cursor of its
    own (in a pipeline, not waited for); each returned function fetches its answer."""
    compiled = events.statements.compiled(events.position_of_version)
    asked: dict[tuple[UUID, int], Callable[[], bool]] = {}
    for member in members:
        for key in _versions_of(member):
            if key in asked:
                continue
            cursor = connection.cursor()
            parameters = {"stream": events.stream(key[0]), "version": key[1]}
            cursor.execute(compiled.sql, compiled.arguments(parameters))

            def fetch(cursor: Any = cursor) -> bool:
                (row,) = compiled.typed(cursor.fetchall())
                return row[0] is not None

            asked[key] = fetch
    return asked


def _versions_of(member: Member) -> list[tuple[UUID, int]]:
    """The (stream, version) of each event a member writes: the events table's key."""
    return [(UUID(str(e.originator_id)), e.originator_version) for e in member.stored_events]


def _undecorated(method: Callable[..., Any]) -> Callable[..., Any]:
    """The library's method without its retry decorator (eventsourcing_private.RETRIED_METHODS)."""
    undecorated: Callable[..., Any] = method.__wrapped__  # type: ignore[attr-defined]
    return undecorated
