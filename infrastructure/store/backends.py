"""The few statements sealtrail needs beyond eventsourcing's recorders, per backend.

eventsourcing owns the events table and how events go in and come out. We add what it does
not do: refuse UPDATE, DELETE and TRUNCATE at the database (the library never issues them, but
nothing stopped a person with a SQL prompt), and find the log position of a stored event.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from eventsourcing.persistence import ApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from sqlalchemy import Engine, Select

from infrastructure.store.statements import Statements

if TYPE_CHECKING:
    from eventsourcing.postgres import PostgresApplicationRecorder

IMMUTABLE_MESSAGE = "sealtrail: stored events are immutable"


class PreparedQuery:
    """A SELECT compiled once for an engine's dialect, run straight on a pooled DB-API connection.

    For the few reads every request makes: SQLAlchemy's statement machinery (cache key,
    execution context, result set) costs several times the query itself on SQLite. The SQL,
    its parameters and its result types are still SQLAlchemy's (compiled by
    :mod:`infrastructure.store.statements`), so each backend gets the statement and the values
    it would have got through a Connection. On SQLite the statement runs in the driver's
    autocommit mode, a read snapshot of its own that takes no write lock; on PostgreSQL the
    pool rolls back the connection's read transaction when it is returned.
    """

    def __init__(self, engine: Engine, statement: Select[Any]) -> None:
        self._engine = engine
        self._statements = Statements(engine.dialect)
        self._statement = statement

    def first(self, **parameters: Any) -> tuple[Any, ...] | None:
        """The first row for these bound parameters, its values typed as SQLAlchemy types them."""
        connection = self._engine.raw_connection()
        try:
            cursor = connection.cursor()
            try:
                rows = self._statements.rows(cursor, self._statement, **parameters)
            finally:
                cursor.close()
        finally:
            connection.close()
        return tuple(rows[0]) if rows else None


def protect_tables(recorder: ApplicationRecorder, others: Sequence[str] = ()) -> None:
    """Install the triggers that refuse changes to the events table and to ``others``.

    Idempotent: run by every process that opens the store.
    """
    tables = [recorder.events_table_name, *others]  # type: ignore[attr-defined]
    if isinstance(recorder, SQLiteApplicationRecorder):
        _protect_sqlite(recorder, tables)
        return
    # Imported here: a recorder of PostgreSQL's has imported it already, and a SQLite store's
    # command does not pay for psycopg.
    from eventsourcing.postgres import PostgresApplicationRecorder

    if not isinstance(recorder, PostgresApplicationRecorder):  # pragma: no cover - Settings: two
        raise TypeError(f"no immutability triggers for {type(recorder).__name__}")
    _protect_postgres(recorder, tables)


def _protect_sqlite(recorder: SQLiteApplicationRecorder, tables: Sequence[str]) -> None:
    made = {
        f"{table}_refuse_{operation.lower()}": (
            table,
            f"CREATE TRIGGER {table}_refuse_{operation.lower()} BEFORE {operation} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{IMMUTABLE_MESSAGE}: {operation} refused'); END",
        )
        for table in tables
        for operation in ("UPDATE", "DELETE")
    }
    # A trigger counts as present only as made here (SQLite keeps its statement as given): one
    # of the same name that does something else, or on another table, is made again.
    with recorder.datastore.transaction(commit=False) as cursor:
        cursor.execute("SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger'")
        present = {row[0]: (row[1], row[2]) for row in cursor.fetchall()}
    wrong = [name for name, made_so in made.items() if present.get(name) != made_so]
    if not wrong:
        return
    # A transaction of its own whose first statement writes: one that had read first could not
    # take the write lock once another opening had made the same triggers meanwhile (SQLite
    # refuses to upgrade a stale read), where this one waits for it.
    with recorder.datastore.transaction(commit=True) as cursor:
        for name in wrong:
            cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
            cursor.execute(made[name][1])


_REFUSAL = (
    " BEGIN RAISE EXCEPTION '" + IMMUTABLE_MESSAGE + ": % refused on %', TG_OP, TG_TABLE_NAME "
    "USING ERRCODE = 'insufficient_privilege'; END "
)
"""The body of the triggers' function, as PostgreSQL keeps it (``pg_proc.prosrc``)."""
_POSTGRES_FUNCTION = (
    "CREATE OR REPLACE FUNCTION {schema}.sealtrail_refuse_change() RETURNS trigger "
    "LANGUAGE plpgsql AS $$" + _REFUSAL + "$$"
)
_ROW_UPDATE_DELETE, _STATEMENT_TRUNCATE = 1 | 2 | 8 | 16, 2 | 32
"""``pg_trigger.tgtype`` of the two triggers: for each row (1), before (2) delete (8) or update
(16); for the statement, before (2) a truncate (32)."""
_OURS = (
    "SELECT t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
    "JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_proc p ON p.oid = t.tgfoid "
    "WHERE n.nspname = %(schema)s AND c.relname = ANY(%(tables)s) "
    # Fires in every session (not disabled, not only under replication), always (no WHEN
    # condition), on every column, calling this schema's function with the body given here.
    "AND t.tgenabled IN ('O', 'A') AND t.tgqual IS NULL AND t.tgattr::text = '' "
    "AND t.tgnargs = 0 AND p.pronamespace = n.oid AND p.proname = 'sealtrail_refuse_change' "
    "AND p.prosrc = %(body)s "
    "AND ((t.tgname = c.relname || '_refuse_update_delete' AND t.tgtype = %(rows)s) "
    "OR (t.tgname = c.relname || '_refuse_truncate' AND t.tgtype = %(truncate)s))"
)
"""The tables' triggers that are as this module makes them: any other (one of the same name
on another table or schema, disabled or made to fire only on a replica, given a condition or a
column list, calling another function, or the function's body changed) is made again."""


def _protect_postgres(recorder: PostgresApplicationRecorder, tables: Sequence[str]) -> None:
    from psycopg import sql

    schema = sql.Identifier(recorder.datastore.schema)
    with recorder.datastore.transaction(commit=True) as cursor:
        # Several workers may start at once; serialise the DDL so they do not collide.
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('sealtrail-triggers'))")
        # Which of the tables' triggers are as made here, in one query: every opening asks.
        cursor.execute(
            _OURS,
            {
                "schema": recorder.datastore.schema,
                "tables": list(tables),
                "body": _REFUSAL,
                "rows": _ROW_UPDATE_DELETE,
                "truncate": _STATEMENT_TRUNCATE,
            },
        )
        present = {row["tgname"] for row in cursor.fetchall()}
        missing = [table for table in tables if not present.issuperset(_postgres_triggers(table))]
        if not missing:
            return
        cursor.execute(sql.SQL(_POSTGRES_FUNCTION).format(schema=schema))
        for name in missing:
            table = sql.Identifier(name)
            update_delete, truncate = _postgres_triggers(name)
            cursor.execute(
                sql.SQL(
                    "CREATE OR REPLACE TRIGGER {trigger} BEFORE UPDATE OR DELETE ON "
                    "{schema}.{table} FOR EACH ROW EXECUTE FUNCTION "
                    "{schema}.sealtrail_refuse_change()"
                ).format(trigger=sql.Identifier(update_delete), schema=schema, table=table)
            )
            cursor.execute(
                sql.SQL(
                    "CREATE OR REPLACE TRIGGER {trigger} BEFORE TRUNCATE ON {schema}.{table} "
                    "FOR EACH STATEMENT EXECUTE FUNCTION {schema}.sealtrail_refuse_change()"
                ).format(trigger=sql.Identifier(truncate), schema=schema, table=table)
            )


def _postgres_triggers(table: str) -> tuple[str, str]:
    """The names of ``table``'s two triggers: the rows' UPDATE and DELETE, and TRUNCATE."""
    return f"{table}_refuse_update_delete", f"{table}_refuse_truncate"
