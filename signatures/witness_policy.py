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
            f"{cosignature.name} cosigned a checkpoint of {cosigned.origin!r}, not of {origin!r}"
        )
    if log_checkpoint is None or cosigned != log_checkpoint:
        raise CosignatureOtherCheckpoint(
            f"{cosignature.name} cosigned a checkpoint of size {cosigned.size} that is not the "
            f"log's checkpoint of that size"
        )
    key = next((key for key in keys if cosignature.is_by(key)), None)
    if key is None:
        raise UnknownWitnessKey(
            f"{cosignature.name}'s cosignature of checkpoint {cosigned.size} is by key ID "
            f"{cosignature.key_id.hex()}, not a witness key known here"
        )
    verify_cosignature(cosignature, log_checkpoint, key)
    return Witnessed(key, log_checkpoint, cosignature)


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
    for key in trusted:
        own = [w for w in witnessed if w.key == key and w.checkpoint.size <= latest.size]
        if not own:
            missing.append(f"{key.name} (no cosignature)")
            continue
        newest = max(own, key=lambda w: (w.checkpoint.size, w.cosignature.timestamp))
        if newest.checkpoint == latest:
            vouching.append(key.name)
        elif sealed_at - newest.cosignature.timestamp <= max_age:
            vouching.append(f"{key.name} (at {newest.checkpoint.size})")
        else:
            age = sealed_at - newest.cosignature.timestamp
            errors.append(
                CosignatureStale(
                    f"{key.name}'s newest cosignature is of checkpoint {newest.checkpoint.size}, "
                    f"made {age} s before checkpoint {latest.size} was sealed (at most "
                    f"{max_age} s allowed)"
                )
            )
            missing.append(f"{key.name} (stale)")
    if len(vouching) < quorum:
        errors.append(
            WitnessQuorumNotMet(
                f"checkpoint {latest.size} of {latest.origin} is vouched for by {len(vouching)} "
                f"of the {quorum} witnesses required"
                + (f" ({', '.join(vouching)})" if vouching else "")
                + (f"; not by {', '.join(missing)}" if missing else "")
            )
        )
    return errors
