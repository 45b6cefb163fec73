"""The account events of the log, found without reading the whole log.

``verify --since`` reads only the events after a checkpoint an auditor kept, but it needs every
account event (who held which key and role, when). The events table has no index on topic: a
query by topic reads the topic of every row, which grows with the log (4.6 seconds at 900,000
events on the benchmark's machine, more than checking 10,000 events). A partial index over the
account events alone answers it in milliseconds, and costs nothing on the append of a record
(only account events have an entry: a few per person).

SQLite and PostgreSQL use a partial index only for a query whose condition implies the index's,
so the query states :func:`account_events_condition` word for word, with the topics written
in (they are the code's own names, never input). A new kind of account event changes the
condition and so the index's name: the next process that opens the store makes the new one.
"""

from __future__ import annotations

import hashlib
import re

from eventsourcing.persistence import ApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder

from domain.account import ACCOUNT_EVENT_KINDS

ACCOUNT_TOPICS = tuple(f"domain.account:Account.{kind}" for kind in ACCOUNT_EVENT_KINDS)
_TOPIC = re.compile(r"[A-Za-z0-9_.:]+")


def account_events_condition() -> str:
    """``topic IN ('...', ...)``: the condition of the index and of the query it serves."""
    if not all(_TOPIC.fullmatch(topic) for topic in ACCOUNT_TOPICS):
        raise ValueError("an account topic is not a plain dotted name")
    return "topic IN (" + ", ".join(f"'{topic}'" for topic in ACCOUNT_TOPICS) + ")"


def account_index_name(events_table: str) -> str:
    """The index's name, which changes with its condition."""
    digest = hashlib.sha256(account_events_condition().encode()).hexdigest()[:8]
    return f"{events_table}_account_events_{digest}"


def index_account_events(recorder: ApplicationRecorder) -> None:
    """Make the partial index of the account events if it is not there (every process that
    opens the store runs this; PostgreSQL's openings are serialised by the schema lock)."""
    table = recorder.events_table_name  # type: ignore[attr-defined]
    statement = (
        f"CREATE INDEX IF NOT EXISTS {account_index_name(table)} ON {table} (topic) "
        f"WHERE {account_events_condition()}"
    )
    if not isinstance(recorder, SQLiteApplicationRecorder):
        # Imported here: a recorder of PostgreSQL's has imported it already.
        from eventsourcing.postgres import PostgresApplicationRecorder

        if not isinstance(recorder, PostgresApplicationRecorder):  # pragma: no cover
            raise TypeError(f"no index of account events for {type(recorder).__name__}")
    with recorder.datastore.transaction(commit=True) as cursor:
        cursor.execute(statement)
