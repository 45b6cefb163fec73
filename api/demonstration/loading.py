"""Loading the demonstration cohort: nine synthetic subjects of NCT01297972, signed.

The records are :mod:`api.demonstration.records`'s. Each is signed by a synthetic member of the
site's staff with their own Ed25519 key, the site coordinator for data entry and the
investigator for eligibility, serious adverse events, responses and deaths, and goes through
:func:`api.schemas.submissions.submission_from` and ``Records.record_batch``, exactly as a
site's batch (``POST /v1/events/batch``) does: the same schema, the same protocol rules, the same
permission check, every event signed on its own.

Loading resumes where it stopped: a subject's n-th record is its entry n, so what is missing of
a subject is what comes after its current version, and a second run adds nothing. A batch is
stored whole or not at all, so an interrupted load never leaves half a batch. Once every record
is in, site RP's delegations and the steps that close its data follow
(:mod:`api.demonstration.delegation`, :mod:`api.demonstration.closing`), each taken where the
store does not show it taken.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from api.demonstration.closing import CLOSING_KINDS, close_site_rp
from api.demonstration.delegation import delegate_at_rp
from api.demonstration.plans import COORDINATOR, INVESTIGATOR, STUDY, Record
from api.demonstration.records import cohort
from api.demonstration.staff import STAFF, Staff, signed_submission, staff_signatory
from domain.subject import subject_stream
from infrastructure.application.commands import RecordBatch, Signatory, Submission
from infrastructure.bootstrap import Store

__all__ = ["STAFF", "DemoCohortDiverged", "Progress", "Staff", "load"]

BATCH_SIZE = 100
"""Records per batch at most: the API's own limit for a batch (one transaction each)."""


class DemoCohortDiverged(Exception):
    """A demonstration subject's stored records are not the cohort's: resuming would corrupt it."""


class Progress(Protocol):
    """How far the load has got, for whoever shows it (the console's progress bar or lines)."""

    def count_to(self, total: int) -> None:
        """What is counted comes to ``total``."""

    def advance(self, count: int) -> None:
        """``count`` more done."""

    def stage(self, what: str) -> None:
        """Now doing ``what`` (a step that cannot be counted)."""


def load(store: Store, *, progress: Progress | None = None) -> int:
    """Load what is missing of the cohort, then site RP's delegations and the steps that close
    its data (after the records, so that theirs keep their log positions; the monitor's and the
    data manager's accounts are opened then too); returns how many events were added, besides
    the staff's accounts.

    Raises:
        DemoCohortDiverged: a subject of the cohort holds records the cohort does not have
            (written by hand, or by another version of the demonstration data).
    """
    signers = {role: staff_signatory(store, STAFF[role]) for role in (COORDINATOR, INVESTIGATOR)}
    planned = list(cohort())
    batches = [
        batch
        for code, records in planned
        for batch in _batches(code, records, _recorded(store, code, records))
    ]
    added = 0
    if progress is not None:
        progress.count_to(sum(len(batch.records) for batch in batches))
    for batch in batches:
        signer = signers[batch.signer]
        submissions = [
            _submission(signer, batch.code, record, batch.version + index)
            for index, record in enumerate(batch.records)
        ]
        store.records.record_batch(RecordBatch(submissions=submissions, actor_id=signer.user_id))
        added += len(submissions)
        if progress is not None:
            progress.advance(len(submissions))
    added += delegate_at_rp(store, signers[INVESTIGATOR], STAFF[COORDINATOR].user_id)
    added += close_site_rp(
        store, [code for code, _ in planned], signers[INVESTIGATOR], stage=_stage(progress)
    )
    if progress is not None:
        progress.stage("bringing the views up to date")
    store.views.catch_up()
    return added


@dataclass(frozen=True)
class _Batch:
    """Consecutive records of one subject signed by one person: submitted together."""

    code: str
    signer: str
    version: int
    """The version of the subject's stream the first record takes (the others follow it)."""
    records: list[Record]


def _batches(code: str, records: list[Record], recorded: int) -> list[_Batch]:
    """The records after the first ``recorded`` (already stored), in batches."""
    # The batch endpoint's write path, all or nothing per batch: a subject is loaded once per
    # batch rather than once per record, which is what keeps the load fast, and an
    # interrupted load still stops between whole records. One signer per batch, because the
    # one who submits a batch signed all of it (21 CFR 11.200(a)(2)).
    batches: list[_Batch] = []
    for version, record in enumerate(records[recorded:], start=recorded + 1):
        last = batches[-1] if batches else None
        if last is None or last.signer != record.signer or len(last.records) >= BATCH_SIZE:
            batches.append(_Batch(code, record.signer, version, [record]))
        else:
            last.records.append(record)
    return batches


def _submission(signer: Signatory, code: str, record: Record, version: int) -> Submission:
    return signed_submission(signer, code, version, record.kind, record.data)


def _stage(progress: Progress | None) -> Callable[[str], None]:
    return (lambda _: None) if progress is None else progress.stage


def _recorded(store: Store, code: str, records: list[Record]) -> int:
    """How many of the subject's records are stored, after checking they are the cohort's."""
    subject = store.app.find_subject(subject_stream(STUDY, code))
    if subject is None:
        return 0
    stored = [subject.entries[version].kind for version in sorted(subject.entries)]
    expected = [record.kind for record in records[: len(stored)]]
    # What follows the whole cohort's records is the steps that close the subject.
    closed = stored[len(records) :]
    if stored[: len(records)] != expected or not set(closed) <= CLOSING_KINDS:
        raise DemoCohortDiverged(
            f"{code} holds {len(stored)} records that are not the demonstration cohort's; "
            "load the demonstration into a fresh store"
        )
    return min(len(stored), len(records))
