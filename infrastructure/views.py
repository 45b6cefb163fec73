"""The tables that hold projections, and the runner that keeps them up to date.

A view row and the log position it reflects are committed in one transaction, so each event
is applied exactly once and a crash leaves the view where it last committed. ``catch_up``
applies what the log has beyond that position; ``rebuild`` drops the view and replays the
whole log. Issue 6 adds a follower process; the transaction discipline stays this one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from eventsourcing.persistence import Notification
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    select,
)

from domain.subject import Subject
from infrastructure.settings import Settings
from projections.subject_summary import Summary, summarise
from signatures.canonical import canonicalize

metadata = MetaData()

subject_summary = Table(
    "view_subject_summary",
    metadata,
    Column("stream", String(200), primary_key=True),
    Column("study", String(100), nullable=False),
    Column("subject", String(100), nullable=False),
    Column("version", Integer, nullable=False),
    Column("position", BigInteger, nullable=False),
    Column("document", Text, nullable=False),
)

view_tracking = Table(
    "view_tracking",
    metadata,
    Column("view", String(100), primary_key=True),
    Column("position", BigInteger, nullable=False),
)

SUBJECT_SUMMARY = "subject_summary"
BATCH = 500


def create_view_engine(settings: Settings) -> Engine:
    """A SQLAlchemy engine on the store's database, for the view tables."""
    if settings.is_sqlite:
        engine = create_engine(settings.database_url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _no_implicit_transactions(dbapi_connection: Any, _: Any) -> None:
            # Let SQLAlchemy's begin() issue BEGIN IMMEDIATE so two catch-ups serialise.
            dbapi_connection.isolation_level = None

        @event.listens_for(engine, "begin")
        def _begin_immediate(connection: Connection) -> None:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(settings.database_url, pool_pre_ping=True)


class SubjectSummaryView:
    """The current state of every subject, as a table the API reads."""

    def __init__(
        self,
        engine: Engine,
        notifications: Callable[[int, int], Sequence[Notification]],
        last_position: Callable[[], int | None],
        decode: Callable[[Notification], Any],
    ) -> None:
        self.engine = engine
        self._notifications = notifications
        self._last_position = last_position
        self._decode = decode
        metadata.create_all(engine)

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        with self.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.exec_driver_sql("LOCK TABLE view_tracking IN EXCLUSIVE MODE")
            yield connection

    def catch_up(self) -> int:
        """Apply every event past the tracked position; returns how many were applied."""
        if self._is_current():
            return 0  # the common case for reads: no write transaction, no lock
        applied = 0
        while True:
            with self._transaction() as connection:
                position = self._tracked(connection)
                page = self._notifications(position + 1, BATCH)
                for notification in page:
                    self._apply(connection, notification)
                if page:
                    self._track(connection, page[-1].id)
            applied += len(page)
            if len(page) < BATCH:
                return applied

    def rebuild(self) -> str:
        """Drop the view, replay the whole log into it and return its digest."""
        with self._transaction() as connection:
            connection.execute(subject_summary.delete())
            connection.execute(
                view_tracking.delete().where(view_tracking.c.view == SUBJECT_SUMMARY)
            )
        self.catch_up()
        return self.digest()

    def digest(self) -> str:
        """SHA-256 over the canonical JSON of every row, in stream order."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(subject_summary.c.stream, subject_summary.c.document).order_by(
                    subject_summary.c.stream
                )
            ).all()
        digest = hashlib.sha256()
        for stream, document in rows:
            digest.update(canonicalize({"stream": stream, "document": json.loads(document)}))
        return digest.hexdigest()

    def get(self, stream: str) -> Summary | None:
        """One subject's summary, or None."""
        self.catch_up()
        with self.engine.connect() as connection:
            document = connection.execute(
                select(subject_summary.c.document).where(subject_summary.c.stream == stream)
            ).scalar_one_or_none()
        return None if document is None else dict(json.loads(document))

    def _apply(self, connection: Connection, notification: Notification) -> None:
        event_ = self._decode(notification)
        if not isinstance(event_, Subject.Event):
            return
        current = connection.execute(
            select(subject_summary.c.document).where(subject_summary.c.stream == event_.stream)
        ).scalar_one_or_none()
        summary = summarise(
            None if current is None else json.loads(current), event_, notification.id
        )
        values = {
            "version": event_.originator_version,
            "position": notification.id,
            "document": json.dumps(summary, sort_keys=True),
        }
        if current is None:
            connection.execute(
                subject_summary.insert().values(
                    stream=event_.stream,
                    study=summary["study"],
                    subject=summary["subject"],
                    **values,
                )
            )
        else:
            connection.execute(
                subject_summary.update()
                .where(subject_summary.c.stream == event_.stream)
                .values(**values)
            )

    def _is_current(self) -> bool:
        with self.engine.connect() as connection:
            tracked = self._tracked(connection)
        return tracked >= (self._last_position() or 0)

    @staticmethod
    def _tracked(connection: Connection) -> int:
        position = connection.execute(
            select(view_tracking.c.position).where(view_tracking.c.view == SUBJECT_SUMMARY)
        ).scalar_one_or_none()
        return int(position or 0)

    @staticmethod
    def _track(connection: Connection, position: int) -> None:
        updated = connection.execute(
            view_tracking.update()
            .where(view_tracking.c.view == SUBJECT_SUMMARY)
            .values(position=position)
        )
        if updated.rowcount == 0:
            connection.execute(
                view_tracking.insert().values(view=SUBJECT_SUMMARY, position=position)
            )
