"""One kept cosignature checked against the log and its accounts, with no database: shared by
``sealtrail verify`` (:mod:`infrastructure.verification.witnesses`, reading the store) and
``sealtrail packet verify`` (reading the packet's ``log/cosignatures.jsonl``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from domain.account import Account, Role, is_user_id
from domain.authority import AuthorityLedger
from signatures.checkpoint import Checkpoint
from signatures.cosignature import parse_cosignature_line
from signatures.errors import CosignerNotAWitness, KeyNotValid
from signatures.keys import public_key_from_text
from signatures.verifier_keys import COSIGNATURE_V1, VerifierKey
from signatures.witness_policy import DEFAULT_MAX_AGE, Witnessed, check_cosignature


@dataclass(frozen=True)
class WitnessPolicy:
    """The witnesses an auditor trusts (their cosignature verifier keys) and how many must
    vouch for the latest checkpoint, within ``max_age`` seconds of its sealing."""

    trusted: Sequence[VerifierKey] = field(default_factory=tuple)
    quorum: int = 0
    max_age: int = DEFAULT_MAX_AGE


def check_kept_cosignature(
    witness: str,
    line: str,
    cosigned_text: str,
    log_checkpoint: Checkpoint | None,
    origin: str,
    accounts: Mapping[str, Account],
    ledger: AuthorityLedger,
) -> Witnessed:
    """A kept cosignature of the log's checkpoint ``log_checkpoint`` (None: the log has none of
    the size it claims), by a key the log registers for ``witness``, valid when it cosigned, of
    an account that held the witness's role then (``ledger``: the accounts as the log folds
    them, each as it stood after each of its events).

    Raises:
        CheckpointMalformed, CosignatureOtherOrigin, CosignatureOtherCheckpoint,
        UnknownWitnessKey, CosignatureForged (:func:`signatures.witness_policy.check_cosignature`);
        KeyNotValid: the key was not valid in the second it cosigned;
        CosignerNotAWitness: the account did not hold the witness's role in that second.
    """
    cosignature = parse_cosignature_line(line)
    account = accounts.get(witness) if is_user_id(witness) else None
    keys = registered_keys(account)
    found = check_cosignature(cosignature, cosigned_text, log_checkpoint, origin, keys)
    assert account is not None  # a key matched, so the account has it
    _check_valid_then(account, found)
    check_witness_when_cosigned(
        ledger, account.user_id, found.cosignature.timestamp, found.checkpoint.size
    )
    return found


def check_witness_when_cosigned(
    ledger: AuthorityLedger, user_id: str, timestamp: int, size: int
) -> None:
    """The account held the witness's role in the second it says it cosigned the checkpoint of
    ``size`` (at some instant of it, as for its key), by the role's history in the log
    (``ledger``), not by the role it holds now: a witness whose role was revoked since still
    vouched then; a row an insider wrote by hand with another account's own key is named. The
    server runs it on the way in and every verifier again.

    Raises:
        CosignerNotAWitness: the account did not hold the witness's role in that second.
    """
    start = datetime.fromtimestamp(timestamp, UTC)
    end = start + timedelta(seconds=1) - timedelta(microseconds=1)
    if not ledger.held_role_during(user_id, Role.WITNESS, start, end):
        raise CosignerNotAWitness(
            "%(user_id)s did not hold the witness's role at %(when)s, when it says it cosigned "
            "the checkpoint of size %(size)s",
            user_id=user_id,
            when=start.isoformat(),
            size=size,
        )


def registered_keys(account: Account | None) -> list[VerifierKey]:
    """Every key the log registers on a witness's account, as a cosignature verifier key."""
    if account is None:
        return []
    return [
        VerifierKey(account.user_id, COSIGNATURE_V1, public_key_from_text(key.public_key))
        for key in account.keys.values()
    ]


def _check_valid_then(account: Account, found: Witnessed) -> None:
    check_valid_when_cosigned(account, found.key.public_key, found.cosignature.timestamp)


def check_valid_when_cosigned(
    account: Account, public_key: Ed25519PublicKey, timestamp: int
) -> None:
    """The witness's key ``public_key`` was valid when the witness says it cosigned: a
    cosignature's time is a whole second, so at some instant of that second (a key registered
    at 10:00:00.4 cosigns a checkpoint at 10:00:00). The server runs it on the way in and every
    verifier again, so that what the store keeps its verify accepts.

    Raises:
        KeyNotValid: the key was registered after that second, or revoked by its start.
    """
    when = datetime.fromtimestamp(timestamp, UTC)
    for key in account.keys.values():
        if public_key_from_text(key.public_key) == public_key:
            within = key.effective_from < when + timedelta(seconds=1)
            if not within or (key.revoked_at is not None and key.revoked_at <= when):
                raise KeyNotValid(
                    "the key %(key_id)s of witness %(user_id)s was not valid at %(when)s",
                    key_id=key.key_id,
                    user_id=account.user_id,
                    when=when.isoformat(),
                )
            return
