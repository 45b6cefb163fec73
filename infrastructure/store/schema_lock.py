"""One process at a time creates sealtrail's tables and triggers on a PostgreSQL database.

Every process that opens the store creates what is missing (``CREATE TABLE IF NOT EXISTS`` and
the like, from eventsourcing, SQLAlchemy and the triggers). PostgreSQL does not serialise such
statements: when gunicorn starts several workers at once, two of them creating the same table
fail with "tuple concurrently updated" or a duplicate-key error on the catalog, and the worker
answers 503 until it is restarted. The crash test found it, restarting servers under load. A
session advisory lock around the whole opening makes the others wait instead; once the tables
exist, each of them finds nothing to do. SQLite serialises schema changes itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from infrastructure.errors import StoreUnavailable
from infrastructure.settings import Settings

SCHEMA_LOCK = "sealtrail-schema"
WAIT_SECONDS = 60


@contextmanager
def schema_changes_serialised(settings: Settings) -> Iterator[None]:
    """Hold the database's schema lock (PostgreSQL) while the store is opened.

    Raises:
        StoreUnavailable: the database cannot be reached, or the lock not had within a minute.
    """
    if settings.is_sqlite:
        yield
        return
    import psycopg  # here: a SQLite store's command does not pay for it

    url = settings.database_url
    try:
        connection = psycopg.connect(
            host=url.host or "127.0.0.1",
            port=url.port or 5432,
            user=url.username or "postgres",
            password=url.password or None,
            dbname=url.database or "postgres",
            connect_timeout=5,
            autocommit=True,
        )
        connection.execute(f"SET lock_timeout = '{WAIT_SECONDS}s'")
        connection.execute("SELECT pg_advisory_lock(hashtext(%s))", (SCHEMA_LOCK,))
    except psycopg.Error as error:
        safe = url.render_as_string(hide_password=True)
        raise StoreUnavailable(
            "cannot open the store at %(safe)s: %(join)s",
            safe=safe,
            join=" ".join(str(error).split()),
        ) from None
    try:
        yield
    finally:
        # Closing the session releases the lock too; unlocking first says so plainly.
        with connection:
            connection.execute("SELECT pg_advisory_unlock(hashtext(%s))", (SCHEMA_LOCK,))
