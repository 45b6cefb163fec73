"""Logs the server keeps of what it observes, a stream per person, each event signed by it.

The authentication log and the disclosure log are both such logs: the server signs each event
as it signs a lockout, and two events for one person at once race for the stream's next version
like two writes of one subject; the loser records again on the new head, so nothing is lost.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from domain.account import SYSTEM_USER
from domain.authorship import Authorship, authored
from domain.signed import SignedAggregate, stream_id
from domain.wire import to_wire
from infrastructure.application.account_changes import SYSTEM_PRINTED_NAME
from infrastructure.application.bodies import signed_event_body
from infrastructure.application.sealtrail import SealTrail
from signatures.authorship import sign_body

RACE_RETRIES = 50
"""How often an event is recorded again after losing its stream's next version to another."""

Log = TypeVar("Log", bound=SignedAggregate)


def server_body(
    address: dict[str, str], version: int, kind: str, fields: dict[str, Any], key_id: str
) -> dict[str, Any]:
    """The body the server signs for an event of the log at ``address``: exactly ``fields``
    that have a value (an event's signed data leaves out what is None), at ``version`` of the
    stream, signed now with the key named ``key_id``."""
    return signed_event_body(
        address,
        version=version,
        kind=kind,
        data=to_wire({name: value for name, value in fields.items() if value is not None}),
        signer=(SYSTEM_USER, SYSTEM_PRINTED_NAME),
        key_id=key_id,
    )


class ServerLog(Generic[Log]):
    """One kind of log the server keeps: a stream per key, addressed in signed bodies by
    ``address`` (``{"authentication": key}``)."""

    def __init__(
        self,
        app: SealTrail,
        address: str,
        stream_of: Callable[[str], str],
        start: Callable[[str], Log],
    ) -> None:
        self.app = app
        self.address = address
        self.stream_of = stream_of
        self.start = start

    def log(self, key: str, *, to_change: bool = False) -> Log | None:
        """The log of ``key``, None before its first event."""
        try:
            log: Log = self.app.repository.get(
                stream_id(self.stream_of(key)), deepcopy_from_cache=to_change
            )
        except AggregateNotFoundError:
            return None
        return log

    def opened(self, key: str) -> Log:
        """The log of ``key`` to change, started (and signed) if it has no event yet."""
        log = self.log(key, to_change=True)
        if log is None:
            log = self.signed(key, 1, "Started", {}, self.start, key)
        return log

    def append(
        self, key: str, kind: str, fields: dict[str, Any], command: Callable[..., None]
    ) -> None:
        """Record one event of ``kind`` saying ``fields`` (through ``command``, the log's
        method, e.g. ``AuthenticationLog.record``) and save it, again on the new head if
        another took its version.

        Raises:
            RuntimeError: the stream is so busy that every retry lost the race.
        """
        for _ in range(RACE_RETRIES):
            log = self.opened(key)
            self.signed(key, log.version + 1, kind, fields, command, log, **fields)
            try:
                self.app.save(log)
            except IntegrityError:
                continue  # another event took the version: record again on the new head
            return
        raise RuntimeError(f"the log {self.stream_of(key)} is too busy to record an event")

    def signed(self, key: str, version: int, kind: str, fields: dict[str, Any], command: Any,
               *args: Any, **kwargs: Any) -> Any:  # fmt: skip
        """Run ``command`` under the server's signature of a body saying exactly ``fields``,
        at ``version`` of the stream (the place the server signs, docs/signing.md)."""
        server = self.app.server_key
        body = server_body({self.address: key}, version, kind, fields, server.key_id)
        signed_body, signature = sign_body(server.private_key, body)
        with authored(Authorship(signed_body, signature)):
            return command(*args, **kwargs)
