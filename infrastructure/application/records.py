"""The records service: a site's signed record, a batch of them, and an investigator's signature.

Each write loads the subject, runs the guard sequence (``guards.py``), saves, and answers with
the server's signed receipt (``receipts.py``). A retry with the same idempotency key and the
same signed body is answered with the first receipt and appends nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from domain.account import SPONSOR_ACCOUNT, Account
from domain.actions import Action
from domain.authorship import authored
from domain.database_lock import check_part_of_database_lock, check_screening_open
from domain.errors import DomainError, SignatureRefused, VersionConflict
from domain.permissions import (
    check_may_at_subject,
    check_may_write,
    check_role_may,
    check_signs_as_self,
    not_screened,
)
from domain.subject import SIGNED_IN_CEREMONY, Subject
from infrastructure.application.access import AccessControl, SigningAuthentication
from infrastructure.application.commands import RecordBatch, RecordEvent, SignRecords, Submission
from infrastructure.application.guards import (
    admit,
    check_expected_version,
    check_may_reach,
    check_unsigned,
)
from infrastructure.application.receipts import Receipt, Receipts
from infrastructure.application.sealtrail import SealTrail, stored_records
from infrastructure.errors import IdempotencyKeyReused
from infrastructure.store.event_store import KNOWN_ACCOUNTS, SUBJECT_SITES
from signatures.errors import VerificationError


class Records:
    """Writes of subjects' records: one door for each of record, batch and signature."""

    def __init__(self, app: SealTrail, receipts: Receipts, access: AccessControl) -> None:
        self.app = app
        self.receipts = receipts
        self.access = access

    def record(self, command: RecordEvent, *, actor: Account | None = None) -> Receipt:
        """Record a site's signed event and answer with the server's signed receipt.

        ``actor`` is the account of the command's ``actor_id`` if the caller has just loaded it
        (the API has, to authenticate the request); it is loaded here otherwise.

        Raises:
            NotPermitted, SubjectNotFound, SubjectAlreadyScreened, VersionConflict,
            IdempotencyKeyReused, ProtocolViolation and its kinds, VerificationError kinds.
        """
        submission = command.submission
        if actor is None:  # the actor's account and the subject, read together
            actor, subject = self.app.account_and_subject(command.actor_id, submission.stream)
        else:
            actor = self._actor(command.actor_id, actor)
            subject = self.app.find_subject(submission.stream, to_change=True)
        check_may_reach(actor, subject, submission)
        self._check_screening_open(submission)
        self._check_part_of_database_lock(subject, submission)
        if subject is not None and submission.idempotency_key is not None:
            replayed = self._replay(subject, submission)
            if replayed is not None:
                return replayed
        return self._save_one(admit(actor, subject, submission), submission, actor)

    def check_unsigned(
        self, actor: Account, stream: str, kind: str, fields: Mapping[str, Any]
    ) -> None:
        """Refuse, before the person signs it, a record of ``kind`` (its typed ``fields``) that
        :meth:`record` would refuse for who sends it, the subject and the kind's rules
        (:func:`guards.check_unsigned`), and a screening where the site's database is locked.
        Records nothing: what only the signed body shows (the signature, the key, the version
        signed) and anything changed meanwhile are checked when it is recorded.

        Raises:
            NotPermitted, SubjectNotFound, SubjectAlreadyScreened, ProtocolViolation kinds.
        """
        subject = self.app.find_subject(stream, to_change=True)
        check_unsigned(actor, subject, stream, kind, fields)
        if kind == Subject.Screened.kind():
            check_screening_open(
                self.app.find_account(SPONSOR_ACCOUNT),
                stream.split("/", 1)[0],
                str(fields.get("site")),
            )

    def record_batch(self, command: RecordBatch, *, actor: Account | None = None) -> list[Receipt]:
        """Record several signed events in one transaction: all of them or none.

        The submissions apply in order, each to its subject as the ones before it left it (a
        batch may screen a subject and record its consent). If every submission carries an
        idempotency key and all of them are already stored with the same signed bodies, the
        first receipts are answered and nothing is appended: a batch is retried whole.

        ``actor`` is as for :meth:`record`.

        Returns:
            One receipt per submission, in the order of the submissions.

        Raises:
            What :meth:`record` raises, for the first submission that fails (its message names
            its index); IdempotencyKeyReused when only some of the keys are stored.
        """
        submissions = command.submissions
        actor = self._actor(command.actor_id, actor)
        replayed = self._replay_batch(submissions)
        if replayed is not None:
            return replayed
        subjects: dict[str, Subject] = {}
        made: list[tuple[UUID, int]] = []
        for index, submission in enumerate(submissions):
            try:
                subject = subjects.get(submission.stream) or self.app.find_subject(
                    submission.stream, to_change=True
                )
                check_may_reach(actor, subject, submission)
                self._check_screening_open(submission)
                self._check_part_of_database_lock(subject, submission)
                subject = admit(actor, subject, submission)
            except (DomainError, VerificationError) as error:
                # Same type, so the same status and title; the detail says which one it was.
                error.args = (f"submission {index}: {error}",)
                raise
            subjects[submission.stream] = subject
            made.append((subject.id, subject.version))
        try:
            # One save of every aggregate touched: one put, one insert, one transaction.
            saved = self.app.save(
                *subjects.values(),
                **{
                    KNOWN_ACCOUNTS: self._known(actor, submissions),
                    SUBJECT_SITES: {s.id: s.site for s in subjects.values()},
                },
            )
        except IntegrityError:
            replayed = self._replay_batch(submissions)
            if replayed is not None:
                return replayed
            raise VersionConflict(
                "a subject of the batch was changed by another write; reload and retry"
            ) from None
        self.app.keep_saved(*subjects.values())
        stored = {
            (record.event.originator_id, record.event.originator_version): record
            for record in stored_records(saved)
        }
        receipts = [self.receipts.of(stored[key]) for key in made]
        self.receipts.seal_checkpoint_if_due(receipts)
        return receipts

    def sign(self, command: SignRecords) -> tuple[Receipt, SigningAuthentication]:
        """An electronic signature over records, with its whole ceremony (21 CFR 11.200).

        First who may sign what (so a refusal costs no attempt), then the authentication half
        (:meth:`AccessControl.authenticate_signing`), then the signed ``RecordsSigned``.

        Returns:
            The server's signed receipt and how the signer authenticated.

        Raises:
            NotPermitted, SubjectNotFound: before any password is checked.
            SigningComponentsRequired, SessionExpired, AuthenticationFailed, AccountLockedOut,
            PasswordExpired: the ceremony failed.
            And what :meth:`record_signature` raises.
        """
        self._subject_to_sign(command.submission, actor_id=command.actor_id)
        signing = self.access.authenticate_signing(
            session_id=command.session_id, password=command.password, user_id=command.user_id
        )
        receipt = self.record_signature(RecordEvent(command.submission, signing.account.user_id))
        return receipt, signing

    def record_signature(self, command: RecordEvent) -> Receipt:
        """Record the ``RecordsSigned`` (or ``CasebookSigned``) of a signer who passed the
        ceremony's authentication; :meth:`sign` is the ceremony, the one the ways in call; this
        is its last step.

        Raises:
            What :meth:`sign` raises before the ceremony; VersionConflict,
            IdempotencyKeyReused; EntryNotFound, SignatureRefused, SignedRecordChanged;
            VerificationError kinds.
        """
        submission, actor_id = command.submission, command.actor_id
        subject = self._subject_to_sign(submission, actor_id=actor_id)
        if submission.idempotency_key is not None:
            replayed = self._replay(subject, submission)
            if replayed is not None:
                return replayed
        check_expected_version(subject, submission)
        casebook = submission.kind == Subject.CasebookSigned.kind()
        sign = subject.sign_casebook if casebook else subject.sign_records
        with authored(submission.authorship, idempotency_key=submission.idempotency_key):
            sign(meaning=str(submission.body["meaning"]), **submission.fields)
        return self._save_one(subject, submission, self.app.account(actor_id))

    def _subject_to_sign(self, submission: Submission, *, actor_id: str) -> Subject:
        """The subject whose records ``actor_id`` asks to sign, once they may sign them.

        Checked before the signing ceremony asks for the password, so a person who may not
        sign here is told so without their attempt counting toward a lockout.
        """
        if submission.kind not in SIGNED_IN_CEREMONY:
            raise SignatureRefused(
                "a signature over records is a %(join)s, not a %(kind)s",
                join=" or a ".join(sorted(SIGNED_IN_CEREMONY)),
                kind=submission.kind,
            )
        actor = self.app.account(actor_id)
        check_signs_as_self(actor, submission.signer_user_id)
        check_role_may(actor, Action.SIGN_CLINICAL_RECORDS)
        subject = self.app.find_subject(submission.stream)
        if subject is None:
            raise not_screened(submission.stream)
        check_may_at_subject(actor, Action.SIGN_CLINICAL_RECORDS, subject.site, submission.stream)
        check_may_write(actor, submission.kind, subject.site, str(submission.body["study"]))
        return subject

    def _check_screening_open(self, submission: Submission) -> None:
        """A screening names its site: refused where the sponsor locked the site's database,
        or the study's (:mod:`domain.database_lock`)."""
        if submission.kind == Subject.Screened.kind():
            check_screening_open(
                self.app.find_account(SPONSOR_ACCOUNT),
                str(submission.body.get("study")),
                str(submission.fields.get("site")),
            )

    def _check_part_of_database_lock(self, subject: Subject | None, submission: Submission) -> None:
        """A subject's lock whose scope is its site or the study names a database lock the
        sponsor's account records (:func:`domain.database_lock.check_part_of_database_lock`)."""
        if subject is not None and submission.kind == Subject.SubjectLocked.kind():
            scope = submission.fields.get("scope")
            check_part_of_database_lock(
                self.app.find_account(SPONSOR_ACCOUNT),
                subject.study_id,
                subject.site,
                str(getattr(scope, "value", scope)),
            )

    def _known(self, actor: Account, submissions: Sequence[Submission]) -> dict[str, Account]:
        """The accounts a save is checked against again in its write turn: the actor's, and
        the sponsor's when a screening or a subject's lock is among the submissions (a database
        lock recorded since it was read then refuses the screening; a reopening, a lock that
        names the database's lock)."""
        known = {actor.user_id: actor}
        sponsor_asked = (Subject.Screened.kind(), Subject.SubjectLocked.kind())
        if any(s.kind in sponsor_asked for s in submissions):
            sponsor = self.app.find_account(SPONSOR_ACCOUNT)
            if sponsor is not None:
                known[SPONSOR_ACCOUNT] = sponsor
        return known

    def _actor(self, actor_id: str, loaded: Account | None) -> Account:
        if loaded is None:
            return self.app.account(actor_id)
        if loaded.user_id != actor_id:
            raise ValueError(f"the account given for {actor_id!r} is {loaded.user_id!r}'s")
        return loaded

    def _save_one(self, subject: Subject, submission: Submission, actor: Account) -> Receipt:
        """Save the one event a submission made; its signed receipt (the first one's, when a
        retry lost the race to its own first attempt)."""
        try:
            saved = self.app.save(
                subject,
                **{
                    KNOWN_ACCOUNTS: self._known(actor, [submission]),
                    SUBJECT_SITES: {subject.id: subject.site},
                },
            )
        except IntegrityError:
            return self._after_conflict(submission)
        self.app.keep_saved(subject)
        (record,) = stored_records(saved)
        receipt = self.receipts.of(record)
        self.receipts.seal_checkpoint_if_due([receipt])
        return receipt

    def _replay(self, subject: Subject, submission: Submission) -> Receipt | None:
        """The first receipt of a retry (same key, same signed body), None if not a retry."""
        assert submission.idempotency_key is not None
        version = subject.version_for_idempotency_key(submission.idempotency_key)
        if version is None:
            return None
        record = self.app.stored_record(subject.id, version)
        if record.event.authorship.signed_body != submission.authorship.signed_body:
            raise IdempotencyKeyReused(
                "Idempotency-Key %(idempotency_key)r was used for another body",
                idempotency_key=submission.idempotency_key,
            )
        return self.receipts.of(record)

    def _after_conflict(self, submission: Submission) -> Receipt:
        # A concurrent writer took the version. If it was our own retry, answer its receipt.
        subject = self.app.find_subject(submission.stream)
        if subject is not None and submission.idempotency_key is not None:
            replayed = self._replay(subject, submission)
            if replayed is not None:
                return replayed
        raise VersionConflict(
            "%(stream)s was changed by another write; reload and retry", stream=submission.stream
        )

    def _replay_batch(self, submissions: Sequence[Submission]) -> list[Receipt] | None:
        """The first receipts of a batch stored before, None if it was not; all or nothing."""
        if not submissions or any(s.idempotency_key is None for s in submissions):
            return None
        receipts: list[dict[str, Any] | None] = []
        for submission in submissions:
            subject = self.app.find_subject(submission.stream)
            receipts.append(None if subject is None else self._replay(subject, submission))
        found = [receipt for receipt in receipts if receipt is not None]
        if not found:
            return None
        if len(found) != len(receipts):
            raise IdempotencyKeyReused(
                "some of the batch's idempotency keys were used for another batch"
            )
        return found
