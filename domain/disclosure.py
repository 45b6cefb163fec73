"""Who took a copy of which data, and which copy: the disclosure log (ICH E6(R3) 4.2).

Every report, replay, packet and export the store hands a person is a ``CopyHandedOut`` event
that the server signs in the person's stream ``disclosures/<user id>``, chained, in the Merkle
log and covered by checkpoints like every record: it names what was handed out, its scope
(the study, a site or a subject), the channel, the SHA-256 of the exact bytes handed out and
the size and root of the log they were built from. So the trail answers "who took a copy of
RP-02's data, and which one", and a copy found later is matched to its hand-out by its hash.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.observed import ObservedByServer
from domain.signed import SignedAggregate

PACKET = "submission packet"
REPLAY = "replay"
HISTORY = "history"
AUDIT_TRAIL = "audit trail"
OUTCOMES = "outcome report"
CONEP = "CONEP document"
SUMMARY = "subject summary"
WEEKLY = "weekly outcome table"
AUDIT_INDEX = "audit index"
DASHBOARD = "dashboard"
UNSIGNED = "unsigned records report"
AUDIT_REVIEW = "audit-trail review report"
SOURCE_VERIFICATION = "source verification coverage"
DELEGATION_LOG = "delegation log"
ACCESS_REVIEW = "access review report"
ACCOUNTS = "accounts"
ACCOUNT_HISTORY = "account history"
AUTHENTICATION_LOG = "authentication log"
DISCLOSURE_LOG = "disclosure log"
SUBJECT_LIST = "subject list"
SUBJECT_PAGE = "subject page"
CHART = "subject chart"
QUERY_LIST = "query list"
QUERY_PAGE = "query page"
RECORD_FORM = "record form"
"""What a copy is, as the disclosure log names it. Personnel data (accounts, their history,
the authentication and disclosure logs, delegations) is a copy too: of the study the store
serves, as a whole or of one site."""


def disclosure_stream(user_id: str) -> str:
    """A person's disclosure log: ``disclosures/<user id>``."""
    return f"disclosures/{user_id}"


@dataclass(frozen=True)
class Scope:
    """What part of the study a copy holds: the study, one site of it, or one subject."""

    study: str
    site: str | None = None
    subject: str | None = None

    def holds(self, study: str, site: str, subject: str) -> bool:
        """True if a copy of this scope holds data of ``subject`` (of ``site``)."""
        if study != self.study:
            return False
        if self.subject is not None:
            return subject == self.subject
        return self.site is None or site == self.site

    def __str__(self) -> str:
        if self.subject is not None:
            return f"{self.study}/{self.subject}"
        return self.study if self.site is None else f"{self.study} site {self.site}"


@dataclass(frozen=True)
class Disclosure:
    """One copy handed out, as the log shows it."""

    user_id: str
    what: str
    scope: Scope
    channel: str
    sha256: str
    log_size: int
    log_root: str
    handed_out_at: datetime


class DisclosureLog(SignedAggregate):
    """The copies of data handed to one person, in order."""

    class Event(ObservedByServer):
        """An event of a disclosure log: the signed body addresses it by ``disclosures``."""

        OBSERVATION = "a copy handed out"

        @staticmethod
        def stream_of(body: dict[str, Any]) -> str:
            return disclosure_stream(str(body.get("disclosures")))

    class Started(Event, SignedAggregate.Created):
        """The person's disclosure log begins."""

    class CopyHandedOut(Event):
        """The store handed ``user_id`` a copy: ``what`` (a packet, a report, a replay, an
        audit trail), of ``study`` (or one site or subject of it), on ``channel`` (api,
        console, web); ``sha256`` of the bytes handed out; the log they were built from, by its
        size and Merkle root (hex)."""

        user_id: str
        what: str
        study: str
        site: str | None
        subject: str | None
        channel: str
        sha256: str
        log_size: int
        log_root: str

        def apply(self, log: DisclosureLog) -> None:
            log.copies += 1

    def __init__(self) -> None:
        self.copies = 0
        """How many copies the person has been handed."""

    @classmethod
    def start(cls, user_id: str) -> DisclosureLog:
        """Begin the disclosure log of ``user_id``."""
        log: DisclosureLog = cls._create(cls.Started, stream=disclosure_stream(user_id))
        return log

    def hand_out(
        self,
        *,
        user_id: str,
        what: str,
        study: str,
        site: str | None,
        subject: str | None,
        channel: str,
        sha256: str,
        log_size: int,
        log_root: str,
    ) -> None:
        """Record one copy handed out."""
        self.trigger_event(
            self.CopyHandedOut,
            user_id=user_id,
            what=what,
            study=study,
            site=site,
            subject=subject,
            channel=channel,
            sha256=sha256,
            log_size=log_size,
            log_root=log_root,
        )


def disclosure_of(event: DisclosureLog.CopyHandedOut) -> Disclosure:
    """The copy a ``CopyHandedOut`` event records."""
    return Disclosure(
        user_id=event.user_id,
        what=event.what,
        scope=Scope(event.study, event.site, event.subject),
        channel=event.channel,
        sha256=event.sha256,
        log_size=event.log_size,
        log_root=event.log_root,
        handed_out_at=event.recorded_at,
    )
