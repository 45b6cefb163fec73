"""Closing site RP's data in the demonstration: the steps that make data final (ICH E6(R3) data
management; 21 CFR 11.50), once every subject's records and corrections are in.

For each subject in turn, so that one subject's steps follow one another in the log:

1. the monitor verifies against source each eligibility assessment and each MSC infusion,
   naming the record hash read (``SourceVerified``, submitted as a monitor's batch is);
2. the investigator signs the whole casebook at month 6, then at the end of study
   (``CasebookSigned``, the signing ceremony's own last step);
3. a sponsor data manager freezes the subject, then locks it (``SubjectFrozen``,
   ``SubjectLocked``), as ``sealtrail freeze`` and ``sealtrail lock subject`` do.

Then the data manager records one review of site RP's audit trail (``sealtrail report
audit-review --conclusion``), and the investigator takes the site's own copy: built without its
PDFs (``sealtrail packet build --site RP --no-documents``; drawing them takes most of a
minute), handed out in the disclosure log, kept under ``SEALTRAIL_HOME`` and its receipt signed
once it verifies (``sealtrail packet receive``).

Every subject of the cohort reaches the end of the study: the four who died at their death, the
five others at their end-of-study visit, when the study's follow-up closed (``ended_on`` in
``cohort.toml``, November 2013). So all nine are locked, each after its end of study; a subject
without one would be left open. Month 6 is reached on record by all nine too: those who died
before it have their month-6 response recorded as not evaluable, on the day of death.

The records were loaded at once, years after they were made, so the investigator signs both
milestones over the casebook as it stands now: the month-6 signature is no longer current
once a record follows it in a real study; here the end-of-study one, over the same records,
is what the lock needs. Each step is taken only where the store does not show it taken, so
a rerun adds nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from api.demonstration.plans import DATA_MANAGER, MONITOR, SITE, STUDY
from api.demonstration.staff import STAFF, signed_submission, staff_signatory
from domain.account import Account
from domain.disclosure import PACKET, Scope
from domain.subject import Subject, subject_stream
from domain.subject.casebook import casebook_records, casebook_signatures
from domain.subject.locks import LockScope, LockState, lock_state_of
from domain.subject.source_verification import verifiable, verifications_of
from domain.vocabulary import Milestone
from infrastructure.application.commands import (
    ReceiveSiteCopy,
    RecordBatch,
    RecordEvent,
    ReviewAuditTrail,
    Signatory,
    Submission,
)
from infrastructure.application.disclosures import CONSOLE
from infrastructure.bootstrap import Store
from infrastructure.views.study_reports import audit_review

__all__ = ["CLOSING_KINDS", "SiteCopyUnverified", "close_site_rp", "site_copy_path"]

VERIFIED_KINDS = frozenset({Subject.EligibilityAssessed.kind(), Subject.MscInfusionGiven.kind()})
"""What the monitor verifies of every subject: the eligibility assessment and each infusion."""
MILESTONES = (Milestone.MONTH_6, Milestone.END_OF_STUDY)
CASEBOOK_MEANING = "approval"
CLOSING_KINDS = frozenset(
    {
        Subject.SourceVerified.kind(),
        Subject.CasebookSigned.kind(),
        Subject.SubjectFrozen.kind(),
        Subject.SubjectLocked.kind(),
    }
)
"""The kinds of event that follow a subject's records once it is closed."""
FROZEN_BECAUSE = "end of study: records verified against source and casebook signed; cleaning"
LOCKED_BECAUSE = "end of study: locked before analysis"
REVIEW_CONCLUDED = (
    "Synthetic demonstration data, loaded at once years after the clinical dates: the late "
    "entries and the recording times it flags are the load's, not a site's practice; nothing "
    "to follow up."
)


class SiteCopyUnverified(Exception):
    """The site's copy just built does not verify: its receipt is not recorded."""


def site_copy_path(store: Store) -> Path:
    """Where the demonstration keeps the investigator's copy of site RP's data."""
    return store.settings.home / "demo" / f"site-copy-{SITE}.zip"


def close_site_rp(
    store: Store,
    codes: Sequence[str],
    investigator: Signatory,
    *,
    stage: Callable[[str], None],
) -> int:
    """Close the subjects ``codes`` of site RP, review its audit trail and take its copy, where
    not done yet; how many events were added (the monitor's and the data manager's accounts,
    opened here, aside).

    Raises:
        SiteCopyUnverified: the copy built does not verify (nothing of it is recorded).
    """
    stage("verifying against source, signing casebooks and locking site RP's subjects")
    monitor = staff_signatory(store, STAFF[MONITOR])
    data_manager = staff_signatory(store, STAFF[DATA_MANAGER])
    added = 0
    for code in codes:
        subject = _subject(store, code)
        if subject is None or subject.end_of_study is None:
            continue  # not screened, or still in the study: nothing to close yet
        added += _verify_against_source(store, subject, monitor)
        for milestone in MILESTONES:
            added += _sign_casebook(store, _as_it_stands(store, subject), milestone, investigator)
        added += _freeze_and_lock(store, _as_it_stands(store, subject), data_manager)
    stage("reviewing site RP's audit trail")
    added += _review_audit_trail(store, data_manager)
    stage("building, verifying and receiving site RP's own copy")
    added += _take_site_copy(store, investigator)
    return added


def _subject(store: Store, code: str) -> Subject | None:
    """The subject as it stands, in a command's copy (the cheap one: each step only reads it
    to sign what follows)."""
    return store.app.find_subject(subject_stream(STUDY, code), to_change=True)


def _as_it_stands(store: Store, subject: Subject) -> Subject:
    """The subject again, after the steps just recorded (a subject once screened stays)."""
    return _subject(store, subject.subject_code) or subject


def _verify_against_source(store: Store, subject: Subject, monitor: Signatory) -> int:
    """Each eligibility assessment and infusion not verified as it stands, in one batch."""
    held = verifications_of(subject)
    to_verify = [
        entry
        for entry in verifiable(subject, VERIFIED_KINDS)
        if entry.version not in held or not held[entry.version].whole
    ]
    submissions = [
        signed_submission(
            monitor,
            subject.subject_code,
            subject.version + n,
            Subject.SourceVerified.kind(),
            {"entry": entry.version, "entry_kind": entry.kind, "record_hash": entry.record_hash},
        )
        for n, entry in enumerate(to_verify, start=1)
    ]
    return _record_batch(store, submissions, monitor)


def _sign_casebook(
    store: Store, subject: Subject, milestone: Milestone, investigator: Signatory
) -> int:
    """The investigator's casebook signature at ``milestone``, unless signed there already.

    Over the subject's state and every live record as they stand, as ``sealtrail
    sign-casebook`` reads them; recorded through the signing ceremony's last step, the one after
    the password is checked (the synthetic investigator has none: nobody signs in as them).
    """
    if any(signature.milestone is milestone for signature in casebook_signatures(subject)):
        return 0
    covered = [
        {"entry": entry, "record_hash": record_hash}
        for entry, record_hash in sorted(casebook_records(subject).items())
    ]
    data = {"milestone": milestone.value, "state_hash": subject.chain_head, "entries": covered}
    submission = signed_submission(
        investigator,
        subject.subject_code,
        subject.version + 1,
        Subject.CasebookSigned.kind(),
        data,
        meaning=CASEBOOK_MEANING,
    )
    store.records.record_signature(RecordEvent(submission, investigator.user_id))
    return 1


def _freeze_and_lock(store: Store, subject: Subject, data_manager: Signatory) -> int:
    """Freeze the subject if open, then lock it if not locked, in one batch."""
    state = lock_state_of(subject)
    steps: list[tuple[str, dict[str, str]]] = []
    if state is LockState.OPEN:
        steps.append((Subject.SubjectFrozen.kind(), {"reason": FROZEN_BECAUSE}))
    if state is not LockState.LOCKED:
        lock = {"scope": LockScope.SUBJECT.value, "reason": LOCKED_BECAUSE}
        steps.append((Subject.SubjectLocked.kind(), lock))
    submissions = [
        signed_submission(data_manager, subject.subject_code, subject.version + n, kind, data)
        for n, (kind, data) in enumerate(steps, start=1)
    ]
    return _record_batch(store, submissions, data_manager)


def _record_batch(store: Store, submissions: list[Submission], signer: Signatory) -> int:
    if submissions:
        store.records.record_batch(RecordBatch(submissions, signer.user_id))
    return len(submissions)


def _review_audit_trail(store: Store, data_manager: Signatory) -> int:
    """The data manager's review of site RP's audit trail, from the start to today, unless
    they recorded one already."""
    if _recorded_on(store, data_manager, Account.AuditTrailReviewed):
        return 0
    review = audit_review(store.reads, STUDY, None, None, SITE)
    store.administration.review_audit_trail(
        ReviewAuditTrail(data_manager.user_id, review, REVIEW_CONCLUDED), by=data_manager
    )
    return 1


def _take_site_copy(store: Store, investigator: Signatory) -> int:
    """Build site RP's copy as its investigator, verify it, hand it out and sign its receipt,
    unless the investigator received one already; the events added (the disclosure log's
    and the receipt)."""
    if _recorded_on(store, investigator, Account.SiteCopyReceived):
        return 0
    # Imported here: the packet builder and verifier (and the charts they import) cost seconds
    # to import, and are needed once, on the first load.
    from infrastructure.packets.archive import sha256
    from infrastructure.packets.build import PacketSignatory, build_packet
    from infrastructure.packets.site_scope import INVESTIGATOR, BuiltBy
    from infrastructure.packets.verify import verify_packet

    built_by = BuiltBy(INVESTIGATOR, investigator.user_id, SITE)
    signatory = PacketSignatory(investigator.user_id, investigator.private_key)
    data = build_packet(
        store, study=STUDY, signatory=signatory, documents=False, site_copy=built_by
    )
    report = verify_packet(data, redraw_documents=False)
    if not report.ok or report.tree_size is None or report.root is None:
        raise SiteCopyUnverified(
            f"site {SITE}'s copy does not verify ({len(report.findings)} findings): run "
            "sealtrail verify"
        )
    before = _disclosure_log_size(store, investigator)
    store.disclosures.hand_out(investigator.user_id, PACKET, Scope(STUDY, site=SITE), data, CONSOLE)
    handed_out = _disclosure_log_size(store, investigator) - before
    path = site_copy_path(store)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    receipt = ReceiveSiteCopy(
        user_id=investigator.user_id,
        site=SITE,
        packet_sha256=sha256(data),
        tree_size=report.tree_size,
        root=report.root,
    )
    store.administration.receive_site_copy(receipt, by=investigator)
    return handed_out + 1


def _recorded_on(store: Store, person: Signatory, kind: type[Account.Event]) -> bool:
    return any(isinstance(r.event, kind) for r in store.reads.account_history(person.user_id))


def _disclosure_log_size(store: Store, person: Signatory) -> int:
    """How many events the person's disclosure log holds (its start, then each copy)."""
    log = store.disclosures.logs.log(person.user_id)
    return 0 if log is None else log.version
