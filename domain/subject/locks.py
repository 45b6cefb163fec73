"""Freezing, locking and unlocking a subject's records (ICH E6(R3) data management; database lock
before analysis).

A sponsor data manager freezes a subject (no new record and no correction; the data
clarification dialogue, source verification and signatures go on) and locks a subject (nothing
but the unlock steps). Unlocking is signed by two people: the data manager asks, with the
reason (:class:`SubjectUnlockRequested`), and the site's investigator unlocks, naming that
request (:class:`SubjectUnlocked`); the subject is then open again. The state is read from the
subject's own entries (:func:`lock_state_of`), so a replay, ``verify`` and a packet read it as
the store did.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import TYPE_CHECKING, Any

from domain.actions import Action
from domain.authorship import authorship_in_force
from domain.errors import CasebookNotSigned, LockStepRefused, RecordsFrozen, RecordsLocked
from domain.subject.casebook import current_casebook_signature
from domain.subject.changes import EntryCorrected, EntryVoided
from domain.subject.declaration import item
from domain.subject.entries import Entry
from domain.subject.record import Record
from domain.text import says_nothing

if TYPE_CHECKING:
    from domain.subject.aggregate import Subject


class LockState(Enum):
    """How far a subject's records are closed."""

    OPEN = "open"
    FROZEN = "frozen"
    LOCKED = "locked"


class LockScope(Enum):
    """What a lock was asked for: the subject alone, or every subject of its site or study."""

    SUBJECT = "subject"
    SITE = "site"
    STUDY = "study"


class LockStep(Record):
    """A step of freezing, locking or unlocking: about the subject's records, never corrected,
    voided or signed, and taken after the end of the study (that is when it is taken)."""

    ABOUT_RECORDS = True
    MAY_FOLLOW_THE_END = True
    VOIDABLE = False
    DESCRIBED_WHEN_RECORDED = True
    SUBMITTED_AS = Action.FREEZE_AND_LOCK


class SubjectFrozen(LockStep):
    """A sponsor data manager freezes the subject's records: no new record nor correction."""

    COMMAND = "freeze_records"
    reason: str = item("Why the records are frozen (e.g. cleaning before lock)")

    @classmethod
    def admit(cls, subject: Subject, fields: Mapping[str, Any]) -> None:
        if lock_state_of(subject) is not LockState.OPEN:
            raise LockStepRefused(
                "%(subject_code)s is %(value)s already",
                subject_code=subject.subject_code,
                value=lock_state_of(subject).value,
            )
        _check_said(fields["reason"], "a freeze says why")


class SubjectLocked(LockStep):
    """A sponsor data manager locks the subject's records (from open or frozen), once the
    investigator's casebook signature covers them as they stand: nothing but the unlock steps
    is recorded until it is unlocked."""

    COMMAND = "lock_records"
    scope: LockScope = item("The subject alone, or as part of its site's or the study's lock")
    reason: str = item("Why the records are locked (e.g. database lock before analysis)")

    @classmethod
    def admit(cls, subject: Subject, fields: Mapping[str, Any]) -> None:
        if lock_state_of(subject) is LockState.LOCKED:
            raise LockStepRefused(
                "%(subject_code)s is locked already", subject_code=subject.subject_code
            )
        _check_said(fields["reason"], "a lock says why")
        if current_casebook_signature(subject) is None:
            raise CasebookNotSigned(
                "%(subject_code)s's casebook has no current signature: the "
                "investigator signs it as it stands before it is locked",
                subject_code=subject.subject_code,
            )


class SubjectUnlockRequested(LockStep):
    """A sponsor data manager asks to unlock (or unfreeze) the subject, saying why; the site's
    investigator's :class:`SubjectUnlocked` completes it."""

    COMMAND = "request_unlock"
    reason: str = item("Why the records are to be opened again", multiline=True)

    @classmethod
    def admit(cls, subject: Subject, fields: Mapping[str, Any]) -> None:
        if lock_state_of(subject) is LockState.OPEN:
            raise LockStepRefused(
                "%(subject_code)s is neither frozen nor locked", subject_code=subject.subject_code
            )
        if pending_unlock_request(subject) is not None:
            raise LockStepRefused(
                "%(subject_code)s has an unlock request pending (entry "
                "%(pending_unlock_request)s): the investigator answers it",
                subject_code=subject.subject_code,
                pending_unlock_request=pending_unlock_request(subject),
            )
        _check_said(fields["reason"], "an unlock gives its reason")

    def apply(self, subject: Subject) -> None:
        super().apply(subject)
        # A new mapping, not an update: a copy made for a command shares the old one. Keyed by
        # text, as the replay cache's JSON keeps keys.
        requested_by = dict(getattr(subject, "unlock_requested_by", {}))
        requested_by[str(self.originator_version)] = _signer_id(self.authorship.body())
        subject.unlock_requested_by = requested_by


class SubjectUnlocked(LockStep):
    """The site's investigator unlocks the subject, countersigning a data manager's pending
    request: the records are open again."""

    COMMAND = "unlock_records"
    SUBMITTED_AS = Action.SIGN_CLINICAL_RECORDS
    request: int = item("The entry of the SubjectUnlockRequested countersigned", minimum=1)

    @classmethod
    def admit(cls, subject: Subject, fields: Mapping[str, Any]) -> None:
        pending = pending_unlock_request(subject)
        if pending is None or pending != fields["request"]:
            raise LockStepRefused(
                "entry %(request)s is not %(subject_code)s's pending unlock request: "
                "a sponsor data manager asks first, with the reason",
                request=fields["request"],
                subject_code=subject.subject_code,
            )
        requester = getattr(subject, "unlock_requested_by", {}).get(str(pending))
        if requester is not None and requester == _signer_id(authorship_in_force().body()):
            raise LockStepRefused(
                "%(requester)s asked for this unlock: another person countersigns it",
                requester=requester,
            )


CHANGES = (EntryCorrected, EntryVoided)
"""The kinds that change a record: refused, like a new record, while the subject is frozen."""
LOCK_STEPS = (SubjectFrozen, SubjectLocked, SubjectUnlockRequested, SubjectUnlocked)


def _steps(subject: Subject) -> list[Entry]:
    return subject.live(*LOCK_STEPS)


def lock_state_of(subject: Subject) -> LockState:
    """Where the subject's records stand: the last freeze, lock or unlock decides."""
    state = LockState.OPEN
    for step in _steps(subject):
        if step.kind == SubjectFrozen.kind():
            state = LockState.FROZEN
        elif step.kind == SubjectLocked.kind():
            state = LockState.LOCKED
        elif step.kind == SubjectUnlocked.kind():
            state = LockState.OPEN
    return state


def pending_unlock_request(subject: Subject) -> int | None:
    """The entry of the unlock request no investigator has countersigned yet, if any (a new
    freeze or lock lets an earlier request lapse)."""
    pending: int | None = None
    for step in _steps(subject):
        pending = step.version if step.kind == SubjectUnlockRequested.kind() else None
    return pending


def check_open_to(subject: Subject, kind: type[Record]) -> None:
    """Refuse ``kind`` for a frozen or locked subject.

    Frozen: no clinical data (a new record, a correction or a void), but the data clarification
    dialogue, source verification, signatures and the lock steps go on. Locked: the unlock
    steps only.

    Raises:
        RecordsFrozen, RecordsLocked: the subject's records are closed to this kind.
    """
    state = lock_state_of(subject)
    if state is LockState.LOCKED and kind not in (SubjectUnlockRequested, SubjectUnlocked):
        raise RecordsLocked(
            "%(subject_code)s is locked: no %(kind)s is recorded until a sponsor "
            "data manager and the site's investigator unlock it",
            subject_code=subject.subject_code,
            kind=kind.kind(),
        )
    # A new record, or a change of one; what is about records without changing them goes on.
    if state is LockState.FROZEN and (not kind.ABOUT_RECORDS or kind in CHANGES):
        raise RecordsFrozen(
            "%(subject_code)s is frozen: no %(kind)s is recorded (queries, "
            "source verification and signatures still are) until it is unlocked",
            subject_code=subject.subject_code,
            kind=kind.kind(),
        )


def _signer_id(body: Mapping[str, Any]) -> str | None:
    """Who signed a body (read leniently: a folded log's bodies were checked on the way in)."""
    signer = body.get("signer")
    user_id = signer.get("user_id") if isinstance(signer, Mapping) else None
    return user_id if isinstance(user_id, str) else None


def _check_said(text: str, what: str) -> None:
    if says_nothing(text):
        raise LockStepRefused("%(what)s: the text is empty", what=what)
