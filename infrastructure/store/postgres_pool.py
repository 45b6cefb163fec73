"""How sealtrail's PostgreSQL connections behave, sized for gunicorn's workers and for outages.

Each server worker holds two pools: eventsourcing's psycopg pool for the events and
SQLAlchemy's for the projections, Merkle proofs and credentials. A sync worker serves one
request at a time and uses two or three connections at once, so each pool may hold
:data:`POOL_SIZE` and :data:`POOL_OVERFLOW` more (SQLAlchemy's keeps :data:`POOL_SIZE` open,
eventsourcing's :data:`EVENTS_POOL_KEPT`): a worker needs at most
:data:`CONNECTIONS_PER_WORKER` (both pools full, and the short-lived connection that serialises
schema changes when it starts). ``sealtrail serve`` checks ``workers`` times that against the
server's ``max_connections`` before it starts (docs/deployment.md, section 4).

When the database goes away (stopped, a wrong password, a database renamed), a request must be
answered ``503 Store unavailable`` within a second or two and the pools must come back within
seconds of the database. The libraries' defaults do neither: psycopg_pool waits 5 s for a
connection and eventsourcing retries each read and write ten times (a minute, once the pool
waits), and a pool that keeps failing to reconnect backs off exponentially for five minutes
(recovery under load took two). So here:

- a request waits at most :data:`POOL_TIMEOUT` for a pooled connection, and libpq at most
  :data:`CONNECT_TIMEOUT` for a new one;
- a statement runs at most :data:`STATEMENT_TIMEOUT_MS` (a hung query frees its worker);
- a pool that fails to reconnect gives up after :data:`RECONNECT_SECONDS`, so the next request
  tries again at once rather than after a growing back-off;
- the recorder retries a read or write once, and only after a connection that broke (the
  pool's other idle connections are checked first, since an outage breaks them all); a pool
  timeout or a lock or statement timeout is not retried.

The factory and the recorder that use these are in :mod:`infrastructure.store.recorders.postgres`;
this module, read by the settings of any store, imports no psycopg.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from eventsourcing.persistence import InterfaceError, OperationalError

if TYPE_CHECKING:
    from eventsourcing.postgres import PostgresDatastore

POOL_SIZE = 2
POOL_OVERFLOW = 2
CONNECTIONS_PER_WORKER = 2 * (POOL_SIZE + POOL_OVERFLOW) + 1
"""Both pools full, and the schema lock's connection while the worker opens the store."""
EVENTS_POOL_KEPT = 1
"""Connections eventsourcing's pool opens at once and keeps however long idle (its
``min_size``); it grows to ``POOL_SIZE + POOL_OVERFLOW`` on demand and keeps those for
psycopg_pool's ``max_idle`` (10 minutes). Opened at once, a second one cost every store opened
a backend's start (about 5 ms of the server's CPU, a sixth of an opening) and was seldom used
by a command that closed the store right after. SQLAlchemy's pool keeps ``POOL_SIZE``: it closes
a connection above its size as soon as it is given back."""
POOL_TIMEOUT = 1.5
CONNECT_TIMEOUT = 2  # libpq's own minimum: it reads 1 as 2
STATEMENT_TIMEOUT_MS = 30_000
RECONNECT_SECONDS = 2.0
LOCK_TIMEOUT_SECONDS = 10

Result = TypeVar("Result")


def session_options(existing: str | None = None) -> str:
    """libpq ``options`` for every session: the statement timeout (after any given)."""
    timeout = f"-c statement_timeout={STATEMENT_TIMEOUT_MS}"
    return f"{existing} {timeout}" if existing else timeout


def eventsourcing_settings() -> dict[str, str]:
    """The pool settings eventsourcing's factory reads from the environment."""
    return {
        "POSTGRES_CONNECT_TIMEOUT": str(CONNECT_TIMEOUT),
        "POSTGRES_POOL_SIZE": str(EVENTS_POOL_KEPT),
        "POSTGRES_MAX_OVERFLOW": str(POOL_SIZE + POOL_OVERFLOW - EVENTS_POOL_KEPT),
        "POSTGRES_LOCK_TIMEOUT": str(LOCK_TIMEOUT_SECONDS),
    }


def sqlalchemy_pool_arguments(query: Mapping[str, Any]) -> dict[str, Any]:
    """``create_engine`` arguments for the second pool, with the same timeouts.

    ``query`` is the URL's query, whose ``options`` (a test's read-only sessions, say) are
    kept before the statement timeout.
    """
    existing = query.get("options")
    return {
        "pool_size": POOL_SIZE,
        "max_overflow": POOL_OVERFLOW,
        "pool_timeout": POOL_TIMEOUT,
        "pool_pre_ping": True,
        "connect_args": {
            "connect_timeout": CONNECT_TIMEOUT,
            "options": session_options(existing if isinstance(existing, str) else None),
        },
    }


def once_more_after_a_broken_connection(
    datastore: PostgresDatastore, call: Callable[[], Result]
) -> Result:
    """Run ``call``; after a connection that broke, check the pool's idle connections (an
    outage breaks them all) and run it once more. A pool timeout is final: it already waited."""
    try:
        return call()
    except (InterfaceError, OperationalError) as error:
        if not _broken_connection(error):
            raise
        datastore.pool.check()
        return call()


def _broken_connection(error: Exception) -> bool:
    from psycopg_pool import PoolTimeout  # imported already: the error came through the pool

    cause = error.__cause__
    if isinstance(cause, PoolTimeout):
        return False
    state = getattr(cause, "sqlstate", None)
    # No SQLSTATE: the client lost the connection. Class 08: connection exception. 57P01-03:
    # the server shut down or restarted. Lock and statement timeouts (55P03, 57014) are not.
    return state is None or state.startswith(("08", "57P"))


def beyond_max_connections(
    workers: int, *, host: str, port: int, user: str, password: str | None, dbname: str
) -> str | None:
    """Why ``workers`` server workers would not fit under the server's ``max_connections``
    (less the connections reserved for superusers), or None if they fit.

    Raises:
        psycopg.Error: the server cannot be asked.
    """
    import psycopg  # here: this module is imported for SQLite stores too

    with psycopg.connect(
        host=host,
        port=port,
        user=user,
        password=password,
        dbname=dbname,
        connect_timeout=CONNECT_TIMEOUT,
        autocommit=True,
    ) as connection:
        row = connection.execute(
            "SELECT current_setting('max_connections')::int, "
            "current_setting('superuser_reserved_connections')::int"
        ).fetchone()
    assert row is not None
    maximum, reserved = int(row[0]), int(row[1])
    needed = workers * CONNECTIONS_PER_WORKER
    if needed <= maximum - reserved:
        return None
    fitting = (maximum - reserved) // CONNECTIONS_PER_WORKER
    return (
        f"{workers} workers x {CONNECTIONS_PER_WORKER} connections = {needed}, more than the "
        f"{maximum - reserved} PostgreSQL allows (max_connections {maximum} less "
        f"{reserved} reserved): run at most {fitting} workers, or raise max_connections"
    )
