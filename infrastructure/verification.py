"""``sealtrail verify``: re-check every stored event from the log alone.

Two passes over the notification log, in log order. The first rebuilds every account (their
keys and validity periods); the second checks each event as the store checked it on the way
in (:func:`domain.attribution.attribute`) plus what only the whole stream shows: versions in
sequence and each event committing to the hash of the one before. Every problem becomes a
:class:`Finding`; nothing stops at the first one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification

from domain.account import Account, RegisteredKey
from domain.attribution import attribute
from domain.signed import SignedAggregate
from signatures.chain import GENESIS_HASH, check_link
from signatures.errors import VerificationError

PAGE_SIZE = 500

Progress = Callable[[int], None]


@dataclass(frozen=True)
class Finding:
    """One thing that does not hold, where it is and what it is."""

    position: int
    stream: str
    version: int
    kind: str
    detail: str

    def as_dict(self) -> dict[str, Any]:
        """The finding as JSON."""
        return asdict(self)

    def __str__(self) -> str:
        return (
            f"position {self.position}: {self.stream} version {self.version}: "
            f"{self.kind}: {self.detail}"
        )


@dataclass
class _Stream:
    name: str
    version: int = 0
    head: str | None = GENESIS_HASH  # None once an unreadable event hides the true head


class LogVerifier:
    """Walks the log of a store and reports every finding."""

    def __init__(
        self,
        notifications: Callable[[int, int], list[Notification]],
        decode: Callable[[Notification], Any],
        anchor: RegisteredKey,
    ) -> None:
        self._notifications = notifications
        self._decode = decode
        self._anchor = anchor

    def verify(self, progress: Progress | None = None) -> list[Finding]:
        """Check the whole log; an empty list means nothing was found wrong."""
        accounts, names = self._accounts_and_names()
        streams: dict[UUID, _Stream] = {}
        findings: list[Finding] = []
        for notification in self._all():
            findings += self._check(notification, accounts, names, streams)
            if progress is not None:
                progress(1)
        return findings

    def _all(self) -> Iterator[Notification]:
        start = 1
        while True:
            page = self._notifications(start, PAGE_SIZE)
            yield from page
            if len(page) < PAGE_SIZE:
                return
            start = page[-1].id + 1

    def count(self) -> int:
        """How many events the log holds (for a progress bar)."""
        return sum(1 for _ in self._all())

    def _accounts_and_names(self) -> tuple[dict[str, Account], dict[UUID, str]]:
        accounts: dict[UUID, Account] = {}
        names: dict[UUID, str] = {}
        for notification in self._all():
            try:
                event = self._decode(notification)
            except Exception:  # noqa: S112 - the second pass reports it as a finding
                continue
            if not isinstance(event, SignedAggregate.Event):
                continue
            names.setdefault(event.originator_id, event.stream)
            if isinstance(event, Account.Event):
                try:
                    accounts[event.originator_id] = event.mutate(accounts.get(event.originator_id))
                except Exception:  # noqa: S112 - the second pass reports this event
                    continue
        return {account.user_id: account for account in accounts.values()}, names

    def _check(
        self,
        notification: Notification,
        accounts: dict[str, Account],
        names: dict[UUID, str],
        streams: dict[UUID, _Stream],
    ) -> list[Finding]:
        originator = notification.originator_id
        assert isinstance(originator, UUID)
        stream = streams.setdefault(originator, _Stream(names.get(originator, str(originator))))
        version = notification.originator_version

        def finding(kind: str, detail: str) -> Finding:
            return Finding(notification.id, stream.name, version, kind, detail)

        found: list[Finding] = []
        if version != stream.version + 1:
            found.append(
                finding(
                    "version-gap",
                    f"version {version} follows version {stream.version} of the stream",
                )
            )
        stream.version = version
        try:
            event = self._decode(notification)
        except Exception as error:
            found.append(finding("undecodable", f"the stored event cannot be read: {error}"))
            stream.head = None
            return found
        if not isinstance(event, SignedAggregate.Event):
            found.append(finding("unsigned", f"{type(event).__qualname__} carries no signature"))
            return found
        try:
            attribute(event, accounts.get, self._anchor)
        except VerificationError as error:
            found.append(finding(error.kind, str(error)))
        if stream.head is not None:
            try:
                check_link(stream.head, event.previous_hash)
            except VerificationError as error:
                found.append(finding(error.kind, str(error)))
        stream.head = event.event_hash
        return found
