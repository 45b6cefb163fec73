"""The sealtrail application: eventsourcing's Application wired to the sealed event store.

This is the service layer. The API and the CLI hand it commands (a signed submission, an
account to open); it loads aggregates, calls their domain methods, saves, and answers with a
signed receipt. Storage errors become domain errors here, at the boundary.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Recording

from domain.account import (
    SYSTEM_USER,
    Account,
    AccountAlreadyLocked,
    KeyEndPassed,
    RegisteredKey,
    Role,
    account_stream,
    check_user_id,
    next_whole_second,
    server_anchor,
)
from domain.attribution import check_meaning
from domain.authorship import Authorship, authored
from domain.errors import (
    DomainError,
    SignatureRefused,
    SubjectAlreadyScreened,
    SubjectNotFound,
    UnknownRecordKind,
    VersionConflict,
)
from domain.permissions import (
    Action,
    check_key_custody,
    check_may_administer,
    check_may_at_subject,
    check_may_sign,
    check_may_submit,
    check_role_may,
    check_signs_as_self,
    not_screened,
    submit_action,
)
from domain.protocol import protocol_for
from domain.signed import SignedAggregate, check_signed_version, stream_id
from domain.subject import RECORDERS, Subject, subject_stream
from domain.wire import instant_to_wire, to_wire
from infrastructure.identity.server_key import ServerKey
from infrastructure.settings import APPLICATION_NAME, Settings
from infrastructure.store.backends import protect_tables
from infrastructure.store.checkpoints import CheckpointKeeper
from infrastructure.store.event_store import KNOWN_ACCOUNTS, SealedEventStore
from infrastructure.store.merkle_log import APPEND_ONLY_TABLES
from infrastructure.store.positions import log_positions
from infrastructure.store.transcodings import register_domain_transcodings
from signatures.authorship import sign_body
from signatures.errors import VerificationError
from signatures.keys import key_id, public_key_from_text, public_key_to_text
from signatures.receipts import seal_receipt

SYSTEM_PRINTED_NAME = "sealtrail server (console administration)"

END_KEY_ATTEMPTS = 3
"""Tries of a rotation or revocation "now" whose second passed before its write turn came."""


class IdempotencyKeyReused(DomainError):
    """A retry key was sent again with a different signed body (answered 422)."""

    title = "Idempotency-Key reused with a different request"


class SigningCeremonyRequired(DomainError):
    """A signature over records sent as an ordinary event: it is made through the signing
    ceremony, ``POST /v1/signatures`` with the password re-entered (answered 422)."""

    title = "Signing ceremony required"


class AccountExists(DomainError):
    """User ids are unique and never reused (21 CFR 11.100(a), 11.300(a)); answered 409."""

    title = "Account exists"


class AccountNotFound(DomainError):
    """No account with this user id (answered 404)."""

    title = "Account not found"


class AdministrationMalformed(DomainError):
    """A request of account events that cannot be one atomic change (answered 422)."""

    title = "Account change malformed"


class KeyIdMismatch(DomainError):
    """A signed key event whose key id is not that of its public key, or whose public key is
    not written as base64 of the raw 32 bytes (answered 422)."""

    title = "Key id does not match the key"


@dataclass(frozen=True)
class Signatory:
    """A person who signs account administration with their own key (``--as``, ``--key``)."""

    user_id: str
    printed_name: str
    private_key: Ed25519PrivateKey


@dataclass(frozen=True)
class AccountAction:
    """One signed change of an account: the body as signed, and the typed fields of ``data``."""

    authorship: Authorship
    body: dict[str, Any]
    fields: dict[str, Any]

    @property
    def kind(self) -> str:
        """The account event's kind (``RoleGranted``...)."""
        return str(self.body["kind"])

    @property
    def user_id(self) -> str:
        """The account changed."""
        return str(self.body["account"])

    @property
    def signer_user_id(self) -> str:
        """Who signed the change."""
        return str(self.body["signer"]["user_id"])


def account_body(
    *,
    user_id: str,
    kind: str,
    data: dict[str, Any],
    signer_id: str,
    printed_name: str,
    signer_key_id: str,
    version: int,
    signed_at: datetime | None = None,
) -> dict[str, Any]:
    """The body an administrator signs for one change of an account (docs/signing.md).

    ``version`` is the version of the account's stream the change takes (1 for its opening).
    """
    return {
        "account": user_id,
        "version": version,
        "kind": kind,
        "data": data,
        "signer": {"user_id": signer_id, "printed_name": printed_name},
        "key_id": signer_key_id,
        "signed_at": instant_to_wire(signed_at or datetime.now(UTC)),
        "meaning": "authorship",
    }


ACCOUNT_COMMANDS: dict[str, Callable[..., None]] = {
    Account.RoleGranted.__name__: Account.grant_role,
    Account.RoleRevoked.__name__: Account.revoke_role,
    Account.SiteAssigned.__name__: Account.assign_site,
    Account.SiteUnassigned.__name__: Account.unassign_site,
    Account.TrainingAttested.__name__: Account.attest_training,
    Account.KeyRegistered.__name__: Account.register_key,
    Account.KeyRotated.__name__: Account.rotate_key,
    Account.KeyRevoked.__name__: Account.revoke_key,
    Account.PasswordChanged.__name__: Account.change_password,
    Account.AccountLocked.__name__: Account.lock,
    Account.AccountUnlocked.__name__: Account.unlock,
}
"""The domain method behind each kind of account change but the opening."""


def _check_key_fields(fields: dict[str, Any]) -> None:
    """A key event's key id is that of its key, and the key is in its one spelling."""
    if "public_key" not in fields:
        return
    parsed = public_key_from_text(str(fields["public_key"]))
    if public_key_to_text(parsed) != fields["public_key"]:
        raise KeyIdMismatch("public_key is written as base64 of the raw 32-byte key")
    if key_id(parsed) != fields["key_id"]:
        raise KeyIdMismatch(f"{fields['key_id']} is not the id of this key ({key_id(parsed)})")


@dataclass(frozen=True)
class Training:
    """Training for a role, attested as the account is opened (21 CFR 11.10(i))."""

    course: str
    completed_on: date


def _key_fields(public_key: str, valid_from: datetime) -> dict[str, Any]:
    parsed = public_key_from_text(public_key)
    return {
        "key_id": key_id(parsed),
        "public_key": public_key_to_text(parsed),
        "valid_from": _whole_seconds(valid_from),
    }


def _whole_seconds(moment: datetime) -> datetime:
    # What is stored is exactly what was signed: instants are signed to the second.
    return moment.astimezone(UTC).replace(microsecond=0)


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
        self._anchor = server_anchor(public_key_to_text(server_key.public_key))
        super().__init__(env=settings.eventsourcing_env())
        protect_tables(self.recorder, APPEND_ONLY_TABLES)

    # -- wiring -------------------------------------------------------------------------------

    def construct_event_store(self) -> SealedEventStore:
        return SealedEventStore(
            self.mapper,
            self.recorder,
            accounts=self.find_account,
            anchor=self.anchor,
            signing_window=timedelta(seconds=self.settings.signing_window_seconds),
        )

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_domain_transcodings(transcoder)

    def anchor(self) -> RegisteredKey:
        """The server's key as a registered key valid for all time: the trust anchor."""
        return self._anchor

    # -- accounts -------------------------------------------------------------------------------
    #
    # Every change of an account is a signed event. An administrator's change is signed with
    # the administrator's own key (``by``, on the console; a signed request, on the API, through
    # ``administer``); only the server's own acts are signed by the server: initialisation, the
    # demonstration cohort's staff, a lockout after failed attempts, and a person's own password
    # change, which the person proved with their current password.

    def find_account(self, user_id: str, *, to_change: bool = False) -> Account | None:
        """The account of ``user_id``, or None.

        Read-only lookups (authentication, attribution) share the cached aggregate; a command
        that will change the account gets its own copy, so a failed save leaves the cache alone.
        """
        try:
            account: Account = self.repository.get(
                stream_id(account_stream(user_id)),
                projector_func=fold,
                deepcopy_from_cache=to_change,
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

    def accounts(self) -> list[Account]:
        """Every account, the server's included, in the order they were opened."""
        opened = self.recorder.select_notifications(
            1, 1_000_000, topics=(f"{Account.Opened.__module__}:{Account.Opened.__qualname__}",)
        )
        found = []
        for notification in opened:
            account: Account = self.repository.get(UUID(str(notification.originator_id)))
            found.append(account)
        return found

    def account_history(self, user_id: str) -> list[StoredRecord]:
        """Every event of an account, oldest first: who had which access when, and who said so.

        Raises:
            AccountNotFound: no such account.
        """
        self.account(user_id)
        return self.history(account_stream(user_id))

    def is_initialised(self) -> bool:
        """True once the server's own account is in the log."""
        return self.find_account(SYSTEM_USER) is not None

    def initialise(self) -> None:
        """Record the server's account, role and key: the first events of every store."""
        if self.is_initialised():
            return
        acts: list[tuple[str, dict[str, Any]]] = [
            ("Opened", {"printed_name": SYSTEM_PRINTED_NAME}),
            ("RoleGranted", {"role": Role.SYSTEM}),
            (
                "KeyRegistered",
                {
                    "key_id": self.server_key.key_id,
                    "public_key": public_key_to_text(self.server_key.public_key),
                    "valid_from": _whole_seconds(datetime.now(UTC)),
                },
            ),
        ]
        # The one administration nobody else can sign: the anchor's own account.
        self._apply_account_actions(self._sign_actions(SYSTEM_USER, acts, None), actor=None)

    def open_account(
        self,
        *,
        user_id: str,
        printed_name: str,
        role: Role | None = None,
        sites: Sequence[str] = (),
        training: Training | None = None,
        public_key: str | None = None,
        issue_one_time_password: bool = False,
        by: Signatory | None = None,
    ) -> Account:
        """Create an account, with whatever of its access is given, in one atomic save.

        The role takes effect once training for it is attested: here (``training``) or later
        (:meth:`attest_training`). ``issue_one_time_password`` records the ``PasswordChanged``
        that stands for the one-time password the caller then sets. ``by`` signs it all;
        without one, the server does (initialisation and the demonstration cohort).
        """
        acts: list[tuple[str, dict[str, Any]]] = [("Opened", {"printed_name": printed_name})]
        if role is not None:
            acts.append(("RoleGranted", {"role": role}))
        acts += [("SiteAssigned", {"site": site}) for site in sites]
        if training is not None:
            if role is None:
                raise AdministrationMalformed("training is attested for a role: grant one")
            attested = {"role": role, "course": training.course}
            acts.append(("TrainingAttested", {**attested, "completed_on": training.completed_on}))
        if public_key is not None:
            acts.append(("KeyRegistered", _key_fields(public_key, datetime.now(UTC))))
        if issue_one_time_password:
            signer = by.user_id if by is not None else SYSTEM_USER
            acts.append(("PasswordChanged", {"changed_by": signer, "temporary": True}))
        self._act(user_id, acts, by)
        return self.account(user_id)

    def grant_role(self, *, user_id: str, role: Role, by: Signatory | None = None) -> None:
        """Grant a role (in force once trained for)."""
        self._act(user_id, [("RoleGranted", {"role": role})], by)

    def revoke_role(
        self, *, user_id: str, role: Role, reason: str, by: Signatory | None = None
    ) -> None:
        """Take a role away."""
        self._act(user_id, [("RoleRevoked", {"role": role, "reason": reason})], by)

    def assign_site(self, *, user_id: str, site: str, by: Signatory | None = None) -> None:
        """Let a person act for a site."""
        self._act(user_id, [("SiteAssigned", {"site": site})], by)

    def unassign_site(
        self, *, user_id: str, site: str, reason: str, by: Signatory | None = None
    ) -> None:
        """Stop a person acting for a site."""
        self._act(user_id, [("SiteUnassigned", {"site": site, "reason": reason})], by)

    def attest_training(
        self,
        *,
        user_id: str,
        role: Role,
        course: str,
        completed_on: date,
        by: Signatory | None = None,
    ) -> None:
        """Record that a person completed training for a role (21 CFR 11.10(i))."""
        fields = {"role": role, "course": course, "completed_on": completed_on}
        self._act(user_id, [("TrainingAttested", fields)], by)

    def register_key(
        self,
        *,
        user_id: str,
        public_key: str,
        valid_from: datetime | None = None,
        by: Signatory | None = None,
    ) -> str:
        """Register a public key (base64 or PEM) for an account; returns its key id."""
        fields = _key_fields(public_key, valid_from or datetime.now(UTC))
        self._act(user_id, [("KeyRegistered", fields)], by)
        return str(fields["key_id"])

    def rotate_key(
        self,
        *,
        user_id: str,
        old_key_id: str,
        public_key: str,
        rotated_at: datetime | None = None,
        by: Signatory | None = None,
    ) -> str:
        """Replace a key by another from a stated instant; returns the new key's id.

        Without an instant, the next whole second (:func:`next_whole_second`); a stated
        instant already past is recorded as retroactive.
        """
        parsed = public_key_from_text(public_key)
        fields = {
            "old_key_id": old_key_id,
            "key_id": key_id(parsed),
            "public_key": public_key_to_text(parsed),
        }
        self._end_key(user_id, "KeyRotated", fields, "rotated_at", rotated_at, by)
        return str(fields["key_id"])

    def revoke_key(
        self,
        *,
        user_id: str,
        key_id: str,
        revoked_at: datetime | None,
        reason: str,
        by: Signatory | None = None,
    ) -> None:
        """Revoke a key from a stated instant, as :meth:`rotate_key` takes it (now by default)."""
        fields = {"key_id": key_id, "reason": reason}
        self._end_key(user_id, "KeyRevoked", fields, "revoked_at", revoked_at, by)

    def _end_key(
        self,
        user_id: str,
        kind: str,
        fields: dict[str, Any],
        end_field: str,
        stated: datetime | None,
        by: Signatory | None,
    ) -> None:
        """Record a rotation or revocation with the boundary rule of docs/signing.md."""
        for attempt in range(1, END_KEY_ATTEMPTS + 1):
            now = datetime.now(UTC)
            ends: dict[str, Any]
            if stated is None:
                ends = {end_field: next_whole_second(now)}
            else:
                end = _whole_seconds(stated)
                ends = {end_field: end, **({"retroactive": True} if end < now else {})}
            try:
                self._act(user_id, [(kind, {**fields, **ends})], by)
                return
            except KeyEndPassed:
                # "Now" became the past while the change waited for its write turn (a loaded
                # store): sign the next second instead. A stated instant is the person's own.
                if stated is not None or attempt == END_KEY_ATTEMPTS:
                    raise

    def lock_account(
        self,
        *,
        user_id: str,
        reason: str,
        failed_attempts: int = 0,
        by: Signatory | None = None,
    ) -> None:
        """Lock an account; without ``by``, the server records a lockout it observed."""
        fields = {"reason": reason, "failed_attempts": failed_attempts}
        try:
            self._act(user_id, [("AccountLocked", fields)], by)
        except (AccountAlreadyLocked, VersionConflict):
            if by is not None or not self.account(user_id).locked:
                raise
            # Two failures crossed the threshold at once: the other one recorded the lockout.

    def unlock_account(self, *, user_id: str, reason: str, by: Signatory | None = None) -> None:
        """Unlock an account; the failures before this no longer count toward a lockout."""
        self._act(user_id, [("AccountUnlocked", {"reason": reason})], by)

    def record_password_change(
        self, user_id: str, *, changed_by: str, temporary: bool, by: Signatory | None = None
    ) -> None:
        """Record that a password was changed (by the person, or reset by an administrator)."""
        fields = {"changed_by": changed_by, "temporary": temporary}
        self._act(user_id, [("PasswordChanged", fields)], by)

    def administer(self, actions: Sequence[AccountAction], *, actor_id: str) -> list[StoredRecord]:
        """Record administrative acts an administrator signed, on one account, atomically.

        Raises:
            AdministrationMalformed: no acts, or acts on more than one account.
            NotPermitted: the actor is not an administrator in force, did not sign every act,
                or grants themselves access.
            AccountExists, AccountNotFound, KeyIdMismatch, the account's rule errors,
            VerificationError kinds (a signature, key or body that does not check out).
        """
        if not actions:
            raise AdministrationMalformed("send at least one signed account event")
        user_ids = {action.user_id for action in actions}
        if len(user_ids) != 1:
            raise AdministrationMalformed(
                "one request changes one account, not " + ", ".join(sorted(user_ids))
            )
        actor = self.account(actor_id)
        for action in actions:
            check_signs_as_self(actor, action.signer_user_id)
            check_may_administer(actor, action.user_id, action.kind)
        return self._apply_account_actions(actions, actor=actor)

    def _act(
        self, user_id: str, acts: list[tuple[str, dict[str, Any]]], by: Signatory | None
    ) -> list[StoredRecord]:
        actions = self._sign_actions(user_id, acts, by)
        return self.administer(actions, actor_id=by.user_id if by else SYSTEM_USER)

    def _sign_actions(
        self, user_id: str, acts: list[tuple[str, dict[str, Any]]], by: Signatory | None
    ) -> list[AccountAction]:
        """Sign one body per act, each saying exactly its fields and the version of the
        account's stream it takes (docs/signing.md's form)."""
        if by is None:
            signer = (SYSTEM_USER, SYSTEM_PRINTED_NAME, self.server_key.private_key)
        else:
            signer = (by.user_id, by.printed_name, by.private_key)
        signer_id, printed_name, private_key = signer
        account = self.find_account(user_id)
        version = 0 if account is None else account.version
        actions = []
        for kind, fields in acts:
            version += 1
            body = account_body(
                user_id=user_id,
                kind=kind,
                data=to_wire(fields),
                signer_id=signer_id,
                printed_name=printed_name,
                signer_key_id=key_id(private_key.public_key()),
                version=version,
            )
            signed_body, signature = sign_body(private_key, body)
            actions.append(AccountAction(Authorship(signed_body, signature), body, fields))
        return actions

    def _apply_account_actions(
        self, actions: Sequence[AccountAction], *, actor: Account | None
    ) -> list[StoredRecord]:
        user_id = actions[0].user_id
        account = self.find_account(user_id, to_change=True)
        opening = account is None
        for action in actions:
            with authored(action.authorship):
                if action.kind == Account.Opened.__name__:
                    if account is not None:
                        raise AccountExists(f"user id {user_id!r} exists and is never reused")
                    check_user_id(user_id)
                    account = Account.open(user_id=user_id, **action.fields)
                    continue
                if account is None:
                    raise AccountNotFound(f"no account {user_id!r}")
                _check_key_fields(action.fields)
                check_key_custody(
                    account, user_id, action.kind, action.signer_user_id, self.find_account
                )
                command = ACCOUNT_COMMANDS.get(action.kind)
                if command is None:
                    raise AdministrationMalformed(f"{action.kind!r} is not an account event")
                command(account, **action.fields)
        assert account is not None
        known = {actor.user_id: actor} if actor is not None else {}
        try:
            recordings = self.save(account, **{KNOWN_ACCOUNTS: known})
        except IntegrityError:
            if opening:
                raise AccountExists(f"user id {user_id!r} exists and is never reused") from None
            raise VersionConflict(f"{user_id} changed meanwhile; reload and retry") from None
        return self.recordings_to_records(recordings)

    def account_receipt(self, record: StoredRecord) -> dict[str, Any]:
        """The server's signed receipt for a recorded account event."""
        return seal_receipt(
            self.server_key.private_key,
            {
                "position": record.position,
                "leaf_index": self._leaf_index(record.position),
                "account": record.event.stream.split("/", 1)[1],
                "version": record.event.originator_version,
                "kind": record.event.kind(),
                "event_hash": record.event.event_hash,
                "previous_hash": record.event.previous_hash,
                "server_time": instant_to_wire(record.event.recorded_at),
            },
            server_key_id=self.server_key.key_id,
        )

    # -- clinical records -------------------------------------------------------------------------

    def record(
        self, submission: Submission, *, actor_id: str, actor: Account | None = None
    ) -> dict[str, Any]:
        """Record a site's signed event and answer with the server's signed receipt.

        ``actor`` is the account of ``actor_id`` if the caller has just loaded it (the API
        has, to authenticate the request); it is loaded here otherwise.

        Raises:
            NotPermitted, SubjectNotFound, SubjectAlreadyScreened, VersionConflict,
            IdempotencyKeyReused, ProtocolViolation and its kinds, VerificationError kinds.
        """
        actor = self._actor(actor_id, actor)
        check_signs_as_self(actor, str(submission.body["signer"]["user_id"]))
        subject = self.find_subject(submission.stream, to_change=True)
        self._check_may_see(actor, subject, submission)
        if subject is not None and submission.idempotency_key is not None:
            replayed = self._replay(subject, submission)
            if replayed is not None:
                return replayed
        if subject is None and submission.kind != Subject.Screened.__name__:
            raise not_screened(submission.stream)
        self._check_expected_version(subject, submission)
        check_may_submit(actor, submission.kind, _site_of(subject, submission))
        with authored(submission.authorship, idempotency_key=submission.idempotency_key):
            subject = self._apply(subject, submission)
        return self._save_one(subject, submission, actor)

    def _save_one(self, subject: Subject, submission: Submission, actor: Account) -> dict[str, Any]:
        """Save the one event a submission made; its signed receipt (the first one's, when a
        retry lost the race to its own first attempt)."""
        try:
            recordings = self.save(subject, **{KNOWN_ACCOUNTS: {actor.user_id: actor}})
        except IntegrityError:
            return self._after_conflict(submission)
        (record,) = self.recordings_to_records(recordings)
        receipt = self._receipt(record.position, record.event)
        self.checkpoints.seal_if_due(tree_size=receipt["leaf_index"] + 1)
        return receipt

    @staticmethod
    def _check_may_see(actor: Account, subject: Subject | None, submission: Submission) -> None:
        """The role first (403, saying nothing of the subject); then another site's subject
        answers as one that does not exist (404, the same detail).

        A screening names its own site and is checked against it (a code already taken at
        another site is then 409 already screened, naming no site: codes are unique in a study).
        """
        action = submit_action(submission.kind)
        check_role_may(actor, action)
        if subject is not None and submission.kind != Subject.Screened.__name__:
            check_may_at_subject(actor, action, subject.site, submission.stream)

    def _actor(self, actor_id: str, loaded: Account | None) -> Account:
        if loaded is None:
            return self.account(actor_id)
        if loaded.user_id != actor_id:
            raise ValueError(f"the account given for {actor_id!r} is {loaded.user_id!r}'s")
        return loaded

    def _apply(self, subject: Subject | None, submission: Submission) -> Subject:
        kind = submission.kind
        # Before the command: its refusal would otherwise hide that this is no entry's meaning.
        check_meaning(str(submission.body["meaning"]), kind)
        if kind == Subject.Screened.__name__:
            if subject is not None:
                raise SubjectAlreadyScreened(f"{submission.stream} is already screened")
            return Subject.screen(
                protocol=protocol_for(str(submission.body["study"])),
                subject_code=str(submission.body["subject"]),
                **submission.fields,
            )
        if subject is None:
            raise not_screened(submission.stream)
        if kind == Subject.RecordsSigned.kind():
            raise SigningCeremonyRequired(
                "records are signed through POST /v1/signatures (or 'sealtrail sign'), "
                "with your password re-entered (21 CFR 11.200)"
            )
        command = RECORDERS.get(kind)
        if command is None:
            raise UnknownRecordKind(f"{kind!r} is not a kind of record")
        command(subject, **submission.fields)
        return subject

    # -- electronic signatures (21 CFR 11.50, 11.70) ---------------------------------------------

    def subject_to_sign(self, submission: Submission, *, actor_id: str) -> Subject:
        """The subject whose records ``actor_id`` asks to sign, once they may sign them.

        Checked before the signing ceremony asks for the password, so a person who may not
        sign here is told so without their attempt counting toward a lockout.

        Raises:
            SignatureRefused: the submission is not a ``RecordsSigned``.
            NotPermitted: not signed by the actor, or the actor is not an investigator (in
                force) of the subject's site.
            SubjectNotFound: no such subject.
        """
        if submission.kind != Subject.RecordsSigned.kind():
            raise SignatureRefused(
                f"a signature over records is a RecordsSigned, not a {submission.kind}"
            )
        actor = self.account(actor_id)
        check_signs_as_self(actor, str(submission.body["signer"]["user_id"]))
        check_role_may(actor, Action.SIGN_CLINICAL_RECORDS)
        subject = self.find_subject(submission.stream)
        if subject is None:
            raise not_screened(submission.stream)
        check_may_at_subject(actor, Action.SIGN_CLINICAL_RECORDS, subject.site, submission.stream)
        check_may_sign(actor, subject.site)
        return subject

    def sign_records(self, submission: Submission, *, actor_id: str) -> dict[str, Any]:
        """Record an investigator's signature over records; answer with the signed receipt.

        The caller has run the signing ceremony (:meth:`AccessControl.sign_records`).

        Raises:
            What :meth:`subject_to_sign` raises; VersionConflict, IdempotencyKeyReused;
            EntryNotFound, SignatureRefused, SignedRecordChanged; VerificationError kinds.
        """
        subject = self.subject_to_sign(submission, actor_id=actor_id)
        if submission.idempotency_key is not None:
            replayed = self._replay(subject, submission)
            if replayed is not None:
                return replayed
        self._check_expected_version(subject, submission)
        with authored(submission.authorship, idempotency_key=submission.idempotency_key):
            subject.sign_records(meaning=str(submission.body["meaning"]), **submission.fields)
        return self._save_one(subject, submission, self.account(actor_id))

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
    def _check_expected_version(subject: Subject | None, submission: Submission) -> None:
        """``If-Match`` (the version the author saw) and the version the author signed (the one
        the event takes) against the subject now: a stale one is a conflict, checked before any
        rule of the event's kind. The event store checks the signed version again as it stores.
        """
        current = 0 if subject is None else subject.version
        expected = submission.expected_version
        if expected is not None and expected != current:
            raise VersionConflict(f"expected version {expected}, the subject is at {current}")
        check_signed_version(submission.body, current + 1)

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
            server_key_id=self.server_key.key_id,
        )

    def _leaf_index(self, position: int) -> int:
        assert isinstance(self.events, SealedEventStore)
        stored_here = self.events.leaf_index_stored(position)
        return stored_here if stored_here is not None else self.checkpoints.leaf_index(position)

    # -- reads ------------------------------------------------------------------------------------

    def find_subject(self, stream: str, *, to_change: bool = False) -> Subject | None:
        """The subject of a stream (``<study>/<code>``), or None if never screened.

        A reader gets a deep copy of the cached subject. A command (``to_change``) gets
        :meth:`Subject.copy_for_command`'s copy, which costs the length of its record in
        pointers rather than in objects: what the command changes, the cached subject and a
        refused save never see.
        """
        try:
            subject: Subject = self.repository.get(
                stream_id(stream), projector_func=fold, deepcopy_from_cache=not to_change
            )
        except AggregateNotFoundError:
            return None
        return subject.copy_for_command() if to_change else subject

    def subject_at(self, originator_id: UUID, version: int) -> Subject:
        """A subject as it stood at a version: a fresh copy, rebuilt from its events."""
        subject: Subject = self.repository.get(originator_id, version=version)
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

    # -- batches ----------------------------------------------------------------------------------

    def record_batch(
        self, submissions: Sequence[Submission], *, actor_id: str, actor: Account | None = None
    ) -> list[dict[str, Any]]:
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
        actor = self._actor(actor_id, actor)
        replayed = self._replay_batch(submissions)
        if replayed is not None:
            return replayed
        subjects: dict[str, Subject] = {}
        made: list[tuple[UUID, int]] = []
        for index, submission in enumerate(submissions):
            try:
                check_signs_as_self(actor, str(submission.body["signer"]["user_id"]))
                subject = subjects.get(submission.stream) or self.find_subject(
                    submission.stream, to_change=True
                )
                self._check_may_see(actor, subject, submission)
                if subject is None and submission.kind != Subject.Screened.__name__:
                    raise not_screened(submission.stream)
                self._check_expected_version(subject, submission)
                check_may_submit(actor, submission.kind, _site_of(subject, submission))
                with authored(submission.authorship, idempotency_key=submission.idempotency_key):
                    subject = self._apply(subject, submission)
            except (DomainError, VerificationError) as error:
                # Same type, so the same status and title; the detail says which one it was.
                error.args = (f"submission {index}: {error}",)
                raise
            subjects[submission.stream] = subject
            made.append((subject.id, subject.version))
        try:
            # One save of every aggregate touched: one put, one insert, one transaction.
            recordings = self.save(*subjects.values(), **{KNOWN_ACCOUNTS: {actor.user_id: actor}})
        except IntegrityError:
            replayed = self._replay_batch(submissions)
            if replayed is not None:
                return replayed
            raise VersionConflict(
                "a subject of the batch was changed by another write; reload and retry"
            ) from None
        stored = {
            (record.event.originator_id, record.event.originator_version): record
            for record in self.recordings_to_records(recordings)
        }
        receipts = [self._receipt(stored[key].position, stored[key].event) for key in made]
        self.checkpoints.seal_if_due(tree_size=max(r["leaf_index"] for r in receipts) + 1)
        return receipts

    def _replay_batch(self, submissions: Sequence[Submission]) -> list[dict[str, Any]] | None:
        """The first receipts of a batch stored before, None if it was not; all or nothing."""
        if not submissions or any(s.idempotency_key is None for s in submissions):
            return None
        receipts: list[dict[str, Any] | None] = []
        for submission in submissions:
            subject = self.find_subject(submission.stream)
            receipts.append(None if subject is None else self._replay(subject, submission))
        found = [receipt for receipt in receipts if receipt is not None]
        if not found:
            return None
        if len(found) != len(receipts):
            raise IdempotencyKeyReused(
                "some of the batch's idempotency keys were used for another batch"
            )
        return found


def fold(aggregate: Any, events: Iterable[Any]) -> Any:
    """Apply stored events to an aggregate (or create it from the first), in order.

    What eventsourcing's ``project_aggregate`` does, without its per-event ``isinstance``
    check against a runtime Protocol, which costs more than applying the event; every event
    of this store is a :class:`SignedAggregate.Event`, whose ``mutate`` is the fold step.
    """
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


def _site_of(subject: Subject | None, submission: Submission) -> str:
    """The site a submission acts at: its subject's, or for a screening the site it names."""
    if subject is None or submission.kind == Subject.Screened.__name__:
        return str(submission.fields.get("site"))
    return subject.site
