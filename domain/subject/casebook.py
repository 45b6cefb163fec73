"""Casebook sign-off: the investigator signs a subject's whole casebook at a milestone.

One electronic signature (21 CFR 11.50, 11.70; ICH E6(R3) 2.12) over the subject's state (the
chain hash of its latest event, which commits to every event before it) and every live record
as it stands (its record hash, :mod:`signatures.record_hash`), made through the signing ceremony
as a signature over chosen records is (:class:`~domain.subject.changes.RecordsSigned`, whose
rules it keeps: it is one, with a milestone and a state). It is *current* while the casebook
is as signed: a later record, correction or void makes it no longer so (sign again).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from domain.actions import Action
from domain.errors import CasebookChanged, MilestoneNotReached, SignatureRefused
from domain.signed import EarlierInStream
from domain.subject import disposition, treatment
from domain.subject.changes import RecordsSigned, covered_records, records_before
from domain.subject.declaration import ValueType, item
from domain.subject.entries import Entry, RecordSignature
from domain.subject.record import DECLARED
from domain.vocabulary import CASEBOOK_SIGNATURE_MEANINGS, Milestone, Status

if TYPE_CHECKING:
    from domain.subject.aggregate import Subject

LEFT_THE_STUDY = frozenset(
    {
        Status.SCREEN_FAILED,
        Status.WITHDRAWN,
        Status.DIED,
        Status.COMPLETED,
        Status.LOST_TO_FOLLOW_UP,
    }
)
"""Where a subject stands once their participation is over: every milestone is then reached
(what is on record is all there will be)."""


class CasebookSigned(RecordsSigned):
    """The investigator's signature over a subject's whole casebook at a milestone.

    It covers every live record of the subject (not the corrections, voids, signatures and
    queries about them) by entry and record hash, and the subject's state hash: the chain hash
    of its latest event when the investigator read the casebook.
    """

    SUBMITTED_AS = Action.SIGN_CLINICAL_RECORDS
    DESCRIBED_WHEN_RECORDED = True
    MEANINGS = CASEBOOK_SIGNATURE_MEANINGS
    MAX_RECORDS = 5_000
    """A casebook signature covers every live record of the subject, so its limit is a whole
    casebook's, not a ceremony's: the demonstration cohort's longest casebook holds about 210
    records over 20 months of follow-up (weekly blood counts, transfusions, doses), and 5,000
    leaves room for years of it. It stays bounded so that one request (about 100 bytes of
    JSON a record, api/http/signatures.py) and the checks of one event stay small."""

    milestone: Milestone = item("The milestone the casebook is signed at")
    state_hash: str = item(
        "The subject's state when signed: the chain hash of its latest event (64 hex digits)",
        value=ValueType.CODE,
    )

    def check_against_stream(self, earlier: EarlierInStream) -> None:
        """Refuse a casebook signature that is not over its stream's state and every live
        record of it as they stood just before it (the same check ``sealtrail verify`` makes).

        Raises:
            SignatureNotLinked: another state, another record hash, a record left out.
        """
        records = records_before(earlier)
        covered = self.covered() if self.names_only_records() else {}
        records.check_signature(covered)
        records.check_casebook(covered, self.state_hash)


def _treatment_over(subject: Subject) -> bool:
    return subject.latest(treatment.CyclosporineStopped) is not None


def _month_6_assessed(subject: Subject) -> bool:
    return any(e["month"] == 6 for e in subject.live(disposition.ResponseAssessed))


REACHED: Mapping[Milestone, tuple[Callable[[Subject], bool], str]] = {
    Milestone.END_OF_TREATMENT: (_treatment_over, "cyclosporine is not recorded as stopped"),
    Milestone.MONTH_6: (_month_6_assessed, "the month-6 response is not recorded"),
    Milestone.END_OF_STUDY: (lambda subject: False, "the subject is still in the study"),
}
"""Each milestone: whether the records show it reached (besides the subject having left the
study), and what is missing when they do not."""


def check_milestone_reached(subject: Subject, milestone: Milestone) -> None:
    """A casebook is signed at a milestone the subject's records show reached.

    Raises:
        MilestoneNotReached: nothing on record shows it reached.
    """
    if subject.status in LEFT_THE_STUDY:
        return
    reached, missing = REACHED[milestone]
    if not reached(subject):
        raise MilestoneNotReached(
            "%(subject_code)s has not reached %(milestone)s: %(missing)s",
            subject_code=subject.subject_code,
            milestone=milestone.value,
            missing=missing,
        )


def milestones_to_sign(subject: Subject) -> list[Milestone]:
    """What awaits the investigator's casebook signature: the milestones the subject's records
    show reached at which the casebook has not been signed, in the order a subject reaches
    them; once the subject has left the study, only the end of study (that signature covers
    every record there will be, so the milestones passed on the way are not asked for).

    A casebook signed at a milestone and changed since is not listed again: the records it no
    longer covers are unsigned records (:mod:`projections.unsigned_records`), signed on their own
    or with the next milestone's casebook."""
    signed = {signature.milestone for signature in casebook_signatures(subject)}
    if subject.status in LEFT_THE_STUDY:
        reached = [Milestone.END_OF_STUDY]
    else:
        reached = [milestone for milestone in Milestone if REACHED[milestone][0](subject)]
    return [milestone for milestone in reached if milestone not in signed]


def casebook_records(subject: Subject) -> dict[int, str]:
    """Every live record of the subject (not a record about others), entry -> record hash now."""
    return {
        number: entry.record_hash
        for number, entry in subject.entries.items()
        if entry.is_live and not DECLARED[entry.kind].ABOUT_RECORDS
    }


def signed_casebook(
    subject: Subject,
    *,
    milestone: Milestone | str,
    state_hash: str,
    entries: Sequence[Mapping[str, Any]],
    meaning: str,
) -> dict[str, Any]:
    """The fields of a casebook signature the subject takes now.

    Raises:
        MilestoneNotReached: the milestone is not shown reached.
        CasebookChanged: the state hash is not the subject's now.
        SignatureRefused, SignedRecordChanged: a record left out, or as for any signature over
            records (:func:`~domain.subject.changes.covered_records`).
    """
    try:
        reached = Milestone(milestone)
    except ValueError:
        raise SignatureRefused("%(milestone)r is not a milestone", milestone=milestone) from None
    check_milestone_reached(subject, reached)
    if state_hash != subject.chain_head:
        raise CasebookChanged(
            "%(subject_code)s stands at state %(chain_head)s, not "
            "%(state_hash)s: its casebook changed since it was read; read it "
            "again before signing",
            subject_code=subject.subject_code,
            chain_head=subject.chain_head,
            state_hash=state_hash,
        )
    covered = covered_records(subject, entries, meaning, CasebookSigned)
    left_out = sorted(casebook_records(subject).keys() - {c["entry"] for c in covered})
    if left_out:
        raise SignatureRefused(
            "a casebook signature covers every live record; it leaves out entries %(entries)s",
            entries=", ".join(str(number) for number in left_out),
        )
    return {"milestone": reached, "state_hash": state_hash, "entries": covered}


@dataclass(frozen=True)
class CasebookSignature:
    """A casebook signature as the subject's record holds it."""

    signed_in: int
    """The entry (version) of the ``CasebookSigned`` event."""
    milestone: Milestone
    state_hash: str
    covers: Mapping[int, str]
    """Entry -> the record hash signed."""
    signer: RecordSignature
    """Who signed, when, with which meaning (as on each record it covers)."""


def casebook_signatures(subject: Subject) -> list[CasebookSignature]:
    """Every casebook signature of the subject, oldest first."""
    found = []
    for entry in subject.live(CasebookSigned):
        covers = {int(c["entry"]): str(c["record_hash"]) for c in entry["entries"]}
        signer = _signer(subject, entry, covers)
        if signer is not None:
            milestone = Milestone(entry["milestone"])
            found.append(
                CasebookSignature(entry.version, milestone, entry["state_hash"], covers, signer)
            )
    return found


def _signer(subject: Subject, entry: Entry, covers: Mapping[int, str]) -> RecordSignature | None:
    """The signature the casebook signature left on the records it covers."""
    for number in covers:
        covered = subject.entries.get(number)
        for signature in covered.signatures if covered is not None else ():
            if signature.signed_in == entry.version:
                return signature
    return None


def current_casebook_signature(subject: Subject) -> CasebookSignature | None:
    """The latest casebook signature that still covers every live record as it stands; None
    when there is none (never signed, or a record, correction or void was made since)."""
    records = casebook_records(subject)
    for signature in reversed(casebook_signatures(subject)):
        if dict(signature.covers) == records:
            return signature
    return None
