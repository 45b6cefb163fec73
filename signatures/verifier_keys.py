"""Verifier keys (c2sp.org/signed-note, "Verifier keys"): a public key as one line of text.

A verifier key is ``<name>+<hex key ID>+<base64(signature type || public key)>``. The
signature type says what the key signs: 0x01 an Ed25519 note signature (the log's key over its
checkpoints), 0x04 an Ed25519 cosignature (c2sp.org/tlog-cosignature, a witness's key). The key
ID is SHA-256(name || 0x0A || type || public key)[:4], so a verifier key names its signer and
checks itself: a key ID that does not match the rest is refused.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from signatures.errors import KeyFormatError
from signatures.keys import public_key_from_raw, raw_public_key

NOTE_SIGNATURE = 0x01
"""An Ed25519 signature over the note text (c2sp.org/signed-note)."""
COSIGNATURE_V1 = 0x04
"""An Ed25519 timestamped cosignature, ``cosignature/v1`` (c2sp.org/tlog-cosignature)."""
_TYPES = {NOTE_SIGNATURE: "a log's note key", COSIGNATURE_V1: "a witness's cosignature key"}


@dataclass(frozen=True)
class VerifierKey:
    """A named Ed25519 public key and the kind of signature it makes."""

    name: str
    signature_type: int
    public_key: Ed25519PublicKey

    @property
    def key_id(self) -> bytes:
        """SHA-256(name || 0x0A || type || 32-byte public key)[:4]."""
        return key_id_of(self.name, self.signature_type, self.public_key)

    def text(self) -> str:
        """The verifier key as one line: ``name+hex key ID+base64(type || key)``."""
        material = bytes([self.signature_type]) + raw_public_key(self.public_key)
        return f"{self.name}+{self.key_id.hex()}+{base64.b64encode(material).decode('ascii')}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, VerifierKey) and self.text() == other.text()

    def __hash__(self) -> int:
        return hash(self.text())


def key_id_of(name: str, signature_type: int, public_key: Ed25519PublicKey) -> bytes:
    """The 4-byte key ID of a note signer (c2sp.org/signed-note; tlog-cosignature for 0x04)."""
    material = name.encode("utf-8") + b"\n" + bytes([signature_type]) + raw_public_key(public_key)
    return hashlib.sha256(material).digest()[:4]


def valid_key_name(name: str) -> bool:
    """Non-empty, without Unicode spaces or plus signs (c2sp.org/signed-note, "Format")."""
    return bool(name) and "+" not in name and not any(ch.isspace() for ch in name)


def parse_verifier_key(text: str, signature_type: int) -> VerifierKey:
    """Read a verifier key of the expected signature type.

    Raises:
        KeyFormatError: not three ``+``-separated parts, a bad name, base64 or key, another
            signature type than ``signature_type``, or a key ID that does not match.
    """
    parts = text.strip().split("+", 2)  # the base64 key may hold "+" itself
    if len(parts) != 3:
        raise KeyFormatError("a verifier key is <name>+<hex key ID>+<base64 key>")
    name, hex_id, encoded = parts
    if not valid_key_name(name):
        raise KeyFormatError("not a key name: %(name)r", name=name)
    try:
        material = base64.b64decode(encoded, validate=True)
        claimed_id = bytes.fromhex(hex_id)
    except (binascii.Error, ValueError):
        raise KeyFormatError("a verifier key's key ID is hex and its key base64") from None
    if len(claimed_id) != 4 or len(material) != 33:
        raise KeyFormatError("a verifier key holds a 4-byte key ID and a 32-byte Ed25519 key")
    if material[0] != signature_type:
        found = _TYPES.get(material[0], f"signature type 0x{material[0]:02x}")
        wanted = _TYPES[signature_type]
        raise KeyFormatError(
            "the verifier key of %(name)s is %(found)s, not %(wanted)s",
            name=name,
            found=found,
            wanted=wanted,
        )
    key = VerifierKey(name, signature_type, public_key_from_raw(material[1:]))
    if key.key_id != claimed_id:
        raise KeyFormatError(
            "the verifier key of %(name)s has a key ID that does not match it", name=name
        )
    return key
