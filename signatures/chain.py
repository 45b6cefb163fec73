"""The per-subject hash chain.

Each event commits to the hash of the event before it in its subject's stream; the first
commits to :data:`GENESIS_HASH`. An event's own hash covers the previous hash, the exact bytes
the author signed and the signature, each length-prefixed, under a domain-separation tag so a
chain hash can never be confused with any other SHA-256 in the system:

    event_hash = SHA-256("sealtrail/chain/v1" || 0x00 || previous_hash(32)
                         || len(signed_body)(8, big-endian) || signed_body
                         || signature(64))

Editing, removing or reordering an event inside a stream changes the hash the next event
committed to, so the break is found at the first event after the change.
"""

from __future__ import annotations

import hashlib

from signatures.authorship import decode_signature
from signatures.errors import ChainBroken

DOMAIN_TAG = b"sealtrail/chain/v1\x00"
GENESIS_HASH = hashlib.sha256(b"sealtrail/chain/v1/genesis").hexdigest()


def event_hash(previous_hash: str, signed_body: bytes, signature: str) -> str:
    """The hex SHA-256 chain hash of one event (see the module docstring for the layout)."""
    digest = hashlib.sha256(DOMAIN_TAG)
    digest.update(bytes.fromhex(previous_hash))
    digest.update(len(signed_body).to_bytes(8, "big"))
    digest.update(signed_body)
    digest.update(decode_signature(signature))
    return digest.hexdigest()


def check_link(expected_previous_hash: str, recorded_previous_hash: str) -> None:
    """Check that an event commits to the hash of the event before it.

    Raises:
        ChainBroken: the event names another predecessor than the one the stream holds.
    """
    if expected_previous_hash != recorded_previous_hash:
        raise ChainBroken(
            "the event commits to previous hash %(recorded_previous_hash)s..., "
            "the stream's previous event hashes to %(expected_previous_hash)s...",
            recorded_previous_hash=recorded_previous_hash[:16],
            expected_previous_hash=expected_previous_hash[:16],
        )
