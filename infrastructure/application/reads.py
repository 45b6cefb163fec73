"""The reads service: a subject's or an account's history, and every account.

What an auditor reads of the log as it stands: each event with its log position, oldest
first. A subject as it stood at a version, and one stored event, are the application's
(:meth:`SealTrail.subject_at`, :meth:`SealTrail.stored_record`), since the writes use them too.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.access_review import AccessReviewSchedule
from domain.account import Account, account_stream
from domain.errors import SubjectNotFound
from domain.signed import SignedAggregate, stream_id
from domain.subject import Subject
from infrastructure.application.read_cache import PerStore
from infrastructure.application.sealtrail import SealTrail, StoredRecord
from infrastructure.errors import ProofNotAvailable
from infrastructure.store.checkpoints import MAX_LOG_POSITION
from infrastructure.store.positions import log_positions
from projections.access_review import access_review_report

PAGE = 500

FOLDED_SUBJECTS: PerStore[Subject] = PerStore(maxsize=200_000, sizeof=lambda s: max(1, s.version))
"""Subjects as their events leave them, by stream, version and chain hash: at most 200,000
events' worth of them per store (a demonstration cohort many times over)."""


Head = tuple[int, str]
"""A stream's newest version and that event's chain hash: what it stands on."""


class Reads:
    """Histories and account lists, read from the log."""

    def __init__(self, app: SealTrail) -> None:
        self.app = app

    def history(self, stream: str) -> list[StoredRecord]:
        """Every event of a stream, oldest first, with log positions.

        Raises:
            SubjectNotFound: the stream has no events.
        """
        originator_id = stream_id(stream)
        events = list(self.app.events.get(originator_id))
        if not events:
            raise SubjectNotFound("%(stream)s has no records", stream=stream)
        positions = log_positions(self.app.recorder, originator_id)
        return [
            StoredRecord(positions[event.originator_version], event)
            for event in events
            if isinstance(event, SignedAggregate.Event)
        ]

    def account_history(self, user_id: str) -> list[StoredRecord]:
        """Every event of an account, oldest first: who had which access when, and who said so.

        Raises:
            AccountNotFound: no such account.
        """
        self.app.account(user_id)
        return self.history(account_stream(user_id))

    def accounts(self) -> list[Account]:
        """Every account, the server's included, in the order they were opened."""
        opened = self.app.recorder.select_notifications(
            1, 1_000_000, topics=(f"{Account.Opened.__module__}:{Account.Opened.__qualname__}",)
        )
        found = []
        for notification in opened:
            account: Account = self.app.repository.get(UUID(str(notification.originator_id)))
            found.append(account)
        return found

    def subjects_of(self, study: str) -> list[Subject]:
        """Every subject screened in ``study``, by code, each as its events leave it (read from
        the log, not the views: a view row removed from the database hides no subject).

        The subjects are shared with every other reader of the same version (folded once per
        version and chain hash, :mod:`infrastructure.application.read_cache`, not deep-copied
        for each reader, which cost most of a page listing a cohort): read them, never change
        them. A command takes its own copy (:meth:`SealTrail.find_subject`)."""
        screened = self.app.recorder.select_notifications(
            1, 1_000_000, topics=(Subject.Screened.TOPIC,)
        )
        found: dict[str, Subject] = {}
        for notification in screened:
            subject = self.subject_now(UUID(str(notification.originator_id)))
            if subject is not None and subject.study_id == study:
                found[subject.subject_code] = subject
        return [found[code] for code in sorted(found)]

    def head(self, originator_id: UUID) -> Head | None:
        """The stream's newest version and its chain hash (None for an empty stream): one
        event read. Whatever was computed from the stream up to that version and hash holds
        until the stream grows."""
        stored = self.app.recorder.select_events(originator_id, desc=True, limit=1)
        if not stored:
            return None
        event = self.app.mapper.to_domain_event(stored[0])
        assert isinstance(event, SignedAggregate.Event)
        return event.originator_version, event.event_hash

    def subject_now(self, originator_id: UUID) -> Subject | None:
        """The subject of a stream as its events leave it, shared (see :meth:`subjects_of`);
        None if the stream is empty."""
        head = self.head(originator_id)
        if head is None:
            return None

        def fold() -> Subject:
            subject: Subject = self.app.repository.get(originator_id)
            return subject

        return FOLDED_SUBJECTS.of(self.app).get(
            (originator_id, *head), fold, key_of=lambda s: (originator_id, s.version, s.chain_head)
        )

    def event_at(self, position: int) -> StoredRecord:
        """The event stored at a log position, whichever stream it is in.

        Raises:
            ProofNotAvailable: no event at that position.
        """
        # Never sent to the database past 64 bits: both refuse such an integer with an overflow.
        in_range = 1 <= position <= MAX_LOG_POSITION
        found = self.app.recorder.select_notifications(position, 1) if in_range else []
        if not found or found[0].id != position:
            raise ProofNotAvailable("no event at log position %(position)s", position=position)
        event = self.app.mapper.to_domain_event(found[0])
        assert isinstance(event, SignedAggregate.Event)
        return StoredRecord(position, event)

    def subject_sites(self, study: str) -> dict[str, str]:
        """Every subject screened in ``study``, by code, and the site that screened it: read
        from the screenings alone (a subject's site is fixed there), not from the views, and
        without folding each subject (:meth:`subjects_of` does, at many times the cost)."""
        screened = self.app.recorder.select_notifications(
            1, 1_000_000, topics=(Subject.Screened.TOPIC,)
        )
        sites: dict[str, str] = {}
        for notification in screened:
            event = self.app.mapper.to_domain_event(notification)
            if isinstance(event, Subject.Screened) and event.stream.split("/", 1)[0] == study:
                sites[event.stream.split("/", 1)[1]] = event.site
        return dict(sorted(sites.items()))

    def log(self) -> Iterator[tuple[int, SignedAggregate.Event]]:
        """Every signed event of the log with its position, in log order, a page at a time."""
        start = 1
        while True:
            page = self.app.recorder.select_notifications(start, PAGE)
            for notification in page:
                event = self.app.mapper.to_domain_event(notification)
                if isinstance(event, SignedAggregate.Event):
                    yield notification.id, event
            if len(page) < PAGE:
                return
            start = page[-1].id + 1

    def access_reviews(self) -> list[Account.AccessReviewed]:
        """Every access review recorded, oldest first within each reviewer's account."""
        return [
            record.event
            for account in self.accounts()
            for record in self.history(account_stream(account.user_id))
            if isinstance(record.event, Account.AccessReviewed)
        ]

    def access_review(self, now: datetime, schedule: AccessReviewSchedule) -> dict[str, Any]:
        """The access review report as of ``now``: accounts not reviewed within the period of
        ``schedule``, and roles ending (:mod:`projections.access_review`)."""
        return access_review_report(self.accounts(), self.access_reviews(), now, schedule)

    def audit_trail_reviews(self) -> list[Account.AuditTrailReviewed]:
        """Every recorded review of the audit trail, in log order."""
        kind = Account.AuditTrailReviewed
        recorded = self.app.recorder.select_notifications(
            1, 1_000_000, topics=(f"{kind.__module__}:{kind.__qualname__}",)
        )
        events = (self.app.mapper.to_domain_event(notification) for notification in recorded)
        return [event for event in events if isinstance(event, kind)]
