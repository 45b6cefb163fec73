"""The database: that it answers, and that its append-only triggers are there and refuse.

Each trigger is looked for by name in the database's catalogue, then made to refuse: an UPDATE
and a DELETE of one row of each protected table (and on PostgreSQL a TRUNCATE of it), each in a
savepoint of one transaction that is rolled back whatever happens, so nothing is changed even
where a trigger is missing. A table that holds no row yet (no cosignature, no time-stamp) has
no row to try an UPDATE or DELETE on: the line says which, and on PostgreSQL its TRUNCATE
(refused before any row is looked at) is still tried.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

from infrastructure.installation.results import CheckResult, failed, passed
from infrastructure.settings import Settings
from infrastructure.store.backends import IMMUTABLE_MESSAGE
from infrastructure.store.log_reader import log_infrastructure
from infrastructure.store.merkle_log import APPEND_ONLY_TABLES
from infrastructure.views.tables import create_view_engine

DATABASE = "database"
TRIGGERS = "append-only triggers"


@contextmanager
def database_engine(settings: Settings) -> Iterator[tuple[CheckResult, Engine | None]]:
    """Whether the database answers, and an engine on it when it does (disposed after).

    A SQLite file that is not there is not made: it is reported missing.
    """
    where = settings.database_url.render_as_string(hide_password=True)
    if settings.is_sqlite and not Path(str(settings.database_url.database)).is_file():
        yield failed(DATABASE, f"no database at {where}: run 'sealtrail init'"), None
        return
    engine = create_view_engine(settings)
    try:
        try:
            with engine.connect() as connection:
                version = connection.exec_driver_sql(
                    "SELECT sqlite_version()" if settings.is_sqlite else "SHOW server_version"
                ).scalar_one()
        except DBAPIError as error:
            cause = " ".join(str(error.orig).split())
            yield failed(DATABASE, f"{where} does not answer: {cause}"), None
            return
        backend = "SQLite" if settings.is_sqlite else "PostgreSQL"
        yield passed(DATABASE, f"{where} answers ({backend} {version})"), engine
    finally:
        engine.dispose()


def protected_tables(settings: Settings) -> tuple[str, ...]:
    """The events table's schema (PostgreSQL; "" on SQLite) and the tables it protects."""
    infrastructure = log_infrastructure(settings)
    try:
        recorder = infrastructure.application_recorder()
        events: str = recorder.events_table_name  # type: ignore[attr-defined]
        schema: str = getattr(recorder.datastore, "schema", "")  # type: ignore[attr-defined]
    finally:
        infrastructure.close()
    return (schema, events, *APPEND_ONLY_TABLES)


def check_triggers(settings: Settings, engine: Engine) -> CheckResult:
    """Every protected table has its triggers, enabled, and they refuse a change."""
    schema, *tables = protected_tables(settings)
    with engine.connect() as connection:
        if settings.is_sqlite:
            problems = _sqlite_triggers_missing(connection, tables)
        else:
            problems = _postgres_triggers_missing(connection, schema, tables)
        connection.rollback()  # the catalogue's read; the tries run in a transaction of their own
        refusals, empty = _refusals(connection, settings.is_sqlite, schema, tables)
    problems += refusals
    if problems:
        return failed(TRIGGERS, "; ".join(problems))
    tried = "UPDATE and DELETE" + ("" if settings.is_sqlite else ", and TRUNCATE on all,")
    untried = f" ({', '.join(empty)}: no row yet to try)" if empty else ""
    return passed(
        TRIGGERS,
        f"present on {len(tables)} tables; {tried} refused on {len(tables) - len(empty)}{untried}",
    )


def _sqlite_triggers_missing(connection: Connection, tables: list[str]) -> list[str]:
    found = {
        name: text
        for name, text in connection.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
        )
    }
    problems = []
    for table in tables:
        for operation in ("UPDATE", "DELETE"):
            name = f"{table}_refuse_{operation.lower()}"
            text = found.get(name)
            if text is None:
                problems.append(f"trigger {name} missing")
            elif f"BEFORE {operation} ON {table}" not in text or IMMUTABLE_MESSAGE not in text:
                problems.append(f"trigger {name} does not refuse {operation} on {table}")
    return problems


def _postgres_triggers_missing(connection: Connection, schema: str, tables: list[str]) -> list[str]:
    found = {
        name: enabled
        for name, enabled in connection.exec_driver_sql(
            "SELECT t.tgname, t.tgenabled FROM pg_trigger t "
            "JOIN pg_class c ON c.oid = t.tgrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %(schema)s AND NOT t.tgisinternal",
            {"schema": schema},
        )
    }
    problems = []
    for table in tables:
        for name in (f"{table}_refuse_update_delete", f"{table}_refuse_truncate"):
            enabled = found.get(name)
            if enabled is None:
                problems.append(f"trigger {name} missing")
            elif enabled not in ("O", "A"):  # D: disabled; R: fires on replicas only
                problems.append(f"trigger {name} is disabled")
    return problems


def _refusals(
    connection: Connection, is_sqlite: bool, schema: str, tables: list[str]
) -> tuple[list[str], list[str]]:
    """What was not refused, and the tables with no row to try, in one transaction rolled
    back."""
    quote = connection.dialect.identifier_preparer.quote
    problems: list[str] = []
    empty: list[str] = []
    transaction = connection.begin()
    try:
        if not is_sqlite:
            # A lock held elsewhere makes the check wait this long at most, not for ever.
            connection.exec_driver_sql("SET LOCAL lock_timeout = '5s'")
        for table in tables:
            name = quote(table) if is_sqlite else f"{quote(schema)}.{quote(table)}"
            statements = _attempts(connection, is_sqlite, name)
            if statements is None:
                problems.append(f"table {table} missing")
                continue
            for operation, statement in statements:
                outcome = _attempt(connection, statement)
                if outcome == "refused":
                    continue
                if outcome == "no row":
                    if table not in empty:
                        empty.append(table)
                    continue
                problems.append(f"{operation} on {table} {outcome}")
    finally:
        transaction.rollback()
    return problems, empty


def _attempts(connection: Connection, is_sqlite: bool, name: str) -> list[tuple[str, str]] | None:
    """Each statement to try on the table ``name`` (quoted), or None: there is no such table."""
    # Table names come from the code (APPEND_ONLY_TABLES, the recorder), quoted: no input.
    if is_sqlite:
        exists = connection.exec_driver_sql(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?",
            (name.strip('"'),),
        ).scalar_one()
        if not exists:
            return None
        one_row = f"rowid = (SELECT min(rowid) FROM {name})"  # noqa: S608
        return [
            ("UPDATE", f"UPDATE {name} SET rowid = rowid WHERE {one_row}"),  # noqa: S608
            ("DELETE", f"DELETE FROM {name} WHERE {one_row}"),  # noqa: S608
        ]
    column = connection.exec_driver_sql(
        "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(%(name)s) AND attnum = 1",
        {"name": name},
    ).scalar_one_or_none()
    if column is None:
        return None
    quoted = connection.dialect.identifier_preparer.quote(column)
    one_row = f"ctid = (SELECT ctid FROM {name} LIMIT 1)"  # noqa: S608
    return [
        ("UPDATE", f"UPDATE {name} SET {quoted} = {quoted} WHERE {one_row}"),  # noqa: S608
        ("DELETE", f"DELETE FROM {name} WHERE {one_row}"),  # noqa: S608
        ("TRUNCATE", f"TRUNCATE {name}"),
    ]


def _attempt(connection: Connection, statement: str) -> str:
    """``refused``, ``no row`` (nothing to change), or what happened instead."""
    savepoint = connection.begin_nested()
    try:
        result = connection.exec_driver_sql(statement)
    except DBAPIError as error:
        said = " ".join(str(error.orig).split())
        if IMMUTABLE_MESSAGE in said:
            return "refused"
        return f"failed otherwise: {said}"
    finally:
        savepoint.rollback()
    if not statement.startswith("TRUNCATE") and result.rowcount == 0:
        return "no row"
    return "accepted (rolled back)"
