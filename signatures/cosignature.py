"""Witness cosignatures of checkpoints (c2sp.org/tlog-cosignature, Ed25519 ``cosignature/v1``).

A cosignature is one more signature line on a checkpoint's signed note,
``— <witness name> base64(key ID || timestamp || signature)``, where the key ID is
SHA-256(name || 0x0A || 0x04 || public key)[:4], the timestamp is the 8-byte big-endian POSIX
time at which the witness signed, and the signature is Ed25519 over

    cosignature/v1
    time <timestamp>
    <the checkpoint's note text, final newline included>

It says: as of that time, this is the largest tree of the log the witness has seen, and the
witness checked that it extends every earlier one it cosigned. The signed message does not
name the witness, so one key serves one witness name only.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from signatures.checkpoint import (
    SIGNATURE_PREFIX,
    Checkpoint,
    NoteSignature,
    parse_note,
    parse_signature_line,
)
from signatures.errors import CheckpointMalformed, CosignatureForged
from signatures.verifier_keys import COSIGNATURE_V1, VerifierKey, valid_key_name

HEADER = "cosignature/v1\n"
MAX_TIMESTAMP = 2**63 - 1
"""tlog-cosignature: the timestamp MUST NOT exceed 2^63 - 1."""
_TIMESTAMP_SIZE = 8
_SIGNATURE_SIZE = 64


@dataclass(frozen=True)
class Cosignature:
    """One witness's cosignature: its name, the 4-byte key ID, when it signed and the signature."""

    name: str
    key_id: bytes
    timestamp: int
    signature: bytes

    def line(self) -> str:
        """The note signature line, without its newline."""
        raw = self.key_id + self.timestamp.to_bytes(_TIMESTAMP_SIZE, "big") + self.signature
        return f"{SIGNATURE_PREFIX}{self.name} {base64.b64encode(raw).decode('ascii')}"

    def is_by(self, key: VerifierKey) -> bool:
        """Whether the line names this witness key (name and key ID), whatever it signs."""
        return self.name == key.name and self.key_id == key.key_id


def witness_key(name: str, private_key: Ed25519PrivateKey) -> VerifierKey:
    """The verifier key (type 0x04) of a witness signing under ``name`` with ``private_key``."""
    if not valid_key_name(name):
        raise ValueError(f"not a valid witness name: {name!r}")
    return VerifierKey(name, COSIGNATURE_V1, private_key.public_key())


def signed_message(body: str, timestamp: int) -> bytes:
    """``cosignature/v1\\ntime <timestamp>\\n`` followed by the checkpoint's note text."""
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise ValueError(f"a cosignature's time is between 0 and 2**63 - 1, not {timestamp}")
    return f"{HEADER}time {timestamp}\n{body}".encode()


def cosign(
    private_key: Ed25519PrivateKey, name: str, checkpoint: Checkpoint, timestamp: int
) -> Cosignature:
    """Cosign ``checkpoint`` as witness ``name`` at POSIX time ``timestamp``."""
    key = witness_key(name, private_key)
    signature = private_key.sign(signed_message(checkpoint.body(), timestamp))
    return Cosignature(name, key.key_id, timestamp, signature)


def as_cosignature(entry: NoteSignature) -> Cosignature | None:
    """A note signature line read as a cosignature, or None when it cannot be one (an
    Ed25519 note signature has 64 bytes after its key ID; a cosignature 8 + 64)."""
    if len(entry.signature) != _TIMESTAMP_SIZE + _SIGNATURE_SIZE:
        return None
    timestamp = int.from_bytes(entry.signature[:_TIMESTAMP_SIZE], "big")
    if timestamp > MAX_TIMESTAMP:
        return None
    return Cosignature(entry.name, entry.key_id, timestamp, entry.signature[_TIMESTAMP_SIZE:])


def parse_cosignature_line(line: str) -> Cosignature:
    """Read one cosignature line (``— <name> <base64>``, an optional final newline).

    Raises:
        CheckpointMalformed: not a signature line, or not of a cosignature's length, or a
            timestamp past 2**63 - 1.
    """
    text = line.removesuffix("\n")
    if "\n" in text:
        raise CheckpointMalformed("a cosignature is one line: '— <name> <base64>'")
    entry = parse_signature_line(text)
    cosignature = as_cosignature(entry)
    if cosignature is None:
        raise CheckpointMalformed(
            "the cosignature by %(name)s is not 4 + 8 + 64 bytes with a time below 2**63",
            name=entry.name,
        )
    return cosignature


def cosignatures_in(note: str | bytes) -> tuple[Checkpoint, list[Cosignature]]:
    """The checkpoint of a signed note and every signature line that can be a cosignature,
    verifying nothing.

    Raises:
        CheckpointMalformed: the note or its checkpoint body is malformed.
    """
    checkpoint, signatures = parse_note(note)
    found = [as_cosignature(entry) for entry in signatures]
    return checkpoint, [cosignature for cosignature in found if cosignature is not None]


def verify_cosignature(cosignature: Cosignature, checkpoint: Checkpoint, key: VerifierKey) -> None:
    """Check that ``key``'s witness cosigned ``checkpoint`` with ``cosignature``.

    Raises:
        CosignatureForged: the line is not by this key (name, key ID), or the Ed25519 signature
            does not verify over ``cosignature/v1``, its time and the checkpoint's note text.
    """
    if key.signature_type != COSIGNATURE_V1 or not cosignature.is_by(key):
        raise CosignatureForged(
            "the cosignature is not by the witness key of %(name)s", name=key.name
        )
    message = signed_message(checkpoint.body(), cosignature.timestamp)
    try:
        key.public_key.verify(cosignature.signature, message)
    except InvalidSignature:
        raise CosignatureForged(
            "the cosignature by %(name)s of checkpoint %(size)s does not verify",
            name=key.name,
            size=checkpoint.size,
        ) from None


def with_cosignatures(note: str, cosignatures: list[Cosignature]) -> str:
    """The signed note with each cosignature's line appended (signed-note allows any number of
    signature lines; verifiers ignore those by keys they do not know)."""
    if not note.endswith("\n"):
        raise ValueError("a signed note ends in a newline")
    return note + "".join(f"{cosignature.line()}\n" for cosignature in cosignatures)
