"""The few statements sealtrail needs beyond eventsourcing's recorders, per backend.

eventsourcing owns the events table and how events go in and come out. We add what it does
not do: refuse UPDATE, DELETE and TRUNCATE at the database (the library never issues them, but
nothing stopped a person with a SQL prompt), and find the log position of a stored event.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, cast
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from psycopg import sql
from sqlalchemy import Engine, Select

IMMUTABLE_MESSAGE = "sealtrail: stored events are immutable"


class PreparedQuery:
    """A SELECT compiled once for an engine's dialect, run straight on a pooled DB-API connection.

    For the few reads every request makes: SQLAlchemy's statement machinery (cache key,
    execution context, result set) costs several times the query itself on SQLite. The SQL,
    its parameters and its result types are still SQLAlchemy's, so each backend gets the
    statement and the values it would have got through a Connection. On SQLite the statement
    runs in the driver's autocommit mode, a read snapshot of its own that takes no write lock;
    on PostgreSQL the pool rolls back the connection's read transaction when it is returned.
    Parameters reach the driver as given (no bind processing): plain strings and numbers.
    """

    def __init__(self, engine: Engine, statement: Select[Any]) -> None:
        self._engine = engine
        compiled = statement.compile(dialect=engine.dialect)
        self._sql = str(compiled)
        self._compiled = compiled
        self._processors = [
            column.type.dialect_impl(engine.dialect).result_processor(engine.dialect, None)
            for column in statement.selected_columns
        ]

    def first(self, **parameters: Any) -> tuple[Any, ...] | None:
        """The first row for these bound parameters, its values typed as SQLAlchemy types them."""
        bound = self._compiled.construct_params(parameters)
        arguments: Any = (
            tuple(bound[name] for name in self._compiled.positiontup or ())
            if self._compiled.positional
            else bound
        )
        connection = self._engine.raw_connection()
        try:
            cursor = connection.cursor()
            try:
                cursor.execute(self._sql, arguments)
                row = cursor.fetchone()
            finally:
                cursor.close()
        finally:
            connection.close()
        if row is None:
            return None
        return tuple(
            value if process is None else process(value)
            for process, value in zip(self._processors, row, strict=True)
        )


def protect_tables(recorder: ApplicationRecorder, others: Sequence[str] = ()) -> None:
    """Install the triggers that refuse changes to the events table and to ``others``.

    Idempotent: run by every process that opens the store.
    """
    tables = [recorder.events_table_name, *others]  # type: ignore[attr-defined]
    if isinstance(recorder, SQLiteApplicationRecorder):
        _protect_sqlite(recorder, tables)
    elif isinstance(recorder, PostgresApplicationRecorder):
        for table in tables:
            _protect_postgres(recorder, table)
    else:  # pragma: no cover - only the two backends are configured by Settings
        raise TypeError(f"no immutability triggers for {type(recorder).__name__}")


def _protect_sqlite(recorder: SQLiteApplicationRecorder, tables: Sequence[str]) -> None:
    with recorder.datastore.transaction(commit=True) as cursor:
        for table in tables:
            for operation in ("UPDATE", "DELETE"):
                cursor.execute(
                    f"CREATE TRIGGER IF NOT EXISTS {table}_refuse_{operation.lower()} "
                    f"BEFORE {operation} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{IMMUTABLE_MESSAGE}: {operation} refused'); END"
                )


_POSTGRES_FUNCTION = sql.SQL(
    "CREATE OR REPLACE FUNCTION {schema}.sealtrail_refuse_change() RETURNS trigger "
    "LANGUAGE plpgsql AS $$ BEGIN "
    "RAISE EXCEPTION '" + IMMUTABLE_MESSAGE + ": % refused on %', TG_OP, TG_TABLE_NAME "
    "USING ERRCODE = 'insufficient_privilege'; END $$"
)


def _protect_postgres(recorder: PostgresApplicationRecorder, name: str) -> None:
    schema = sql.Identifier(recorder.datastore.schema)
    table = sql.Identifier(name)
    with recorder.datastore.transaction(commit=True) as cursor:
        # Several workers may start at once; serialise the DDL so they do not collide.
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('sealtrail-triggers'))")
        cursor.execute(
            "SELECT count(*) AS n FROM pg_trigger WHERE tgname = ANY(%s)",
            ([f"{name}_refuse_update_delete", f"{name}_refuse_truncate"],),
        )
        row = cursor.fetchone()
        if row is not None and row["n"] == 2:
            return
        cursor.execute(_POSTGRES_FUNCTION.format(schema=schema))
        cursor.execute(
            sql.SQL(
                "CREATE OR REPLACE TRIGGER {trigger} BEFORE UPDATE OR DELETE ON {schema}.{table} "
                "FOR EACH ROW EXECUTE FUNCTION {schema}.sealtrail_refuse_change()"
            ).format(
                trigger=sql.Identifier(f"{name}_refuse_update_delete"), schema=schema, table=table
            )
        )
        cursor.execute(
            sql.SQL(
                "CREATE OR REPLACE TRIGGER {trigger} BEFORE TRUNCATE ON {schema}.{table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION {schema}.sealtrail_refuse_change()"
            ).format(trigger=sql.Identifier(f"{name}_refuse_truncate"), schema=schema, table=table)
        )


def log_positions(
    recorder: ApplicationRecorder, originator_id: UUID, versions: Iterable[int] | None = None
) -> dict[int, int]:
    """Map versions of one stream to their log positions (notification ids)."""
    wanted = None if versions is None else set(versions)
    rows: list[Any]
    if isinstance(recorder, SQLiteApplicationRecorder):
        with recorder.datastore.transaction(commit=False) as cursor:
            table = recorder.events_table_name  # eventsourcing's own name, never user input
            cursor.execute(
                f"SELECT originator_version, rowid FROM {table} WHERE originator_id = ?",  # noqa: S608
                (originator_id.hex,),
            )
            rows = [(row[0], row[1]) for row in cursor.fetchall()]
    elif isinstance(recorder, PostgresApplicationRecorder):
        with recorder.datastore.transaction(commit=False) as cursor:
            cursor.execute(
                sql.SQL(
                    "SELECT originator_version, notification_id FROM {schema}.{table} "
                    "WHERE originator_id = %s"
                ).format(
                    schema=sql.Identifier(recorder.datastore.schema),
                    table=sql.Identifier(recorder.events_table_name),
                ),
                (originator_id,),
            )
            rows = [(row["originator_version"], row["notification_id"]) for row in cursor]
    else:  # pragma: no cover
        raise TypeError(f"no positions for {type(recorder).__name__}")
    return {
        int(version): int(position)
        for version, position in cast(list[tuple[int, int]], rows)
        if wanted is None or version in wanted
    }
