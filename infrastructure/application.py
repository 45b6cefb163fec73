"""The sealtrail application: eventsourcing's Application wired to the sealed event store.

This is the service layer. The API and the CLI hand it commands (a signed submission, an
account to open); it loads aggregates, calls their domain methods, saves, and answers with a
signed receipt. Storage errors become domain errors here, at the boundary.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Recording

from domain.account import SYSTEM_USER, Account, RegisteredKey, Role, account_stream
from domain.authorship import Authorship, authored
from domain.errors import (
    DomainError,
    SubjectAlreadyScreened,
    SubjectNotFound,
    UnknownRecordKind,
)
from domain.permissions import check_may_record, check_signs_as_self
from domain.protocol import protocol_for
from domain.signed import SignedAggregate, stream_id
from domain.subject import RECORDERS, Subject, subject_stream
from domain.wire import instant_to_wire, to_wire
from infrastructure.backends import log_positions, protect_tables
from infrastructure.checkpoints import CheckpointKeeper
from infrastructure.event_store import KNOWN_ACCOUNTS, SealedEventStore
from infrastructure.merkle_log import APPEND_ONLY_TABLES
from infrastructure.server_key import ServerKey
from infrastructure.settings import APPLICATION_NAME, Settings
from infrastructure.transcodings import register_domain_transcodings
from signatures.authorship import sign_body
from signatures.keys import key_id, public_key_from_text, public_key_to_text
from signatures.receipts import seal_receipt

SYSTEM_PRINTED_NAME = "sealtrail server (console administration)"
BEGINNING_OF_TIME = datetime(1970, 1, 1, tzinfo=UTC)


class VersionConflict(DomainError):
    """Another write got to this version of the subject first (answered 409)."""

    title = "Version conflict"


class IdempotencyKeyReused(DomainError):
    """A retry key was sent again with a different signed body (answered 422)."""

    title = "Idempotency-Key reused with a different request"


class AccountExists(DomainError):
    """User ids are unique and never reused (21 CFR 11.100(a), 11.300(a)); answered 409."""

    title = "Account exists"


class AccountNotFound(DomainError):
    """No account with this user id (answered 404)."""

    title = "Account not found"


@dataclass(frozen=True)
class Submission:
    """A site's signed event, parsed: what the author signed and the typed fields of ``data``."""

    authorship: Authorship
    body: dict[str, Any]
    fields: dict[str, Any]
    idempotency_key: str | None = None
    expected_version: int | None = None

    @property
    def kind(self) -> str:
        """The event kind the author signed."""
        return str(self.body["kind"])

    @property
    def stream(self) -> str:
        """The subject's stream the author addressed."""
        return subject_stream(str(self.body["study"]), str(self.body["subject"]))


@dataclass(frozen=True)
class StoredRecord:
    """One event as the store holds it, with its log position."""

    position: int
    event: SignedAggregate.Event


class SealTrail(Application[UUID]):
    """The event store of a clinical trial, every event signed and chained."""

    name = APPLICATION_NAME
    env = {"AGGREGATE_CACHE_MAXSIZE": "1000"}

    def __init__(
        self, settings: Settings, server_key: ServerKey, checkpoints: CheckpointKeeper
    ) -> None:
        self.settings = settings
        self.server_key = server_key
        self.checkpoints = checkpoints
        super().__init__(env=settings.eventsourcing_env())
        protect_tables(self.recorder, APPEND_ONLY_TABLES)

    # -- wiring -------------------------------------------------------------------------------

    def construct_event_store(self) -> SealedEventStore:
        return SealedEventStore(
            self.mapper, self.recorder, accounts=self.find_account, anchor=self.anchor
        )

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_domain_transcodings(transcoder)

    def anchor(self) -> RegisteredKey:
        """The server's key as a registered key valid for all time: the trust anchor."""
        return server_anchor(public_key_to_text(self.server_key.public_key))

    # -- accounts -------------------------------------------------------------------------------

    def find_account(self, user_id: str, *, to_change: bool = False) -> Account | None:
        """The account of ``user_id``, or None.

        Read-only lookups (authentication, attribution) share the cached aggregate; a command
        that will change the account gets its own copy, so a failed save leaves the cache alone.
        """
        try:
            account: Account = self.repository.get(
                stream_id(account_stream(user_id)), deepcopy_from_cache=to_change
            )
        except AggregateNotFoundError:
            return None
        return account

    def account(self, user_id: str, *, to_change: bool = False) -> Account:
        """The account of ``user_id``; AccountNotFound otherwise."""
        account = self.find_account(user_id, to_change=to_change)
        if account is None:
            raise AccountNotFound(f"no account {user_id!r}")
        return account

    def is_initialised(self) -> bool:
        """True once the server's own account is in the log."""
        return self.find_account(SYSTEM_USER) is not None

    def initialise(self) -> None:
        """Record the server's account and key: the first events of every store."""
        if self.is_initialised():
            return
        opened: dict[str, Any] = {
            "printed_name": SYSTEM_PRINTED_NAME,
            "role": Role.SYSTEM,
            "sites": (),
        }
        with self._as_console(SYSTEM_USER, "Opened", opened):
            system = Account.open(user_id=SYSTEM_USER, **opened)
        key: dict[str, Any] = {
            "key_id": self.server_key.key_id,
            "public_key": public_key_to_text(self.server_key.public_key),
            "valid_from": system.created_on,
        }
        with self._as_console(SYSTEM_USER, "KeyRegistered", key):
            system.register_key(**key)
        self.save(system)

    def open_account(
        self, *, user_id: str, printed_name: str, role: Role, sites: tuple[str, ...]
    ) -> Account:
        """Create an account from the server's console."""
        if self.find_account(user_id) is not None:
            raise AccountExists(f"user id {user_id!r} exists and is never reused")
        opened: dict[str, Any] = {"printed_name": printed_name, "role": role, "sites": tuple(sites)}
        with self._as_console(user_id, "Opened", opened):
            account = Account.open(user_id=user_id, **opened)
        self._save_or_raise(account, AccountExists(f"user id {user_id!r} exists"))
        return account

    def register_key(
        self, *, user_id: str, public_key: str, valid_from: datetime | None = None
    ) -> str:
        """Register a public key (base64 or PEM) for an account; returns its key id."""
        account = self.account(user_id, to_change=True)
        parsed = public_key_from_text(public_key)
        key: dict[str, Any] = {
            "key_id": key_id(parsed),
            "public_key": public_key_to_text(parsed),
            "valid_from": valid_from or datetime.now(UTC),
        }
        with self._as_console(user_id, "KeyRegistered", key):
            account.register_key(**key)
        self._save_or_raise(account, VersionConflict("the account changed meanwhile"))
        return str(key["key_id"])

    def revoke_key(
        self, *, user_id: str, key_id: str, revoked_at: datetime | None, reason: str
    ) -> None:
        """Revoke a key from a stated instant (now by default)."""
        account = self.account(user_id, to_change=True)
        revocation: dict[str, Any] = {
            "key_id": key_id,
            "revoked_at": revoked_at or datetime.now(UTC),
            "reason": reason,
        }
        with self._as_console(user_id, "KeyRevoked", revocation):
            account.revoke_key(**revocation)
        self._save_or_raise(account, VersionConflict("the account changed meanwhile"))

    def _as_console(
        self, user_id: str, kind: str, fields: dict[str, Any]
    ) -> AbstractContextManager[Authorship]:
        """Sign, as the server, a body saying exactly ``fields``; events made inside carry it."""
        body = {
            "account": user_id,
            "kind": kind,
            "data": to_wire(fields),
            "signer": {"user_id": SYSTEM_USER, "printed_name": SYSTEM_PRINTED_NAME},
            "key_id": self.server_key.key_id,
            "signed_at": instant_to_wire(datetime.now(UTC)),
            "meaning": "authorship",
        }
        signed_body, signature = sign_body(self.server_key.private_key, body)
        return authored(Authorship(signed_body, signature))

    # -- clinical records -------------------------------------------------------------------------

    def record(self, submission: Submission, *, actor_id: str) -> dict[str, Any]:
        """Record a site's signed event and answer with the server's signed receipt.

        Raises:
            NotPermitted, SubjectNotFound, SubjectAlreadyScreened, VersionConflict,
            IdempotencyKeyReused, ProtocolViolation and its kinds, VerificationError kinds.
        """
        actor = self.account(actor_id)
        check_signs_as_self(actor, str(submission.body["signer"]["user_id"]))
        subject = self.find_subject(submission.stream)
        if subject is not None and submission.idempotency_key is not None:
            replayed = self._replay(subject, submission)
            if replayed is not None:
                return replayed
        if subject is None and submission.kind != Subject.Screened.__name__:
            raise SubjectNotFound(f"{submission.stream} has not been screened")
        self._check_expected_version(subject, submission.expected_version)
        site = subject.site if subject is not None else str(submission.fields.get("site"))
        check_may_record(actor, site)
        with authored(submission.authorship, idempotency_key=submission.idempotency_key):
            subject = self._apply(subject, submission)
        try:
            recordings = self.save(subject, **{KNOWN_ACCOUNTS: {actor.user_id: actor}})
        except IntegrityError:
            return self._after_conflict(submission)
        (record,) = self.recordings_to_records(recordings)
        receipt = self._receipt(record.position, record.event)
        self.checkpoints.seal_if_due(tree_size=receipt["leaf_index"] + 1)
        return receipt

    def _apply(self, subject: Subject | None, submission: Submission) -> Subject:
        kind = submission.kind
        if kind == Subject.Screened.__name__:
            if subject is not None:
                raise SubjectAlreadyScreened(f"{submission.stream} is already screened")
            return Subject.screen(
                protocol=protocol_for(str(submission.body["study"])),
                subject_code=str(submission.body["subject"]),
                **submission.fields,
            )
        if subject is None:
            raise SubjectNotFound(f"{submission.stream} has not been screened")
        command = RECORDERS.get(kind)
        if command is None:
            raise UnknownRecordKind(f"{kind!r} is not a kind of record")
        command(subject, **submission.fields)
        return subject

    def _replay(self, subject: Subject, submission: Submission) -> dict[str, Any] | None:
        assert submission.idempotency_key is not None
        version = subject.version_for_idempotency_key(submission.idempotency_key)
        if version is None:
            return None
        record = self.stored_record(subject.id, version)
        if record.event.authorship.signed_body != submission.authorship.signed_body:
            raise IdempotencyKeyReused(
                f"Idempotency-Key {submission.idempotency_key!r} was used for another body"
            )
        return self._receipt(record.position, record.event)

    def _after_conflict(self, submission: Submission) -> dict[str, Any]:
        # A concurrent writer took the version. If it was our own retry, answer its receipt.
        subject = self.find_subject(submission.stream)
        if subject is not None and submission.idempotency_key is not None:
            replayed = self._replay(subject, submission)
            if replayed is not None:
                return replayed
        raise VersionConflict(f"{submission.stream} was changed by another write; reload and retry")

    @staticmethod
    def _check_expected_version(subject: Subject | None, expected: int | None) -> None:
        current = 0 if subject is None else subject.version
        if expected is not None and expected != current:
            raise VersionConflict(f"expected version {expected}, the subject is at {current}")

    def _save_or_raise(self, aggregate: SignedAggregate, conflict: DomainError) -> None:
        try:
            self.save(aggregate)
        except IntegrityError:
            raise conflict from None

    def _receipt(self, position: int, event: SignedAggregate.Event) -> dict[str, Any]:
        study, subject = event.stream.split("/", 1)
        return seal_receipt(
            self.server_key.private_key,
            {
                "position": position,
                "leaf_index": self._leaf_index(position),
                "study": study,
                "subject": subject,
                "version": event.originator_version,
                "kind": event.kind(),
                "event_hash": event.event_hash,
                "previous_hash": event.previous_hash,
                "server_time": instant_to_wire(event.recorded_at),
            },
        )

    def _leaf_index(self, position: int) -> int:
        assert isinstance(self.events, SealedEventStore)
        stored_here = self.events.leaf_index_stored(position)
        return stored_here if stored_here is not None else self.checkpoints.leaf_index(position)

    # -- reads ------------------------------------------------------------------------------------

    def find_subject(self, stream: str) -> Subject | None:
        """The subject of a stream (``<study>/<code>``), or None if never screened."""
        try:
            subject: Subject = self.repository.get(stream_id(stream))
        except AggregateNotFoundError:
            return None
        return subject

    def history(self, stream: str) -> list[StoredRecord]:
        """Every event of a stream, oldest first, with log positions.

        Raises:
            SubjectNotFound: the stream has no events.
        """
        originator_id = stream_id(stream)
        events = list(self.events.get(originator_id))
        if not events:
            raise SubjectNotFound(f"{stream} has no records")
        positions = log_positions(self.recorder, originator_id)
        return [
            StoredRecord(positions[event.originator_version], event)
            for event in events
            if isinstance(event, SignedAggregate.Event)
        ]

    def stored_record(self, originator_id: UUID, version: int) -> StoredRecord:
        """One stored event and its position."""
        event = next(iter(self.events.get(originator_id, gt=version - 1, lte=version)))
        assert isinstance(event, SignedAggregate.Event)
        position = log_positions(self.recorder, originator_id, [version])[version]
        return StoredRecord(position, event)

    def recordings_to_records(self, recordings: list[Recording[UUID]]) -> list[StoredRecord]:
        """Stored records from what a save returned."""
        records = []
        for recording in recordings:
            assert isinstance(recording.domain_event, SignedAggregate.Event)
            records.append(StoredRecord(recording.notification.id, recording.domain_event))
        return records


def server_anchor(public_key_text: str) -> RegisteredKey:
    """The server's public key as a key valid for all time (the verifier's trust anchor)."""
    return RegisteredKey(
        key_id=key_id(public_key_from_text(public_key_text)),
        public_key=public_key_text,
        valid_from=BEGINNING_OF_TIME,
        registered_at=BEGINNING_OF_TIME,
    )
