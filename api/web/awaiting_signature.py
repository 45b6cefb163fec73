"""What awaits an investigator's signature, and the signatures ``/sign`` offers them.

Read from the log: the records no current signature covers (the unsigned report of the API and
the console, :func:`infrastructure.views.study_reports.unsigned_records`) and the casebook
milestones reached and not signed at (:func:`domain.subject.casebook.milestones_to_sign`), for
the subjects of the investigator's sites. An offer is the body of a ``RecordsSigned`` over the
records chosen, or of a ``CasebookSigned`` over the whole casebook, as the console's
``sealtrail sign`` and ``sign-casebook`` build them, every record named by its hash as it stands.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from domain.account import Account
from domain.actions import Action
from domain.errors import SignatureRefused
from domain.permissions import check_may_at_subject, check_role_may, not_screened
from domain.subject import ABOUT_RECORDS, Subject
from domain.subject.casebook import casebook_records, milestones_to_sign
from domain.subject.entries import Entry, subject_stream
from domain.vocabulary import Milestone
from infrastructure.application.bodies import body_to_sign
from infrastructure.bootstrap import Store
from infrastructure.views.study_reports import served_study, unsigned_records_of


@dataclass(frozen=True)
class Awaiting:
    """A subject of the investigator's sites with something to sign."""

    subject: str
    site: str
    records: int
    """Its live records (not changes, signatures or queries)."""
    unsigned: list[dict[str, Any]]
    """The records no current signature covers: each ``entry`` and ``kind``."""
    milestones: list[Milestone]
    """The casebook milestones reached and not signed at."""


def awaiting(store: Store, account: Account) -> list[Awaiting]:
    """Every subject of ``account``'s sites with records or a casebook to sign, by code.

    Raises:
        NotPermitted: ``account``'s role in force does not sign records.
        ViewNotVerified: a subject's audit index row is missing (as the unsigned report).
    """
    check_role_may(account, Action.SIGN_CLINICAL_RECORDS)
    study = served_study(None)
    subjects = store.reads.subjects_of(study)  # read from the log once, for both questions
    found = []
    for site in sorted(account.sites):
        of_site = [subject for subject in subjects if subject.site == site]
        report = unsigned_records_of(store.views, study, site, of_site)
        for row, subject in zip(report["subjects"], of_site, strict=True):
            milestones = milestones_to_sign(subject)
            if row["unsigned"] or milestones:
                found.append(
                    Awaiting(row["subject"], site, row["records"], row["unsigned"], milestones)
                )
    return sorted(found, key=lambda item: item.subject)


@dataclass(frozen=True)
class Signing:
    """A signature offered: the body to sign and, in words, the records it covers."""

    body: dict[str, Any]
    subject: str
    records: list[Entry]
    """The records covered, as they stand, by entry."""
    milestone: Milestone | None
    """The casebook's milestone; None for a signature over chosen records."""


def subject_to_sign(store: Store, account: Account, code: str) -> Subject:
    """The subject ``code`` of the served study, once ``account`` may sign its records: the
    same refusals, in the same order, as the signing ceremony makes before it asks for the
    password.

    Raises:
        NotPermitted: not a role that signs records.
        SubjectNotFound: no such subject, or not at one of the account's sites.
    """
    check_role_may(account, Action.SIGN_CLINICAL_RECORDS)
    stream = subject_stream(served_study(None), code)
    subject = store.app.find_subject(stream)
    if subject is None:
        raise not_screened(stream)
    check_may_at_subject(account, Action.SIGN_CLINICAL_RECORDS, subject.site, stream)
    return subject


def records_signing(
    subject: Subject, account: Account, entries: Sequence[int], meaning: str
) -> Signing:
    """The ``RecordsSigned`` body over ``entries`` of ``subject``, each by its hash now.

    Raises:
        SignatureRefused: no entry chosen, or one that is not a live record of the subject.
    """
    if not entries:
        raise SignatureRefused("choose the records to sign")
    chosen = []
    for number in dict.fromkeys(entries):
        entry = subject.entries.get(number)
        if entry is None or not entry.is_live or entry.kind in ABOUT_RECORDS:
            raise SignatureRefused(
                "%(subject_code)s has no live record %(number)s",
                subject_code=subject.subject_code,
                number=number,
            )
        chosen.append(entry)
    data = {"entries": [{"entry": e.version, "record_hash": e.record_hash} for e in chosen]}
    body = _body(subject, account, Subject.RecordsSigned.kind(), data, meaning)
    return Signing(body, subject.subject_code, chosen, None)


def casebook_signing(
    subject: Subject, account: Account, milestone: Milestone, meaning: str
) -> Signing:
    """The ``CasebookSigned`` body of ``subject`` at ``milestone``: its state hash and every
    live record by its hash now (the service refuses a milestone not reached)."""
    records = casebook_records(subject)
    data = {
        "milestone": milestone.value,
        "state_hash": subject.chain_head,
        "entries": [{"entry": n, "record_hash": h} for n, h in sorted(records.items())],
    }
    body = _body(subject, account, Subject.CasebookSigned.kind(), data, meaning)
    return Signing(
        body, subject.subject_code, [subject.entries[n] for n in sorted(records)], milestone
    )


def _body(
    subject: Subject, account: Account, kind: str, data: dict[str, Any], meaning: str
) -> dict[str, Any]:
    return body_to_sign(
        {"study": subject.study_id, "subject": subject.subject_code},
        version=subject.version + 1,
        kind=kind,
        data=data,
        signer=(account.user_id, account.printed_name),
        meaning=meaning,
    )
