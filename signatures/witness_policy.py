"""Whether a checkpoint is witnessed: each cosignature checked, and a quorum of trusted witnesses.

A verifier trusts some witnesses (their verifier keys, given out of band) and asks that at least
``quorum`` of them vouch for the log's latest checkpoint. A witness vouches for it by cosigning
it, or by having cosigned an earlier checkpoint of the same log (which the latest must extend:
the verifier checks that from the events) recently enough: no more than ``max_age`` seconds
before the latest was sealed. A witness that runs every few minutes thus keeps up with a log
that seals a checkpoint every few minutes; one whose newest cosignature is older is **stale**,
and does not count. Each failure is one typed error (:mod:`signatures.errors`), never a bool.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from signatures.checkpoint import Checkpoint, parse_checkpoint_body
from signatures.cosignature import Cosignature, verify_cosignature
from signatures.errors import (
    CosignatureOtherCheckpoint,
    CosignatureOtherOrigin,
    CosignatureStale,
    UnknownWitnessKey,
    VerificationError,
    WitnessQuorumNotMet,
)
from signatures.verifier_keys import VerifierKey

DEFAULT_MAX_AGE = 3600
"""Seconds before the latest checkpoint's sealing that a witness's newest cosignature may be."""


@dataclass(frozen=True)
class Witnessed:
    """A cosignature that verified: whose key, of which checkpoint, when."""

    key: VerifierKey
    checkpoint: Checkpoint
    cosignature: Cosignature


QUORUM_NOT_MET = {
    (True, True): "checkpoint %(size)s of %(origin)s is vouched for by %(count)s of the "
    "%(quorum)s witnesses required (%(vouching)s); not by %(missing)s",
    (True, False): "checkpoint %(size)s of %(origin)s is vouched for by %(count)s of the "
    "%(quorum)s witnesses required (%(vouching)s)",
    (False, True): "checkpoint %(size)s of %(origin)s is vouched for by %(count)s of the "
    "%(quorum)s witnesses required; not by %(missing)s",
    (False, False): "checkpoint %(size)s of %(origin)s is vouched for by %(count)s of the "
    "%(quorum)s witnesses required",
}
"""What a quorum not met says, by whether some witnesses vouch and whether some do not."""


def check_cosignature(
    cosignature: Cosignature,
    cosigned_text: str,
    log_checkpoint: Checkpoint | None,
    origin: str,
    keys: Sequence[VerifierKey],
) -> Witnessed:
    """Check one cosignature of the text ``cosigned_text`` against the log's checkpoint of the
    same size (``log_checkpoint``, None when the log has none) and the witness keys known.

    Raises:
        CheckpointMalformed: the text cosigned is not a checkpoint.
        CosignatureOtherOrigin: it is a checkpoint of another log than ``origin``.
        CosignatureOtherCheckpoint: it is not the log's checkpoint of that size.
        UnknownWitnessKey: no key of ``keys`` has the cosignature's name and key ID.
        CosignatureForged: the signature does not verify with that key.
    """
    cosigned = parse_checkpoint_body(cosigned_text)
    if cosigned.origin != origin:
        raise CosignatureOtherOrigin(
            "%(name)s cosigned a checkpoint of %(origin)r, not of %(origin2)r",
            name=cosignature.name,
            origin=cosigned.origin,
            origin2=origin,
        )
    if log_checkpoint is None or cosigned != log_checkpoint:
        raise CosignatureOtherCheckpoint(
            "%(name)s cosigned a checkpoint of size %(size)s that is not the "
            "log's checkpoint of that size",
            name=cosignature.name,
            size=cosigned.size,
        )
    key = next((key for key in keys if cosignature.is_by(key)), None)
    if key is None:
        raise UnknownWitnessKey(
            "%(name)s's cosignature of checkpoint %(size)s is by key ID "
            "%(key_id)s, not a witness key known here",
            name=cosignature.name,
            size=cosigned.size,
            key_id=cosignature.key_id.hex(),
        )
    verify_cosignature(cosignature, log_checkpoint, key)
    return Witnessed(key, log_checkpoint, cosignature)


def witness_names(trusted: Sequence[VerifierKey]) -> list[str]:
    """The witnesses ``trusted`` names, each once, in order: one may be trusted by several keys."""
    return list(dict.fromkeys(key.name for key in trusted))


def check_quorum(
    latest: Checkpoint,
    sealed_at: int,
    witnessed: Sequence[Witnessed],
    trusted: Sequence[VerifierKey],
    quorum: int,
    max_age: int = DEFAULT_MAX_AGE,
) -> list[VerificationError]:
    """What keeps ``quorum`` of the ``trusted`` witnesses from vouching for ``latest``
    (sealed at POSIX time ``sealed_at``), given the cosignatures that verified.

    Returns one :class:`CosignatureStale` for each trusted witness whose newest cosignature is
    too old, and a :class:`WitnessQuorumNotMet` naming the checkpoint when fewer than
    ``quorum`` vouch for it; nothing when the quorum is met (stale witnesses beyond it are
    still named).
    """
    errors: list[VerificationError] = []
    vouching: list[str] = []
    missing: list[str] = []
    # A witness vouches once, whichever of its trusted keys (before and after a rotation) it
    # cosigned with: the quorum counts witnesses, not keys.
    for name in witness_names(trusted):
        keys = [key for key in trusted if key.name == name]
        own = [w for w in witnessed if w.key in keys and w.checkpoint.size <= latest.size]
        if not own:
            missing.append(f"{name} (no cosignature)")
            continue
        newest = max(own, key=lambda w: (w.checkpoint.size, w.cosignature.timestamp))
        if newest.checkpoint == latest:
            vouching.append(name)
        elif sealed_at - newest.cosignature.timestamp <= max_age:
            vouching.append(f"{name} (at {newest.checkpoint.size})")
        else:
            age = sealed_at - newest.cosignature.timestamp
            errors.append(
                CosignatureStale(
                    "%(witness)s's newest cosignature is of checkpoint %(size)s, made %(age)s s "
                    "before checkpoint %(latest)s was sealed (at most %(max_age)s s allowed)",
                    witness=name,
                    size=newest.checkpoint.size,
                    age=age,
                    latest=latest.size,
                    max_age=max_age,
                )
            )
            missing.append(f"{name} (stale)")
    if len(vouching) < quorum:
        errors.append(
            WitnessQuorumNotMet(
                QUORUM_NOT_MET[bool(vouching), bool(missing)],
                size=latest.size,
                origin=latest.origin,
                count=len(vouching),
                quorum=quorum,
                vouching=", ".join(vouching),
                missing=", ".join(missing),
            )
        )
    return errors
