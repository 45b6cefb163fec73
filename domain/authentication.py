"""The authentication log (21 CFR 11.300(d)) as signed events of the log, like every record.

Every attempt to authenticate, success, failure or refusal (a locked account, an expired
password, a lockout), is an ``Attempted`` event that the server signs and the store chains,
puts in the Merkle log and covers by its checkpoints: deleting or inventing an attempt is found
by ``sealtrail verify`` as deleting or inventing a clinical record is. An account's attempts are
the stream ``authentication/<user id>``; attempts naming no account share the stream
``authentication/~no-account`` (``~`` is never in a user id), with the name as typed, escaped.

The lockout counts the failures of an account's own stream since its last success.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.observed import ObservedByServer
from domain.signed import SignedAggregate

NO_ACCOUNT = "~no-account"
"""The stream key of attempts that name no account (unknown names, and malformed ones)."""

SUCCEEDED = "succeeded"
FAILED = "failed"
REFUSED = "refused"

NAME_LIMIT = 100
DETAIL_LIMIT = 200


def authentication_stream(key: str) -> str:
    """An authentication log's stream name: ``authentication/<user id or ~no-account>``."""
    return f"authentication/{key}"


def escaped(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, anything unprintable written as ``\\uXXXX``.

    A name typed at a login form is anything at all (a NUL byte, a lone surrogate, a line
    break); the log keeps what was typed, readably, in text every database and JSON accepts.
    """
    return "".join(
        character if character.isprintable() else f"\\u{ord(character):04x}"
        for character in text[:limit]
    )


@dataclass(frozen=True)
class Attempt:
    """One authentication attempt, as the log shows it."""

    user_id: str
    occurred_at: datetime
    channel: str
    outcome: str
    detail: str


class AuthenticationLog(SignedAggregate):
    """The attempts of one account (or of every name that is no account's), in order."""

    class Event(ObservedByServer):
        """An event of an authentication log: the signed body addresses it by ``authentication``
        and the server alone signs it (it is what the server observed)."""

        OBSERVATION = "an authentication attempt"

        @staticmethod
        def stream_of(body: dict[str, Any]) -> str:
            return authentication_stream(str(body.get("authentication")))

    class Started(Event, SignedAggregate.Created):
        """The log of an account (or of names that are no account's) begins."""

    class Attempted(Event):
        """Someone tried to authenticate as ``user_id`` (as typed) on ``channel`` (token,
        password, console, signing, session) with this outcome.

        ``carried_over_from`` is the row of the authentication table that an older store kept
        the attempt in, for an attempt carried over into the log when the store was upgraded.
        """

        user_id: str
        channel: str
        outcome: str
        detail: str
        occurred_at: datetime
        carried_over_from: int | None

        def apply(self, log: AuthenticationLog) -> None:
            if self.carried_over_from is not None:
                log.carried_up_to = max(log.carried_up_to, self.carried_over_from)
            if self.outcome == SUCCEEDED:
                log.failures = ()
            elif self.outcome == FAILED:
                # A carried-over attempt was recorded at the upgrade: it happened at occurred_at.
                when = self.occurred_at if self.carried_over_from is not None else self.timestamp
                log.failures = (*log.failures, when)

    def __init__(self) -> None:
        self.failures: tuple[datetime, ...] = ()
        self.carried_up_to = 0

    @classmethod
    def start(cls, key: str) -> AuthenticationLog:
        """Begin the log of ``key`` (a user id, or :data:`NO_ACCOUNT`)."""
        log: AuthenticationLog = cls._create(cls.Started, stream=authentication_stream(key))
        return log

    def record(
        self,
        *,
        user_id: str,
        channel: str,
        outcome: str,
        detail: str,
        occurred_at: datetime,
        carried_over_from: int | None = None,
    ) -> None:
        """Record one attempt."""
        self.trigger_event(
            self.Attempted,
            user_id=user_id,
            channel=channel,
            outcome=outcome,
            detail=detail,
            occurred_at=occurred_at,
            carried_over_from=carried_over_from,
        )

    def failures_since(self, since: datetime | None) -> int:
        """Failures since the last success and, given ``since`` (an unlock), after it."""
        return sum(1 for when in self.failures if since is None or when > since)


def attempt_of(event: AuthenticationLog.Attempted) -> Attempt:
    """The attempt an ``Attempted`` event records."""
    return Attempt(event.user_id, event.occurred_at, event.channel, event.outcome, event.detail)
