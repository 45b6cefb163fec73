"""Group commit: saves that one process's threads make at the same time share one transaction.

A save's transaction holds the store's write lock (SQLite's, with the writers' turn; the events
table's EXCLUSIVE lock on PostgreSQL) from its first statement to its commit, and its commit
waits for the disk. Threads of one server worker (gunicorn's gthread worker) that save while
another save of the worker is in flight queue here; when it is done, the first of them leads the
next **group**: every save queued by then, in the order they arrived, in one transaction and one
commit. The recorder (its ``commit_group``, :mod:`infrastructure.store.recorders`) judges each
member on its own, in that transaction, against the store as the members before it left it: a
member refused (its last check fails, or its version is taken, by an earlier member too) leaves
nothing and is answered its own refusal; the others commit. Each member gets its own positions
and leaf indexes, in commit order, and is answered only once the group's commit has returned. If
the transaction itself fails (the database, not a member's rules), every member of the group is
answered that failure: none was committed.

A save that finds no other in flight leads a group of one at once: nothing waits for company,
so a lone writer's transaction, statements and answers are what they were before groups.
"""

from __future__ import annotations

import copy
import sqlite3
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from eventsourcing.persistence import IntegrityError, PersistenceError, StoredEvent

from infrastructure.store.sealed_batch import SealedBatch

MAX_MEMBERS = 32
"""The most saves one transaction takes (the rest lead or join the next group)."""

Outcome = Sequence[int] | Exception
"""A member's answer: the positions its events were given, or its own refusal."""


@dataclass
class Member:
    """One save waiting for its group's commit."""

    stored_events: Sequence[StoredEvent]
    batch: SealedBatch
    kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Waiting:
    member: Member
    outcome: Outcome | None = None
    done: bool = False


def _drivers_errors() -> tuple[tuple[type[Exception], ...], tuple[type[Exception], ...]]:
    """The database drivers' integrity errors, and all their errors: psycopg's once a
    PostgreSQL store has imported it (a SQLite store's process, which never imports it, can
    meet none of them)."""
    psycopg = sys.modules.get("psycopg")
    if psycopg is None:
        return (sqlite3.IntegrityError,), (sqlite3.Error,)
    return (sqlite3.IntegrityError, psycopg.IntegrityError), (sqlite3.Error, psycopg.Error)


def database_failure(error: Exception) -> bool:
    """Whether ``error``, raised while a member was inserted or judged, is the transaction's
    (the database's), not the member's own refusal: a database error other than a version
    already taken."""
    integrity, errors = _drivers_errors()
    if isinstance(error, (IntegrityError, *integrity)):
        return False
    return isinstance(error, (PersistenceError, *errors))


def as_refusal(error: Exception) -> Exception:
    """What a member refused with ``error`` is answered: a version already taken as
    eventsourcing raises it for a save of its own (its IntegrityError), anything else as is."""
    integrity, _ = _drivers_errors()
    if isinstance(error, integrity):
        taken = IntegrityError(str(error))
        taken.__cause__ = error
        return taken
    return error


class WriteGroups:
    """The queue of one recorder's concurrent saves, and the counts of what it committed."""

    def __init__(self) -> None:
        self._queue: list[_Waiting] = []
        self._committing = False
        self._turn = threading.Condition()
        self.groups = 0
        """Transactions committed or failed (each one group)."""
        self.members = 0
        """Saves those transactions carried."""

    @property
    def queued(self) -> int:
        """Saves waiting for the group in flight to end (each leads or joins the next)."""
        with self._turn:
            return len(self._queue)

    @property
    def committing(self) -> bool:
        """Whether a group's transaction is in flight."""
        with self._turn:
            return self._committing

    def commit(
        self, member: Member, commit_group: Callable[[Sequence[Member]], list[Outcome]]
    ) -> Sequence[int]:
        """The positions ``member``'s events were committed at, once its group has committed.

        ``commit_group`` runs the group's transaction (in the leader's thread) and answers one
        outcome per member, in order; if it raises, every member is answered that failure.

        Raises:
            The member's own refusal, or the group's failure.
        """
        waiting = _Waiting(member)
        with self._turn:
            self._queue.append(waiting)
            while not waiting.done and (self._committing or self._queue[0] is not waiting):
                self._turn.wait()
            if not waiting.done:  # this thread leads the next group
                group = self._queue[:MAX_MEMBERS]
                del self._queue[:MAX_MEMBERS]
                self._committing = True
        if not waiting.done:
            self._lead(group, commit_group)
        outcome = waiting.outcome
        if isinstance(outcome, Exception):
            raise outcome
        assert outcome is not None
        return outcome

    def _lead(
        self, group: list[_Waiting], commit_group: Callable[[Sequence[Member]], list[Outcome]]
    ) -> None:
        """Run the group's transaction and answer its members (the leader is ``group[0]``)."""
        outcomes: list[Outcome] = []
        try:
            outcomes = _outcomes(group, commit_group)
        finally:
            with self._turn:
                self.groups += 1
                self.members += len(group)
                for waiting, outcome in zip(group, outcomes, strict=False):
                    waiting.outcome = outcome
                for waiting in group:
                    if waiting.outcome is None:  # the leader was stopped before any answer
                        waiting.outcome = RuntimeError("the write's group was interrupted")
                    waiting.done = True
                self._committing = False
                self._turn.notify_all()


def _outcomes(
    group: list[_Waiting], commit_group: Callable[[Sequence[Member]], list[Outcome]]
) -> list[Outcome]:
    try:
        outcomes = commit_group([waiting.member for waiting in group])
    except Exception as failure:
        # The leader raises the failure itself, each other member a copy of it: no two
        # threads raise (and extend the traceback of) one exception object.
        failures: list[Outcome] = [failure]
        return failures + [_copied(failure) for _ in group[1:]]
    if len(outcomes) != len(group):
        raise RuntimeError("a group's transaction answered a different number of members")
    return outcomes


def _copied(failure: Exception) -> Exception:
    """The same failure for another thread to raise: its type, arguments and cause."""
    try:
        again = copy.copy(failure)
    except Exception:  # an exception that cannot be copied: its type's plainest stand-in
        again = RuntimeError(str(failure))
    again.__cause__ = failure.__cause__
    again.__traceback__ = None
    return again
