"""Recording and reading the authentication log, whose attempts are signed events of the log.

See :mod:`domain.authentication`. The server signs each attempt as it signs a lockout; two
attempts on one account at once race for the stream's next version like two writes of one
subject, and the loser records again on the new head, so no attempt is lost.

Stores made before the log held the attempts kept them in an ``authentication_attempts`` table.
:meth:`AuthenticationLogBook.carry_over` moves its rows into the log (each ``Attempted`` names
the row it came from, so a carry-over cut short resumes without recording a row twice) and then
drops the table: nothing reads it any more, and a row edited there would change nothing.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import Engine, MetaData, Table, inspect, select

from domain.authentication import (
    DETAIL_LIMIT,
    NAME_LIMIT,
    NO_ACCOUNT,
    Attempt,
    AuthenticationLog,
    attempt_of,
    authentication_stream,
    escaped,
)
from domain.signed import stream_id
from infrastructure.application.reads import Reads
from infrastructure.application.sealtrail import SealTrail
from infrastructure.application.server_logs import ServerLog
from infrastructure.store.instants import utc

OLD_TABLE = "authentication_attempts"
"""Where stores before the event-based log kept attempts (read once, by the carry-over)."""

PAGE = 200


class AuthenticationLogBook:
    """The authentication log of a store: record an attempt, count failures, list attempts."""

    def __init__(self, app: SealTrail) -> None:
        self.app = app
        self.logs = ServerLog(app, "authentication", authentication_stream, AuthenticationLog.start)

    # -- recording --------------------------------------------------------------------------

    def record(self, attempt: Attempt) -> None:
        """Record one attempt in its account's log (or the log of names of no account)."""
        fields = {
            "user_id": escaped(attempt.user_id, NAME_LIMIT),
            "channel": attempt.channel,
            "outcome": attempt.outcome,
            "detail": escaped(attempt.detail, DETAIL_LIMIT),
            "occurred_at": _whole_seconds(attempt.occurred_at),
        }
        self.logs.append(self._key(attempt.user_id), "Attempted", fields, AuthenticationLog.record)

    def _key(self, user_id: str) -> str:
        if "\x00" in user_id or user_id.startswith("~"):
            return NO_ACCOUNT
        return user_id if self.app.find_account(user_id) is not None else NO_ACCOUNT

    # -- reading ------------------------------------------------------------------------------

    def log(self, key: str, *, to_change: bool = False) -> AuthenticationLog | None:
        """The authentication log of a user id (or of :data:`NO_ACCOUNT`), None before any."""
        return self.logs.log(key, to_change=to_change)

    def failures_since(self, user_id: str, since: datetime | None) -> int:
        """Failed attempts of the account since its last success (and after ``since``)."""
        log = self.log(user_id)
        return 0 if log is None else log.failures_since(since)

    def attempts(self, user_id: str | None = None, limit: int = 100) -> list[Attempt]:
        """The newest attempts first, of one name as typed or of everyone."""
        if user_id is not None:
            streams = [self._newest(user_id), self._newest(NO_ACCOUNT, named=user_id)]
        else:
            keys = [account.user_id for account in Reads(self.app).accounts()] + [NO_ACCOUNT]
            streams = [self._newest(key) for key in keys]
        # Merged by when each event was recorded: the signed ``occurred_at`` has whole seconds
        # only, and attempts of two streams in one second must still come out in order.
        merged = heapq.merge(*streams, key=lambda recorded: recorded[0], reverse=True)
        return [attempt for _, (_, attempt) in zip(range(limit), merged, strict=False)]

    def _newest(self, key: str, *, named: str | None = None) -> Iterator[tuple[datetime, Attempt]]:
        """A stream's attempts with the time each was recorded, newest first, a page at a time."""
        originator = stream_id(authentication_stream(key))
        before: int | None = None
        while True:
            page = list(self.app.events.get(originator, lte=before, desc=True, limit=PAGE))
            for event in page:
                if isinstance(event, AuthenticationLog.Attempted) and (
                    named is None or event.user_id == named
                ):
                    yield event.timestamp, attempt_of(event)
            if len(page) < PAGE:
                return
            before = page[-1].originator_version - 1

    # -- the upgrade of older stores ------------------------------------------------------------

    def carry_over(self, engine: Engine) -> int:
        """Move the rows of an older store's attempts table into the log; returns how many.

        Run when the store is opened, under the schema lock (one process at a time).
        """
        if not inspect(engine).has_table(OLD_TABLE):
            return 0
        old = Table(OLD_TABLE, MetaData(), autoload_with=engine)
        with engine.connect() as connection:
            rows = connection.execute(select(old).order_by(old.c.id)).all()
        logs: dict[str, AuthenticationLog] = {}
        carried = 0
        for row in rows:
            key = self._key(str(row.user_id))
            if key not in logs:
                logs[key] = self.logs.opened(key)
            log = logs[key]
            if row.id <= log.carried_up_to:
                continue  # carried by an earlier upgrade that was cut short
            occurred_at = row.occurred_at
            if isinstance(occurred_at, str):
                occurred_at = datetime.fromisoformat(occurred_at)
            fields = {
                "user_id": escaped(str(row.user_id), NAME_LIMIT),
                "channel": str(row.channel),
                "outcome": str(row.outcome),
                "detail": escaped(str(row.detail), DETAIL_LIMIT),
                "occurred_at": _whole_seconds(occurred_at),
                "carried_over_from": int(row.id),
            }
            self.logs.signed(key, log.version + 1, "Attempted", fields, log.record, **fields)
            carried += 1
        if logs:
            self.app.save(*logs.values())  # one transaction: all of them or none
        with engine.begin() as connection:
            old.drop(connection)
        return carried


def _whole_seconds(moment: datetime) -> datetime:
    # What is stored is exactly what was signed: instants are signed to the second.
    return utc(moment).replace(microsecond=0)
