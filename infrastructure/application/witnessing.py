"""Witnesses' cosignatures, received: checked against the log and its registered keys, kept.

A witness (docs/witnesses.md) is an account whose role in force is ``witness``, its key
registered on that account like every other key (``KeyRegistered``, rotated and revoked the same
way). Its cosignature's note key name is its user id, so the key it signs with is found in the
log: a cosignature verifies only with a key the log says that witness held, valid now.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.account import Account, RegisteredKey, is_user_id
from domain.authority import AuthorityLedger
from domain.permissions import check_may_cosign_checkpoints
from infrastructure.application.sealtrail import SealTrail
from infrastructure.errors import ProofNotAvailable
from infrastructure.store.cosignatures import (
    StoredCosignature,
    keep_cosignature,
    newest_by_witness,
    stored_cosignatures,
)
from infrastructure.verification.witness_checks import (
    check_valid_when_cosigned,
    check_witness_when_cosigned,
)
from signatures.checkpoint import parse_checkpoint_body, parse_note
from signatures.cosignature import (
    Cosignature,
    parse_cosignature_line,
    verify_cosignature,
    with_cosignatures,
)
from signatures.errors import (
    CosignatureOtherCheckpoint,
    CosignatureOtherOrigin,
    KeyNotValid,
    SigningTimeInvalid,
    UnknownWitnessKey,
)
from signatures.keys import public_key_from_text
from signatures.verifier_keys import COSIGNATURE_V1, VerifierKey

CLOCK_ALLOWANCE = timedelta(minutes=5)
"""How far ahead of the server's clock a witness's clock may be (as for a signer's)."""


def witness_key_of(account: Account, key: RegisteredKey) -> VerifierKey:
    """The cosignature verifier key (type 0x04) of a key registered on a witness's account."""
    return VerifierKey(account.user_id, COSIGNATURE_V1, public_key_from_text(key.public_key))


def registered_witness_key(account: Account, cosignature: Cosignature) -> RegisteredKey:
    """The key registered on ``account`` that ``cosignature`` names by its key ID.

    Raises:
        UnknownWitnessKey: no key of the account has that key ID under the witness's name.
    """
    for key in account.keys.values():
        if witness_key_of(account, key).key_id == cosignature.key_id:
            return key
    raise UnknownWitnessKey(
        "no key registered for witness %(user_id)s has the cosignature's key ID %(key_id)s",
        user_id=account.user_id,
        key_id=cosignature.key_id.hex(),
    )


class Witnessing:
    """Receives cosignatures for the log's checkpoints and serves them appended to them."""

    def __init__(self, app: SealTrail) -> None:
        self.app = app
        self.keeper = app.checkpoints

    def receive(self, tree_size: int, checkpoint_text: str, line: str) -> StoredCosignature:
        """Check a witness's cosignature of the checkpoint of ``tree_size`` and keep it.

        Raises:
            CheckpointMalformed: the checkpoint text or the cosignature line is malformed.
            CosignatureOtherOrigin: the checkpoint cosigned is another log's.
            ProofNotAvailable: the log has no checkpoint of that size.
            CosignatureOtherCheckpoint: it is not the log's checkpoint of that size.
            UnknownWitnessKey: no account of that name, or no key of its with that key ID.
            NotPermitted: the account's role in force is not a witness's.
            KeyNotValid: the key was revoked (or is not valid yet), or was not valid in the
                second the cosignature says it was made.
            SigningTimeInvalid: the cosignature's time is ahead of the server's clock.
            CosignatureForged: the signature does not verify with the registered key.
        """
        cosigned = parse_checkpoint_body(checkpoint_text)
        cosignature = parse_cosignature_line(line)
        if cosigned.origin != self.keeper.origin:
            raise CosignatureOtherOrigin(
                "the checkpoint cosigned is of %(origin)r, not of this log (%(origin2)r)",
                origin=cosigned.origin,
                origin2=self.keeper.origin,
            )
        sealed = self.keeper.at_size(tree_size)
        if sealed is None:
            raise ProofNotAvailable(
                "the log has no checkpoint of size %(tree_size)s", tree_size=tree_size
            )
        ours, _ = parse_note(sealed.note)  # its extension lines are signed too
        if cosigned != ours:
            raise CosignatureOtherCheckpoint(
                "the checkpoint cosigned (size %(size)s) is not the log's checkpoint "
                "of size %(tree_size)s",
                size=cosigned.size,
                tree_size=tree_size,
            )
        account = self.app.find_account(cosignature.name) if is_user_id(cosignature.name) else None
        if account is None:
            raise UnknownWitnessKey(
                "no witness %(name)r is registered in the log", name=cosignature.name
            )
        now = datetime.now(UTC)
        check_may_cosign_checkpoints(account)
        key = registered_witness_key(account, cosignature)
        if not key.is_valid_at(now):
            raise KeyNotValid(
                "the key %(key_id)s of witness %(user_id)s is not valid now",
                key_id=key.key_id,
                user_id=account.user_id,
            )
        if datetime.fromtimestamp(cosignature.timestamp, UTC) > now + CLOCK_ALLOWANCE:
            raise SigningTimeInvalid(
                "the cosignature's time %(timestamp)s is ahead of the server's clock",
                timestamp=cosignature.timestamp,
            )
        verify_cosignature(cosignature, ours, witness_key_of(account, key))
        # Valid when the witness says it cosigned, too: verify checks that second (after the
        # signature, as here), so what is kept here verify accepts.
        check_valid_when_cosigned(
            account, public_key_from_text(key.public_key), cosignature.timestamp
        )
        # And a witness in that second, by the role's history, as verify asks it.
        check_witness_when_cosigned(
            self._role_history(account), account.user_id, cosignature.timestamp, tree_size
        )
        stored = StoredCosignature(
            tree_size, account.user_id, key.key_id, cosignature, ours.body(), now
        )
        keep_cosignature(self.keeper.engine, stored)
        return stored

    def _role_history(self, account: Account) -> AuthorityLedger:
        """The account as each of its events left it, folded as verify folds it."""
        ledger = AuthorityLedger()
        state: Account | None = None
        for event in self.app.repository.event_store.get(account.id):
            assert isinstance(event, Account.Event)  # an account's stream holds nothing else
            state = event.mutate(state)
            assert state is not None  # its first event opens it
            ledger.record_account(event.originator_version, state)
        return ledger

    def cosigned_note(self, tree_size: int, note: str) -> tuple[str, list[StoredCosignature]]:
        """The checkpoint's signed note with the newest cosignature of each witness appended."""
        newest = newest_by_witness(stored_cosignatures(self.keeper.engine, tree_size))
        return with_cosignatures(note, [stored.cosignature for stored in newest]), newest
