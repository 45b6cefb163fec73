"""SQL run on eventsourcing's own connections, written in SQLAlchemy Core: the one place that
knows the backends' dialects.

What must share the library's transaction (the Merkle tree's appends, the admission's reads) or
its pool (a stream's log positions) runs on the cursor eventsourcing hands out, not through a
SQLAlchemy ``Connection``. Each statement is still written once in SQLAlchemy Core and compiled
here, once, for the backend's dialect: SQLite's ``?`` and psycopg's ``%(name)s`` placeholders,
SQLite's ``rowid`` and PostgreSQL's ``notification_id`` as the log position, hex and UUID stream
ids are decided in this module and nowhere else.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from operator import itemgetter
from typing import Any, cast
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from sqlalchemy import BigInteger, LargeBinary, Text, and_, bindparam, func, or_, select
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement, Insert, Select, column, table
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ColumnClause, TableClause


class CompiledStatement:
    """A Core statement compiled for one dialect: its SQL, how its parameters are passed, and
    how its result's values are typed (as SQLAlchemy would type them through a Connection).

    Parameters reach the driver as given (no bind processing): plain strings, numbers, bytes
    and, on PostgreSQL, UUIDs.
    """

    def __init__(self, statement: ClauseElement, dialect: Dialect) -> None:
        keys = None
        if isinstance(statement, Insert):  # every column, each bound under its own name
            keys = [column.key for column in statement.table.c]
        compiled = cast(SQLCompiler, statement.compile(dialect=dialect, column_keys=keys))
        self.sql = str(compiled)
        # Positional paramstyles (SQLite's ``?``) take a tuple in the placeholders' order.
        self.positions = list(compiled.positiontup or ()) if compiled.positional else None
        """The parameters' names in placeholder order, for a positional paramstyle."""
        self._in_order = None if self.positions is None else _in_order(self.positions)
        selected = list(statement.selected_columns) if isinstance(statement, Select) else []
        processors = [
            column.type.dialect_impl(dialect).result_processor(dialect, None) for column in selected
        ]
        self._processors = None if all(p is None for p in processors) else processors

    def arguments(self, parameters: Mapping[str, Any]) -> Any:
        """The parameters as the driver's paramstyle takes them."""
        return parameters if self._in_order is None else self._in_order(parameters)

    def typed(self, rows: Sequence[Any]) -> Sequence[Sequence[Any]]:
        """Fetched rows (tuples, ``sqlite3.Row``s or psycopg's dicts) as sequences of typed
        values, in the statement's column order."""
        if rows and isinstance(rows[0], dict):
            rows = [tuple(row.values()) for row in rows]
        if self._processors is None:
            return rows  # the driver's values are already the types SQLAlchemy would give
        return [
            tuple(
                value if process is None else process(value)
                for process, value in zip(self._processors, row, strict=True)
            )
            for row in rows
        ]


class BoundStatement:
    """A compiled statement whose parameters are given as values in a fixed order of names: for
    what an append runs for each leaf and node, where a mapping built for every row would cost
    more than the driver's insert of it."""

    def __init__(self, compiled: CompiledStatement, names: tuple[str, ...]) -> None:
        self.compiled = compiled
        self._same_order = compiled.positions == list(names)
        self._names = names

    def arguments(self, values: tuple[Any, ...]) -> Any:
        """The driver's parameters for these values."""
        if self._same_order:
            return values
        return self.compiled.arguments(dict(zip(self._names, values, strict=True)))

    def run(self, cursor: Any, values: tuple[Any, ...]) -> None:
        """Run it on a DB-API cursor."""
        cursor.execute(self.compiled.sql, self.arguments(values))

    def rows(self, cursor: Any, values: tuple[Any, ...]) -> Sequence[Sequence[Any]]:
        """Run it on a DB-API cursor; its rows, typed."""
        cursor.execute(self.compiled.sql, self.arguments(values))
        return self.compiled.typed(cursor.fetchall())

    def fetched(self, cursor: Any) -> Sequence[Sequence[Any]]:
        """The rows of its run on ``cursor`` (sent earlier, in a pipeline), typed."""
        return self.compiled.typed(cursor.fetchall())


def _in_order(names: Sequence[str]) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    """A function picking these parameters out of a mapping, as a tuple in this order."""
    if not names:
        return lambda _: ()
    if len(names) == 1:
        (name,) = names
        return lambda parameters: (parameters[name],)
    return cast(Callable[[Mapping[str, Any]], tuple[Any, ...]], itemgetter(*names))


class Statements:
    """Core statements compiled for one dialect, each the first time it is run (and kept as
    long as the statement is)."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self._compiled: weakref.WeakKeyDictionary[ClauseElement, CompiledStatement] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()

    def compiled(self, statement: ClauseElement) -> CompiledStatement:
        """The statement compiled for this dialect."""
        found = self._compiled.get(statement)
        if found is None:
            found = CompiledStatement(statement, self.dialect)
            with self._lock:
                self._compiled[statement] = found
        return found

    def bound(self, statement: ClauseElement, names: Sequence[str]) -> BoundStatement:
        """The statement compiled, run with its parameters' values in the order of ``names``."""
        return BoundStatement(self.compiled(statement), tuple(names))

    def rows(
        self, cursor: Any, statement: ClauseElement, **parameters: Any
    ) -> Sequence[Sequence[Any]]:
        """Run a SELECT on a DB-API cursor; its rows, typed."""
        compiled = self.compiled(statement)
        cursor.execute(compiled.sql, compiled.arguments(parameters))
        return compiled.typed(cursor.fetchall())

    def run(self, cursor: Any, statement: ClauseElement, **parameters: Any) -> None:
        """Run a statement that returns no rows on a DB-API cursor."""
        compiled = self.compiled(statement)
        cursor.execute(compiled.sql, compiled.arguments(parameters))


SQLITE = Statements(SQLiteDialect_pysqlite())


@cache
def postgres_statements() -> Statements:
    """PostgreSQL's statements, made the first time a PostgreSQL store asks: psycopg and
    SQLAlchemy's dialect for it cost a SQLite store's every console command ~0.1 s to import."""
    from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg

    return Statements(PGDialect_psycopg())  # type: ignore[no-untyped-call]


class EventsTable:
    """eventsourcing's events table on one backend, as SQLAlchemy Core sees it, and the reads
    of it that sealtrail makes on the recorder's own connections."""

    def __init__(self, statements: Statements, events: TableClause, hex_ids: bool) -> None:
        self.statements = statements
        self.table = events
        self._hex_ids = hex_ids  # SQLite keeps stream ids as 32 hex digits, PostgreSQL as uuid
        columns = events.c
        self.position: ColumnClause[int] = list(columns)[-1]
        """The log position (notification id): ``rowid`` on SQLite."""
        of_stream = columns.originator_id == bindparam("stream")
        self.after_version = (
            select(columns.originator_version, columns.topic, columns.state)
            .where(of_stream, columns.originator_version > bindparam("version"))
            .order_by(columns.originator_version)
        )
        """A stream's events after ``version``, in order."""
        self.positions_of_stream = select(columns.originator_version, self.position).where(
            of_stream
        )
        """Each version of a stream and its log position."""
        self.version_at_position = select(func.max(columns.originator_version)).where(
            of_stream, self.position <= bindparam("position")
        )
        """A stream's last version at or before a log position (NULL if none)."""
        self.position_of_version = select(func.max(self.position)).where(
            of_stream, columns.originator_version == bindparam("version")
        )
        """The log position of one version of a stream (NULL if it is not stored)."""
        self._versions_among: dict[int, Select[Any]] = {}
        self._after_versions: dict[int, Select[Any]] = {}

    def after_versions(self, count: int) -> Select[Any]:
        """The events of ``count`` streams, each after a version, bound as ``stream_0`` and
        ``version_0``, ``stream_1``...: several streams brought up to date by one read."""
        found = self._after_versions.get(count)
        if found is None:
            columns = self.table.c
            found = cast(
                Select[Any],
                select(
                    columns.originator_id,
                    columns.originator_version,
                    columns.topic,
                    columns.state,
                ).where(
                    or_(
                        *(
                            and_(
                                columns.originator_id == bindparam(f"stream_{n}"),
                                columns.originator_version > bindparam(f"version_{n}"),
                            )
                            for n in range(count)
                        )
                    )
                ),
            )
            self._after_versions[count] = found
        return found

    def versions_among(self, count: int) -> Select[Any]:
        """A stream's events at ``count`` versions, bound as ``version_0``, ``version_1``..."""
        found = self._versions_among.get(count)
        if found is None:
            columns = self.table.c
            found = cast(
                Select[Any],
                select(columns.originator_version, columns.topic, columns.state).where(
                    columns.originator_id == bindparam("stream"),
                    columns.originator_version.in_(
                        [bindparam(f"version_{n}") for n in range(count)]
                    ),
                ),
            )
            self._versions_among[count] = found
        return found

    def stream(self, originator_id: UUID) -> str | UUID:
        """A stream id as the table holds it, for the ``stream`` parameter."""
        return originator_id.hex if self._hex_ids else originator_id

    def stream_id(self, stored: str | UUID) -> UUID:
        """A stream id as the table gives it back, as a UUID."""
        return stored if isinstance(stored, UUID) else UUID(hex=stored)

    def rows(
        self, cursor: Any, statement: ClauseElement, **parameters: Any
    ) -> Sequence[Sequence[Any]]:
        """Run a SELECT of this table on the recorder's cursor; its rows, typed."""
        return self.statements.rows(cursor, statement, **parameters)


def _columns(position: str) -> Sequence[ColumnClause[Any]]:
    return (
        column("originator_id"),  # a stream id as the table holds it: see EventsTable.stream
        column("originator_version", BigInteger),
        column("topic", Text),
        column("state", LargeBinary),
        # The log position, under one name whatever the backend calls it.
        column(position, BigInteger),  # the log position, last
    )


_TABLES: weakref.WeakKeyDictionary[ApplicationRecorder, EventsTable] = weakref.WeakKeyDictionary()


def events_table(recorder: ApplicationRecorder) -> EventsTable:
    """The recorder's events table, on its backend (made once per recorder)."""
    found = _TABLES.get(recorder)
    if found is not None:
        return found
    if isinstance(recorder, SQLiteApplicationRecorder):
        found = EventsTable(
            SQLITE, table(recorder.events_table_name, *_columns("rowid")), hex_ids=True
        )
    else:
        # Imported here: a recorder of PostgreSQL's has imported it already.
        from eventsourcing.postgres import PostgresApplicationRecorder

        if not isinstance(recorder, PostgresApplicationRecorder):  # pragma: no cover
            raise TypeError(f"no SQL dialect for {type(recorder).__name__}")  # Settings: two
        events = table(
            recorder.events_table_name,
            *_columns("notification_id"),
            schema=recorder.datastore.schema,
        )
        found = EventsTable(postgres_statements(), events, hex_ids=False)
    _TABLES[recorder] = found
    return found
