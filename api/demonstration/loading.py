"""Loading the demonstration cohort: nine synthetic subjects of NCT01297972, signed.

The records are :mod:`api.demonstration.records`'s. Each is signed by a synthetic member of the
site's staff with their own Ed25519 key, the site coordinator for data entry and the
investigator for eligibility, serious adverse events, responses and deaths, and goes through
:func:`api.schemas.submissions.submission_from` and ``Records.record_batch``, exactly as a
site's batch (``POST /v1/events/batch``) does: the same schema, the same protocol rules, the same
permission check, every event signed on its own.

Loading resumes where it stopped: a subject's n-th record is its entry n, so what is missing of
a subject is what comes after its current version, and a second run adds nothing. A batch is
stored whole or not at all, so an interrupted load never leaves half a batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from api.demonstration.delegation import delegate_at_rp
from api.demonstration.plans import COORDINATOR, INVESTIGATOR, SITE, STUDY, Record
from api.demonstration.records import cohort
from api.schemas.submissions import submission_from
from domain.account import Role
from domain.subject import subject_stream
from infrastructure.application.bodies import signed_event_body
from infrastructure.application.commands import (
    AttestTraining,
    OpenAccount,
    RecordBatch,
    RegisterKey,
    Signatory,
    Submission,
    Training,
)
from infrastructure.bootstrap import Store
from signatures.authorship import sign_body
from signatures.keys import (
    generate_private_key,
    key_id,
    private_key_from_pem,
    private_key_to_pem,
    public_key_to_text,
)

__all__ = ["STAFF", "DemoCohortDiverged", "Progress", "Staff", "load"]


@dataclass(frozen=True)
class Staff:
    """A synthetic member of the site's staff: the printed name says it is not a person."""

    user_id: str
    printed_name: str
    role: Role


STAFF: dict[str, Staff] = {
    COORDINATOR: Staff("demo.coordinator", "Demo Coordinator (synthetic)", Role.SITE_COORDINATOR),
    INVESTIGATOR: Staff("demo.investigator", "Demo Investigator (synthetic)", Role.INVESTIGATOR),
}
TRAINING = Training(
    "GCP and sealtrail data entry (synthetic demonstration account)", date(2011, 1, 24)
)
"""Attested as the accounts are opened: a role is in force only once trained for (11.10(i))."""
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
    """Load what is missing of the cohort, then site RP's delegations (after the records, so
    that theirs keep their log positions); returns how many events were added.

    Raises:
        DemoCohortDiverged: a subject of the cohort holds records the cohort does not have
            (written by hand, or by another version of the demonstration data).
    """
    keys = {role: _staff_key(store, staff) for role, staff in STAFF.items()}
    batches = [
        batch
        for code, records in cohort()
        for batch in _batches(code, records, _recorded(store, code, records))
    ]
    added = 0
    if progress is not None:
        progress.count_to(sum(len(batch.records) for batch in batches))
    for batch in batches:
        staff = STAFF[batch.signer]
        submissions = [
            _submission(batch.code, record, staff, keys[batch.signer], batch.version + index)
            for index, record in enumerate(batch.records)
        ]
        store.records.record_batch(RecordBatch(submissions=submissions, actor_id=staff.user_id))
        added += len(submissions)
        if progress is not None:
            progress.advance(len(submissions))
    investigator = STAFF[INVESTIGATOR]
    signatory = Signatory(investigator.user_id, investigator.printed_name, keys[INVESTIGATOR])
    added += delegate_at_rp(store, signatory, STAFF[COORDINATOR].user_id)
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


def _submission(
    code: str, record: Record, staff: Staff, private_key: Ed25519PrivateKey, version: int
) -> Submission:
    body = signed_event_body(
        {"study": STUDY, "subject": code},
        version=version,
        kind=record.kind,
        data=record.data,
        signer=(staff.user_id, staff.printed_name),
        key_id=key_id(private_key.public_key()),
    )
    _, signature = sign_body(private_key, body)
    return submission_from(body, signature)


def _recorded(store: Store, code: str, records: list[Record]) -> int:
    """How many of the subject's records are stored, after checking they are the cohort's."""
    subject = store.app.find_subject(subject_stream(STUDY, code))
    if subject is None:
        return 0
    stored = [subject.entries[version].kind for version in sorted(subject.entries)]
    expected = [record.kind for record in records[: len(stored)]]
    if stored != expected:
        raise DemoCohortDiverged(
            f"{code} holds {len(stored)} records that are not the demonstration cohort's; "
            "load the demonstration into a fresh store"
        )
    return len(stored)


def _staff_key(store: Store, staff: Staff) -> Ed25519PrivateKey:
    """The staff member's account and key, made on first run; the key is kept under
    SEALTRAIL_HOME so a later run signs with the key the account already has."""
    path = store.settings.keys_dir / "demo" / f"{staff.user_id}.pem"
    if path.exists():
        private_key = private_key_from_pem(path.read_bytes())
    else:
        private_key = generate_private_key()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_bytes(private_key_to_pem(private_key))
    public_key = public_key_to_text(private_key.public_key())
    account = store.app.find_account(staff.user_id)
    if account is None:
        # Opened by the server, the one signatory of the demonstration's administration. No
        # password: nobody signs in as a synthetic person; only this loader signs as one.
        store.administration.open_account(
            OpenAccount(
                user_id=staff.user_id,
                printed_name=staff.printed_name,
                role=staff.role,
                sites=(SITE,),
                training=TRAINING,
                public_key=public_key,
            )
        )
        return private_key
    if account.role is staff.role and account.effective_role is None:
        # Opened before roles needed a training attestation.
        store.administration.attest_training(
            AttestTraining(
                user_id=staff.user_id,
                role=staff.role,
                course=TRAINING.course,
                completed_on=TRAINING.completed_on,
            )
        )
    if key_id(private_key.public_key()) not in account.keys:
        store.administration.register_key(RegisterKey(user_id=staff.user_id, public_key=public_key))
    return private_key
