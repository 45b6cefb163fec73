"""Following the log into the view tables: each event applied once, rows and position together.

The runner reads the log in pages past the positions its views have tracked. For each page it
opens one transaction (``BEGIN IMMEDIATE`` on SQLite, an EXCLUSIVE lock on ``view_tracking``
on PostgreSQL, so two runners serialise), reads the tracked positions again inside it, folds
each subject event into its :class:`~domain.subject.Subject`, hands it to every view not yet
past it, lets study-level views recompute the studies the page touched, and writes each
view's new position, then commits. A crash or an exception anywhere in the page rolls the
whole page back: the views stay at their last committed position and the next run applies the
rest, once. Each view has its own tracking row, so a view added later is built from the start
of the log while the others skip what they have.

The same :meth:`ProjectionRunner.catch_up` serves the web process (reads catch up first), the
``sealtrail rebuild`` command and the follower (``sealtrail project --follow``). The follower
waits for new events on a subscription: eventsourcing's own on PostgreSQL (LISTEN/NOTIFY),
and :class:`PollingSubscription` on SQLite, whose recorder has none; either only wakes the
runner, which then catches up under the transaction discipline above.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, Notification, Subscription
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Engine,
    MetaData,
    String,
    Table,
    select,
)

from domain.subject import Subject
from signatures.canonical import canonicalize

metadata = MetaData()

view_tracking = Table(
    "view_tracking",
    metadata,
    Column("view", String(100), primary_key=True),
    Column("position", BigInteger, nullable=False),
)

PAGE = 500
STORE_LOCAL = frozenset({"position", "recorded_at", "updated_at"})
"""Keys left out of the digest: where and when *this* store recorded an event. Two stores
holding the same signed events give them different positions and recording times; everything
else in a view follows from the events alone."""


@dataclass(frozen=True)
class LogSource:
    """What the runner reads: the log, its head, a decoder, and subjects at a version."""

    notifications: Callable[[int, int], Sequence[Notification]]
    last_position: Callable[[], int | None]
    decode: Callable[[Notification], Any]
    subject_at: Callable[[UUID, int], Subject]


@dataclass(frozen=True)
class Applied:
    """One subject event as a view receives it, with its log position and its subject.

    ``subject`` is the subject folded up to the *page's* last event of its stream (the fold is
    shared, not copied per event): a view that keeps a subject's state writes it once per page;
    a view that needs each event (the audit index) reads ``event``.
    """

    event: Subject.Event
    position: int
    subject: Subject

    @property
    def stream(self) -> str:
        """The subject's stream, ``<study>/<subject code>``."""
        return self.event.stream


class View(Protocol):
    """A projection stored as tables, applied a page of events at a time."""

    name: str
    tables: Sequence[Table]

    def apply(self, connection: Connection, page: Sequence[Applied]) -> None:
        """Apply the page's subject events this view has not seen, in log order."""

    def rows(self, connection: Connection) -> Iterable[tuple[str, Any]]:
        """Every row as (key, JSON document), by key: what the digest covers."""


@dataclass
class _Page:
    """What one catch-up carries from page to page: the subjects folded so far."""

    subjects: dict[str, Subject] = field(default_factory=dict)


class ProjectionRunner:
    """Keeps a set of views up to date with the log, exactly once per event per view."""

    def __init__(
        self, engine: Engine, log: LogSource, views: Sequence[View], *, page: int = PAGE
    ) -> None:
        self.engine = engine
        self.log = log
        self.views = list(views)
        self.page = page
        self._wake = threading.Event()
        self._stopping = threading.Event()
        metadata.create_all(engine)
        for view in self.views:
            for table in view.tables:
                table.create(engine, checkfirst=True)

    # -- transactions ---------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A write transaction that no other runner can interleave with."""
        with self.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.exec_driver_sql("LOCK TABLE view_tracking IN EXCLUSIVE MODE")
            yield connection

    # -- catching up -----------------------------------------------------------------------------

    def behind(self) -> int:
        """How many log positions the slowest view has still to pass (0 when current)."""
        with self.engine.connect() as connection:
            tracked = self._tracked(connection)
        return max(0, (self.log.last_position() or 0) - min(tracked.values()))

    def catch_up(
        self,
        *,
        progress: Callable[[int], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> int:
        """Apply every event past the tracked positions, a page per transaction.

        Returns how many log positions were passed. ``progress`` is called with each page's
        count; ``should_stop`` is asked between pages (a page in progress always completes or
        rolls back whole).
        """
        if self.behind() == 0:
            return 0  # the common case for reads: no write transaction, no lock
        passed = 0
        carried = _Page()
        while should_stop is None or not should_stop():
            with self.transaction() as connection:
                tracked = self._tracked(connection)
                start = min(tracked.values())
                notifications = self.log.notifications(start + 1, self.page)
                if notifications:
                    self._apply_page(connection, notifications, tracked, carried)
                    end = notifications[-1].id
                    for view in self.views:
                        self._track(connection, view.name, max(end, tracked[view.name]))
            done = notifications[-1].id - start if notifications else 0
            passed += done
            if progress is not None and done:
                progress(done)
            if len(notifications) < self.page:
                break
        return passed

    def _apply_page(
        self,
        connection: Connection,
        notifications: Sequence[Notification],
        tracked: dict[str, int],
        carried: _Page,
    ) -> None:
        applied: list[Applied] = []
        for notification in notifications:
            event = self.log.decode(notification)
            if isinstance(event, Subject.Event):
                applied.append(Applied(event, notification.id, self._fold(event, carried)))
        for view in self.views:
            unseen = [a for a in applied if a.position > tracked[view.name]]
            if unseen:
                view.apply(connection, unseen)

    def _fold(self, event: Subject.Event, carried: _Page) -> Subject:
        subject = carried.subjects.get(event.stream)
        if subject is None or subject.version != event.originator_version - 1:
            subject = (
                None
                if event.originator_version == 1
                else self.log.subject_at(event.originator_id, event.originator_version - 1)
            )
        subject = event.mutate(subject)
        assert isinstance(subject, Subject)
        carried.subjects[event.stream] = subject
        return subject

    # -- rebuilding and the digest -------------------------------------------------------------

    def clear(self) -> None:
        """Empty every view and forget its position (one transaction)."""
        with self.transaction() as connection:
            for view in self.views:
                for table in reversed(view.tables):
                    connection.execute(table.delete())
                connection.execute(view_tracking.delete().where(view_tracking.c.view == view.name))

    def rebuild(self, *, progress: Callable[[int], None] | None = None) -> str:
        """Empty every view, replay the whole log into them and return their digest."""
        self.clear()
        self.catch_up(progress=progress)
        return self.digest()

    def digest(self) -> str:
        """SHA-256 over the canonical JSON (RFC 8785) of every view's rows, store-local keys out.

        Views in name order, rows in key order; :data:`STORE_LOCAL` keys are removed at every
        depth, so the same signed events give the same digest on SQLite and on PostgreSQL.
        """
        digest = hashlib.sha256()
        with self.engine.connect() as connection:
            for view in sorted(self.views, key=lambda v: v.name):
                for key, document in view.rows(connection):
                    digest.update(
                        canonicalize(
                            {"view": view.name, "key": key, "document": events_only(document)}
                        )
                    )
                    digest.update(b"\n")
        return digest.hexdigest()

    # -- following ---------------------------------------------------------------------------

    def follow(
        self,
        subscribe: Callable[[int], Subscription[Any]],
        *,
        poll_interval: float = 1.0,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        """Catch up, then apply new events as they are recorded, until :meth:`stop`.

        ``subscribe(position)`` opens a subscription to notifications after ``position``; it
        only wakes the runner. ``poll_interval`` bounds how long a missed wake-up can delay an
        event (and is the polling interval on SQLite). Once :meth:`stop` has been called (even
        before this), it returns at once.
        """
        errors: list[BaseException] = []
        subscription = subscribe(self.log.last_position() or 0)
        watcher = threading.Thread(
            target=self._watch, args=(subscription, errors), name="log-watcher", daemon=True
        )
        with subscription:
            watcher.start()
            try:
                while not self._stopping.is_set():
                    self._wake.clear()
                    self.catch_up(progress=progress, should_stop=self._stopping.is_set)
                    if errors:
                        raise errors[0]
                    self._wake.wait(poll_interval)
            finally:
                subscription.stop()
        watcher.join(timeout=5)

    def stop(self) -> None:
        """Ask :meth:`follow` to return after the page in hand (safe from a signal handler)."""
        self._stopping.set()
        self._wake.set()

    def stopped(self) -> bool:
        """Whether :meth:`stop` was called."""
        return self._stopping.is_set()

    def _watch(self, subscription: Subscription[Any], errors: list[BaseException]) -> None:
        try:
            for _ in subscription:
                self._wake.set()
        except BaseException as error:  # handed to the main loop, which raises it
            errors.append(error)
        finally:
            self._wake.set()

    # -- tracking ---------------------------------------------------------------------------------

    def _tracked(self, connection: Connection) -> dict[str, int]:
        rows = dict(
            connection.execute(select(view_tracking.c.view, view_tracking.c.position)).all()
        )
        return {view.name: int(rows.get(view.name) or 0) for view in self.views}

    @staticmethod
    def _track(connection: Connection, name: str, position: int) -> None:
        updated = connection.execute(
            view_tracking.update().where(view_tracking.c.view == name).values(position=position)
        )
        if updated.rowcount == 0:
            connection.execute(view_tracking.insert().values(view=name, position=position))


def events_only(document: Any) -> Any:
    """``document`` without :data:`STORE_LOCAL` keys, at any depth."""
    if isinstance(document, dict):
        return {k: events_only(v) for k, v in document.items() if k not in STORE_LOCAL}
    if isinstance(document, list):
        return [events_only(item) for item in document]
    return document


class PollingSubscription(Subscription[ApplicationRecorder]):
    """eventsourcing's :class:`Subscription` for a recorder without one (SQLite): it polls.

    Iterating yields the notifications after ``gt`` in log order, selecting a page at a time
    and sleeping ``interval`` seconds when there is nothing new; :meth:`stop` ends the
    iteration at once, even mid-sleep.
    """

    def __init__(
        self,
        recorder: ApplicationRecorder,
        gt: int | None = None,
        topics: Sequence[str] = (),
        *,
        interval: float = 1.0,
        limit: int = PAGE,
    ) -> None:
        super().__init__(recorder=recorder, gt=gt, topics=topics)
        # Kept under names of its own: the base class's attributes are eventsourcing's.
        self._polled = recorder
        self._after = gt or 0
        self._wanted_topics = topics
        self._interval = interval
        self._limit = limit
        self._buffer: list[Notification] = []
        self._stopped = threading.Event()

    def stop(self) -> None:
        super().stop()
        self._stopped.set()

    def __next__(self) -> Notification:
        while not self._buffer:
            if self._stopped.is_set():
                raise StopIteration
            found = self._polled.select_notifications(
                start=self._after,
                limit=self._limit,
                topics=self._wanted_topics,
                inclusive_of_start=False,
            )
            if found:
                self._buffer = list(found)
                self._after = found[-1].id
            else:
                self._stopped.wait(self._interval)
        if self._stopped.is_set():
            raise StopIteration
        return self._buffer.pop(0)


def subscriber(
    recorder: ApplicationRecorder, interval: float
) -> Callable[[int], Subscription[Any]]:
    """How to follow this recorder: its own subscription if it has one, else polling."""

    def subscribe(gt: int) -> Subscription[Any]:
        try:
            return recorder.subscribe(gt=gt)
        except NotImplementedError:
            return PollingSubscription(recorder, gt=gt, interval=interval)

    return subscribe
