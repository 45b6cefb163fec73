"""The Merkle log over the whole event log, kept in the same transaction as the events.

eventsourcing's recorders insert a save's events in one transaction. The recorder subclasses
here add, in that same transaction, one RFC 6962 leaf per event (in log order) and the interior
nodes that the new leaves complete: an append costs O(log n) node reads and writes, and the tree
is never recomputed, not even after a restart, because every complete subtree is stored. The log
and its tree therefore cannot disagree after a crash: either both have the event or neither does.

Leaves are numbered 0, 1, 2... in log order; PostgreSQL's notification ids may have gaps, so each
leaf also records the log position of its event (and commits to it in its data).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteDatastore
from psycopg import Cursor, sql
from psycopg.rows import DictRow
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    Text,
    select,
)

from infrastructure.store.postgres_pool import once_more_after_a_broken_connection
from infrastructure.store.write_turns import WriteTurns
from signatures.merkle import append_leaf

metadata = MetaData()


def _key(name: str, kind: type[BigInteger | Integer]) -> Column[Any]:
    # The tree's numbering, not the database's: a key the log assigns, never autoincremented.
    return Column(name, kind, primary_key=True, autoincrement=False)


merkle_leaves = Table(
    "merkle_leaves",
    metadata,
    _key("leaf_index", BigInteger),
    Column("position", BigInteger, nullable=False, unique=True),
    Column("leaf_hash", LargeBinary, nullable=False),
)

merkle_nodes = Table(
    "merkle_nodes",
    metadata,
    _key("level", Integer),
    _key("node_index", BigInteger),
    Column("hash", LargeBinary, nullable=False),
)

checkpoints = Table(
    "checkpoints",
    metadata,
    _key("tree_size", BigInteger),
    Column("root", LargeBinary, nullable=False),
    Column("note", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

log_identity = Table(
    "log_identity",
    metadata,
    # One row, written once by the first process that opens the store (``sealtrail init``).
    _key("singleton", Integer),
    Column("origin", Text, nullable=False),
)
"""The log's origin, the name its checkpoints are signed under: kept with the store so that
every command, a restored copy and a replica's reader find it without a setting."""

APPEND_ONLY_TABLES = ("merkle_leaves", "merkle_nodes", "checkpoints", "log_identity")

LEAF_DATA = "leaf_data"
"""The keyword argument by which the event store hands each event's pending leaf to the recorder."""

ADMISSION = "admission"
"""The keyword argument of the event store's last check, run by the recorder in the insert's
transaction once the write turn is held, and given a :data:`ReadAfter` on that transaction."""

ReadAfter = Callable[[UUID, int], list[StoredEvent]]
"""The stored events of one stream after a version, read in the insert's own transaction."""


@dataclass
class PendingLeaf:
    """One event's leaf-to-be: how to make its data once its position is known, and, after the
    insert, the leaf index and position the recorder gave it."""

    make: Callable[[int], bytes]
    leaf_index: int | None = None
    position: int | None = None


SELECT_SIZE = "SELECT MAX(leaf_index) FROM merkle_leaves"
SELECT_NODES = "SELECT level, node_index, hash FROM merkle_nodes"
INSERT_NODE = "INSERT INTO merkle_nodes (level, node_index, hash) VALUES (?, ?, ?)"
INSERT_LEAF = "INSERT INTO merkle_leaves (leaf_index, position, leaf_hash) VALUES (?, ?, ?)"


class _TreeWriter:
    """Node reads and writes on the recorder's own cursor, inside its transaction.

    Statements are written with ``?`` placeholders; the PostgreSQL recorder turns them into
    psycopg's ``%s``.
    """

    def __init__(
        self,
        query: Callable[[str, tuple[Any, ...]], list[Any]],
        command: Callable[[str, tuple[Any, ...]], None],
    ) -> None:
        self._query = query
        self._command = command
        self._nodes: dict[tuple[int, int], bytes] = {}

    def append(self, positions: Sequence[int], leaves: Sequence[PendingLeaf]) -> None:
        if len(positions) != len(leaves):
            raise RuntimeError("every stored event needs exactly one Merkle leaf")
        size = self._size()
        self._nodes = self._siblings_before(size, len(leaves))
        for offset, (position, leaf) in enumerate(zip(positions, leaves, strict=True)):
            leaf_index = size + offset
            hashed = append_leaf(self._read, self._write, leaf_index, leaf.make(position))
            self._command(INSERT_LEAF, (leaf_index, position, hashed))
            leaf.leaf_index, leaf.position = leaf_index, position

    def _siblings_before(self, size: int, count: int) -> dict[tuple[int, int], bytes]:
        """Every stored node the appends will combine with, fetched in one query."""
        wanted = set()
        for leaf_index in range(size, size + count):
            level, index = 0, leaf_index
            while index & 1:
                if index << level <= size:  # its leaves all came before this batch
                    wanted.add((level, index - 1))
                level, index = level + 1, index >> 1
        if not wanted:
            return {}
        clauses = " OR ".join(["(level = ? AND node_index = ?)"] * len(wanted))
        params = tuple(value for pair in sorted(wanted) for value in pair)
        rows = self._query(f"{SELECT_NODES} WHERE {clauses}", params)
        return {(int(level), int(index)): bytes(value) for level, index, value in rows}

    def _size(self) -> int:
        rows = self._query(SELECT_SIZE, ())
        largest = rows[0][0] if rows else None
        return 0 if largest is None else int(largest) + 1

    def _read(self, level: int, index: int) -> bytes:
        return self._nodes[(level, index)]

    def _write(self, level: int, index: int, value: bytes) -> None:
        self._nodes[(level, index)] = value
        self._command(INSERT_NODE, (level, index, value))


def _admit(kwargs: dict[str, Any], read_after: ReadAfter) -> None:
    admission = kwargs.get(ADMISSION)
    if admission is None:
        raise RuntimeError("events reach the recorder only through the sealed event store")
    admission(read_after)


def _stored_events(rows: Sequence[Any], originator_id: UUID) -> list[StoredEvent]:
    return [
        StoredEvent(
            originator_id=originator_id,
            originator_version=int(version),
            topic=str(topic),
            state=bytes(state),
        )
        for version, topic, state in rows
    ]


def _pending_leaves(
    kwargs: dict[str, Any], stored_events: Sequence[StoredEvent]
) -> list[PendingLeaf]:
    leaves = kwargs.get(LEAF_DATA)
    if leaves is None or len(leaves) != len(stored_events):
        # Checked before anything is written: an event without a leaf is never stored.
        raise RuntimeError("events reach the recorder only through the sealed event store")
    return list(leaves)


class SealedSQLiteRecorder(SQLiteApplicationRecorder):
    """SQLite's application recorder, appending Merkle leaves in the insert's transaction.

    The store's writers take turns (:mod:`infrastructure.store.write_turns`) for the transaction.
    """

    def __init__(self, datastore: SQLiteDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        name = datastore.pool.db_name
        self._turns = None if datastore.pool.is_sqlite_memory_mode else WriteTurns(Path(name))

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        if self._turns is None:  # an in-memory database lives in one process
            return super().insert_events(stored_events, **kwargs)
        with self._turns.turn():
            return super().insert_events(stored_events, **kwargs)

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        makers = _pending_leaves(kwargs, stored_events)
        table = self.events_table_name  # eventsourcing's own name, never user input

        def read_after(originator_id: UUID, version: int) -> list[StoredEvent]:
            c.execute(
                f"SELECT originator_version, topic, state FROM {table} "  # noqa: S608
                "WHERE originator_id = ? AND originator_version > ? ORDER BY originator_version",
                (originator_id.hex, version),
            )
            return _stored_events(c.fetchall(), originator_id)

        # The insert first: it takes SQLite's write lock, and a read before it would pin a
        # snapshot that another connection's commit (sessions, views) makes unwritable. From
        # here until commit no other writer can add an event, so what the admission reads
        # stays true; a refusal rolls the insert back.
        positions = super()._insert_events(c, stored_events, **kwargs)
        _admit(kwargs, read_after)
        assert positions is not None

        def query(statement: str, params: tuple[Any, ...]) -> list[Any]:
            c.execute(statement, params)
            return list(c.fetchall())

        def command(statement: str, params: tuple[Any, ...]) -> None:
            c.execute(statement, params)

        _TreeWriter(query, command).append(positions, makers)
        return positions


class SealedPostgresRecorder(PostgresApplicationRecorder):
    """PostgreSQL's application recorder, appending Merkle leaves in the insert's transaction.

    The events table's EXCLUSIVE lock, taken by the insert, also orders the leaves: two writers
    can never append to the tree at once.
    """

    # eventsourcing retries each of these ten times on any operational error, which turns a
    # database outage into a minute's wait per request: once, after a broken connection, is
    # enough (infrastructure/store/postgres_pool.py).

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        insert = _undecorated(PostgresApplicationRecorder.insert_events)
        positions: Sequence[int] | None = once_more_after_a_broken_connection(
            self.datastore, lambda: insert(self, stored_events, **kwargs)
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
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        _pending_leaves(kwargs, stored_events)
        # The table lock the insert would take anyway, taken first: from here until commit no
        # other writer can add an event, so what the admission reads stays true.
        self._lock_table(curs)
        select = sql.SQL(
            "SELECT originator_version, topic, state FROM {schema}.{table} "
            "WHERE originator_id = %s AND originator_version > %s ORDER BY originator_version"
        ).format(
            schema=sql.Identifier(self.datastore.schema),
            table=sql.Identifier(self.events_table_name),
        )

        def read_after(originator_id: UUID, version: int) -> list[StoredEvent]:
            curs.execute(select, (originator_id, version))
            rows = [(r["originator_version"], r["topic"], r["state"]) for r in curs.fetchall()]
            return _stored_events(rows, originator_id)

        _admit(kwargs, read_after)
        super()._insert_events(curs, stored_events, **kwargs)

    def _fetch_ids_after_insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        positions = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        assert positions is not None
        # eventsourcing commits before re-raising what happens here, so nothing here may fail
        # in Python after the insert: the leaf makers were checked in _insert_events, and a
        # database error aborts the transaction, which then commits nothing.
        with curs.connection.cursor() as tree_cursor:

            def query(statement: str, params: tuple[Any, ...]) -> list[Any]:
                tree_cursor.execute(statement.replace("?", "%s"), params)
                return [tuple(row.values()) for row in tree_cursor.fetchall()]

            def command(statement: str, params: tuple[Any, ...]) -> None:
                tree_cursor.execute(statement.replace("?", "%s"), params)

            _TreeWriter(query, command).append(positions, _pending_leaves(kwargs, stored_events))
        return positions


def _undecorated(method: Callable[..., Any]) -> Callable[..., Any]:
    """The library's method without its retry decorator (functools.wraps keeps it)."""
    return getattr(method, "__wrapped__", method)


class StoredTree:
    """The stored tree, read through SQLAlchemy: a :class:`~signatures.merkle.SubtreeSource`."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def node(self, level: int, index: int) -> bytes:
        """The hash of a complete aligned subtree; KeyError if the tree has not got it."""
        value = self._connection.execute(
            select(merkle_nodes.c.hash).where(
                merkle_nodes.c.level == level, merkle_nodes.c.node_index == index
            )
        ).scalar_one_or_none()
        if value is None:
            raise KeyError((level, index))
        return bytes(value)

    def size(self) -> int:
        """How many leaves the tree has."""
        largest = self._connection.execute(
            select(merkle_leaves.c.leaf_index).order_by(merkle_leaves.c.leaf_index.desc()).limit(1)
        ).scalar_one_or_none()
        return 0 if largest is None else int(largest) + 1

    def leaf_of_position(self, position: int) -> tuple[int, bytes] | None:
        """The leaf index and leaf hash of the event at a log position."""
        row = self._connection.execute(
            select(merkle_leaves.c.leaf_index, merkle_leaves.c.leaf_hash).where(
                merkle_leaves.c.position == position
            )
        ).one_or_none()
        return None if row is None else (int(row[0]), bytes(row[1]))
