"""Counting what a write asks of the database: statements, and on PostgreSQL round trips.

For the benchmarks only; nothing here runs in sealtrail. Most of the write path's SQL runs on
eventsourcing's own DB-API cursors, not through a SQLAlchemy ``Engine``, so SQLAlchemy's
``before_cursor_execute`` events would miss it; the counting is done one level down, where every
statement of the process passes:

- **SQLite**: ``sqlite3``'s trace callback on every connection opened while :func:`install` is in
  force (``sqlite3.connect`` is wrapped, and both eventsourcing and SQLAlchemy call it). Every
  statement SQLite runs is one call into the library (``BEGIN`` and ``COMMIT`` included); there
  is no network, so a statement is what a "round trip" costs there.
- **PostgreSQL**: psycopg's methods are wrapped (its C implementation leaves the Python layer
  above libpq). A *statement* is each query or command sent. A *round trip* is each time the
  client waits for the server's answer: a query or command outside a pipeline (an implicit
  ``BEGIN`` is one more), and inside one (eventsourcing inserts in pipeline mode) each sync and
  each fetch of a result the client needs before it can go on; statements queued in a pipeline
  and answered at its next sync cost no round trip of their own. The first run of a prepared
  statement on a connection costs one more (psycopg's ``Parse``), not counted: it happens once
  per connection, not per write.
"""

from __future__ import annotations

import functools
import re
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import _connection_base, _pipeline_base
from psycopg.sql import Composable


@dataclass
class Tally:
    """What the database was asked while counting was on."""

    statements: int = 0
    round_trips: int = 0
    texts: Counter[str] = field(default_factory=Counter)
    """Each statement's first words, for the listing (``--trips``)."""
    counting: bool = False

    def statement(self, sql: Any, *, waits: bool) -> None:
        if not self.counting:
            return
        self.statements += 1
        self.round_trips += int(waits)
        self.texts[_short(sql)] += 1

    def wait(self, what: str) -> None:
        if self.counting:
            self.round_trips += 1
            self.texts[what] += 1


TALLY = Tally()


_LITERAL = re.compile(r"x?'(?:[^']|'')*'|\b\d+\b")


def _short(sql: Any, width: int = 90) -> str:
    """A statement's text, its literal values as ``?`` (SQLite's trace gives them expanded)."""
    if isinstance(sql, bytes):
        sql = sql.decode(errors="replace")
    elif isinstance(sql, Composable):
        try:
            sql = sql.as_string()
        except Exception:  # a Literal that needs a connection to be quoted
            sql = repr(sql)
    text = _LITERAL.sub("?", " ".join(str(sql).split()))
    return text if len(text) <= width else text[: width - 3] + "..."


_installed = False
_originals: list[tuple[Any, str, Any]] = []


def install() -> None:
    """Wrap ``sqlite3.connect`` and psycopg's senders so that :func:`counted` can count; call
    before any store is opened. Counting is off until :func:`counted` turns it on."""
    global _installed
    if _installed:
        return
    _installed = True
    connect = sqlite3.connect
    _originals.append((sqlite3, "connect", connect))

    @functools.wraps(connect)
    def traced_connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        connection = connect(*args, **kwargs)
        connection.set_trace_callback(lambda sql: TALLY.statement(sql, waits=True))
        return connection

    sqlite3.connect = traced_connect  # type: ignore[assignment]

    def in_pipeline(cursor_or_connection: Any) -> bool:
        connection = getattr(cursor_or_connection, "_conn", cursor_or_connection)
        return connection._pipeline is not None

    def wrap(owner: type, name: str, before: Callable[..., None]) -> None:
        original = owner.__dict__[name]
        _originals.append((owner, name, original))

        @functools.wraps(original)
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            before(self, *args, **kwargs)
            return original(self, *args, **kwargs)

        setattr(owner, name, wrapper)

    def before_execute(cursor: Any, query: Any, *_: Any, **__: Any) -> None:
        # An implicit BEGIN (a connection not in autocommit) is counted as the command it is.
        TALLY.statement(query, waits=not in_pipeline(cursor))

    def before_command(connection: Any, command: Any, *_: Any, **__: Any) -> None:
        TALLY.statement(command, waits=not in_pipeline(connection))

    def before_fetch(cursor: Any) -> None:
        pipeline = cursor._conn._pipeline
        if pipeline is not None and not cursor.pgresult and pipeline.result_queue:
            TALLY.wait("(pipeline: fetch a result)")

    wrap(psycopg.Cursor, "execute", before_execute)
    wrap(psycopg.Cursor, "executemany", before_execute)
    wrap(psycopg.Cursor, "_fetch_pipeline", before_fetch)
    wrap(_connection_base.BaseConnection, "_exec_command", before_command)
    wrap(_pipeline_base.BasePipeline, "_sync_gen", lambda _: TALLY.wait("(pipeline: sync)"))
    wrap(_pipeline_base.BasePipeline, "_exit_gen", lambda _: TALLY.wait("(pipeline: end)"))


def uninstall() -> None:
    """Put back what :func:`install` wrapped (connections opened meanwhile keep their trace)."""
    global _installed
    while _originals:
        owner, name, original = _originals.pop()
        setattr(owner, name, original)
    _installed = False


@contextmanager
def counted() -> Iterator[Tally]:
    """Count, from zero, what the database is asked inside the block."""
    if not _installed:
        raise RuntimeError("round_trips.install() must run before the stores are opened")
    TALLY.statements = TALLY.round_trips = 0
    TALLY.texts.clear()
    TALLY.counting = True
    try:
        yield TALLY
    finally:
        TALLY.counting = False
