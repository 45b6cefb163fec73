"""The database is unavailable: which errors say so, and the cause to name on the console.

Under running workers an outage surfaces as the drivers' and pools' own errors, from whichever
library held the connection: psycopg, psycopg_pool (a pool timeout), eventsourcing (which wraps
psycopg's), SQLAlchemy, sqlite3. The API answers all of them ``503 Store unavailable``; the
operator needs the real cause. A pool timeout hides it ("couldn't get a connection after
1.50 sec" whatever went wrong), so behind one a fresh connection is tried, and what the server
told it (authentication failed, connection refused, no such database) is the cause named.
"""

from __future__ import annotations

import sqlite3
import threading
import time

import psycopg
from eventsourcing.persistence import InterfaceError, OperationalError
from psycopg_pool import PoolTimeout
from sqlalchemy import exc as sqlalchemy_errors

from infrastructure.settings import Settings
from infrastructure.store.postgres_pool import CONNECT_TIMEOUT

STORE_OUTAGES: tuple[type[Exception], ...] = (
    OperationalError,
    InterfaceError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
    sqlalchemy_errors.OperationalError,
    sqlalchemy_errors.InterfaceError,
    sqlalchemy_errors.TimeoutError,
    sqlite3.OperationalError,
)
"""Errors that mean the store cannot be reached or used now (not that a request is wrong)."""

ASK_AGAIN_AFTER = 1.0
"""Seconds a process reuses what a fresh connection was told: a burst of requests during an
outage makes one attempt a second, not one each."""

_asked: tuple[float, str | None] | None = None
_asking = threading.Lock()


def outage_cause(error: BaseException, settings: Settings) -> str:
    """One line naming why the store is unavailable."""
    message = _driver_message(error)
    if settings.is_sqlite or not _behind_a_pool_timeout(error):
        return message
    told = what_a_new_connection_is_told(settings)
    if told is None:
        return f"{message} (a new connection succeeds now)"
    return f"{told} ({message})"


def what_a_new_connection_is_told(settings: Settings) -> str | None:
    """The server's refusal of a fresh connection, in one line; None if it is accepted."""
    global _asked
    with _asking:
        if _asked is not None and time.monotonic() - _asked[0] < ASK_AGAIN_AFTER:
            return _asked[1]
        url = settings.database_url
        told: str | None = None
        try:
            psycopg.connect(
                host=url.host or "127.0.0.1",
                port=url.port or 5432,
                user=url.username or "postgres",
                password=url.password or None,
                dbname=url.database or "postgres",
                connect_timeout=CONNECT_TIMEOUT,
            ).close()
        except psycopg.Error as refusal:
            told = " ".join(str(refusal).split())
        _asked = (time.monotonic(), told)
        return told


def _behind_a_pool_timeout(error: BaseException) -> bool:
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, PoolTimeout | sqlalchemy_errors.TimeoutError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _driver_message(error: BaseException) -> str:
    # SQLAlchemy keeps the driver's error in .orig and adds a line of links; eventsourcing
    # re-raises psycopg's with the same text.
    cause = getattr(error, "orig", None) or error.__cause__ or error
    return " ".join(str(cause).split()) or type(cause).__name__
