"""Signed changes of accounts: the body an administrator signs, and applying a signed change.

Every change of an account is a signed event. An administrator's change is signed with the
administrator's own key (a :class:`Signatory` on the console, a signed request on the API);
only the server's own acts are signed by the server: initialisation, the demonstration
cohort's staff, a lockout after failed attempts, and a person's own password change, which
the person proved with their current password.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from eventsourcing.persistence import IntegrityError

from domain.access_review import check_seen_as_held
from domain.account import SYSTEM_USER, Account, check_user_id
from domain.authorship import Authorship, authored
from domain.errors import SiteCopyReceiptInvalid, VersionConflict
from domain.permissions import check_key_custody, check_may_change_account, check_signs_as_self
from domain.wire import to_wire
from infrastructure.application.bodies import signed_event_body
from infrastructure.application.commands import AccountAction, Signatory
from infrastructure.application.sealtrail import SealTrail, StoredRecord, stored_records
from infrastructure.errors import (
    AccountExists,
    AccountNotFound,
    AdministrationMalformed,
    KeyIdMismatch,
)
from infrastructure.store.checkpoints import encode_hash
from infrastructure.store.event_store import KNOWN_ACCOUNTS
from signatures.authorship import sign_body
from signatures.keys import key_id, public_key_from_text, public_key_to_text

SYSTEM_PRINTED_NAME = "sealtrail server (console administration)"

Act = tuple[str, dict[str, Any]]
"""One change to sign: the account event's kind and its typed fields."""

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
    Account.TasksDelegated.__name__: Account.delegate_tasks,
    Account.DelegationEnded.__name__: Account.end_delegation,
    Account.AccessReviewed.__name__: Account.review_access,
    Account.AuditTrailReviewed.__name__: Account.review_audit_trail,
    Account.SiteCopyReceived.__name__: Account.receive_site_copy,
    Account.DatabaseLocked.__name__: Account.lock_database,
    Account.DatabaseReopened.__name__: Account.reopen_database,
}
"""The domain method behind each kind of account change but the opening."""


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
    return signed_event_body(
        {"account": user_id},
        version=version,
        kind=kind,
        data=data,
        signer=(signer_id, printed_name),
        key_id=signer_key_id,
        signed_at=signed_at,
    )


def key_fields(public_key: str, valid_from: datetime) -> dict[str, Any]:
    """A ``KeyRegistered``'s fields for a public key (base64 or PEM)."""
    parsed = public_key_from_text(public_key)
    return {
        "key_id": key_id(parsed),
        "public_key": public_key_to_text(parsed),
        "valid_from": whole_seconds(valid_from),
    }


def whole_seconds(moment: datetime) -> datetime:
    """An instant as it is signed: in UTC, to the second."""
    # What is stored is exactly what was signed: instants are signed to the second.
    return moment.astimezone(UTC).replace(microsecond=0)


class AccountChanges:
    """Signs and applies changes of one account at a time, each change atomic."""

    def __init__(self, app: SealTrail) -> None:
        self.app = app

    def act(self, user_id: str, acts: list[Act], by: Signatory | None) -> list[StoredRecord]:
        """Sign ``acts`` as ``by`` (the server without one) and administer them."""
        actions = self.sign(user_id, acts, by)
        return self.administer(actions, actor_id=by.user_id if by else SYSTEM_USER)

    def administer(self, actions: Sequence[AccountAction], *, actor_id: str) -> list[StoredRecord]:
        """Record acts signed on one account, atomically: administration by an administrator,
        and the kinds :data:`domain.permissions.ACCOUNT_CHANGE_CHECKS` names by whom they name
        (a delegation by the site's principal investigator, an access review by its reviewer).

        Raises:
            AdministrationMalformed: no acts, or acts on more than one account.
            NotPermitted: the actor did not sign every act, may not sign its kind (not an
                administrator in force, for administration), or grants themselves access.
            AccountExists, AccountNotFound, KeyIdMismatch, the account's rule errors,
            VerificationError kinds (a signature, key or body that does not check out).
        """
        if not actions:
            raise AdministrationMalformed("send at least one signed account event")
        user_ids = {action.user_id for action in actions}
        if len(user_ids) != 1:
            raise AdministrationMalformed(
                "one request changes one account, not %(accounts)s",
                accounts=", ".join(sorted(user_ids)),
            )
        actor = self.app.account(actor_id)
        for action in actions:
            check_signs_as_self(actor, action.signer_user_id)
            check_may_change_account(actor, action.user_id, action.kind, action.fields)
            if action.kind == Account.SiteCopyReceived.__name__:
                self._check_sealed_here(action.fields)
        return self.apply(actions, actor=actor)

    def _check_sealed_here(self, fields: dict[str, Any]) -> None:
        """A site copy's receipt names a checkpoint this store sealed: its size and root.

        A copy verified offline proves only that it agrees with itself; a copy of another log
        (or none) would otherwise be recorded as received from this one.

        Raises:
            SiteCopyReceiptInvalid: no checkpoint of that size and root was sealed here.
        """
        size, root = fields.get("tree_size"), fields.get("root")
        sealed = self.app.checkpoints.at_size(size) if isinstance(size, int) else None
        if sealed is None or encode_hash(sealed.root) != root:
            raise SiteCopyReceiptInvalid(
                "no checkpoint of tree size %(size)s and root %(root)s was sealed by "
                "this store: a receipt is of a copy built here",
                size=size,
                root=root,
            )

    def sign(self, user_id: str, acts: list[Act], by: Signatory | None) -> list[AccountAction]:
        """Sign one body per act, each saying exactly its fields and the version of the
        account's stream it takes (docs/signing.md's form)."""
        if by is None:
            server_key = self.app.server_key.private_key
            signer = (SYSTEM_USER, SYSTEM_PRINTED_NAME, server_key)
        else:
            signer = (by.user_id, by.printed_name, by.private_key)
        signer_id, printed_name, private_key = signer
        account = self.app.find_account(user_id)
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

    def apply(
        self, actions: Sequence[AccountAction], *, actor: Account | None
    ) -> list[StoredRecord]:
        """Apply signed changes of one account and save them in one transaction.

        ``actor`` is None for the one administration nobody else can sign: the server's own
        account, at initialisation.
        """
        user_id = actions[0].user_id
        account = self.app.find_account(user_id, to_change=True)
        opening = account is None
        for action in actions:
            with authored(action.authorship):
                account = self._apply_one(account, user_id, action)
        assert account is not None
        known = {actor.user_id: actor} if actor is not None else {}
        try:
            recordings = self.app.save(account, **{KNOWN_ACCOUNTS: known})
        except IntegrityError:
            if opening:
                raise AccountExists(
                    "user id %(user_id)r exists and is never reused", user_id=user_id
                ) from None
            raise VersionConflict(
                "%(user_id)s changed meanwhile; reload and retry", user_id=user_id
            ) from None
        return stored_records(recordings)

    def _apply_one(self, account: Account | None, user_id: str, action: AccountAction) -> Account:
        if action.kind == Account.Opened.__name__:
            if account is not None:
                raise AccountExists(
                    "user id %(user_id)r exists and is never reused", user_id=user_id
                )
            check_user_id(user_id)
            return Account.open(user_id=user_id, **action.fields)
        if account is None:
            raise AccountNotFound("no account %(user_id)r", user_id=user_id)
        _check_key_fields(action.fields)
        check_key_custody(
            account, user_id, action.kind, action.signer_user_id, self.app.find_account
        )
        command = ACCOUNT_COMMANDS.get(action.kind)
        if command is None:
            raise AdministrationMalformed("%(kind)r is not an account event", kind=action.kind)
        if action.kind == Account.AccessReviewed.__name__:
            # What the reviewer saw is checked against the accounts as the store holds them.
            seen, site = action.fields.get("accounts", ()), action.fields.get("site")
            check_seen_as_held(seen, site, self.app.find_account, datetime.now(UTC))
        command(account, **action.fields)
        return account


def _check_key_fields(fields: dict[str, Any]) -> None:
    """A key event's key id is that of its key, and the key is in its one spelling."""
    if "public_key" not in fields:
        return
    parsed = public_key_from_text(str(fields["public_key"]))
    if public_key_to_text(parsed) != fields["public_key"]:
        raise KeyIdMismatch("public_key is written as base64 of the raw 32-byte key")
    if key_id(parsed) != fields["key_id"]:
        raise KeyIdMismatch(
            "%(key_id)s is not the id of this key (%(key_id2)s)",
            key_id=fields["key_id"],
            key_id2=key_id(parsed),
        )
