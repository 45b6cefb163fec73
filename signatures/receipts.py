"""Write receipts: the server's signed acknowledgement that an event is in the log.

A receipt names the log position, the subject, the version, the event's chain hash and the
hash before it, and the server's time. The server signs the RFC 8785 form of those fields, so a
site can keep the receipt as proof of what the store acknowledged and when.
"""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from signatures.authorship import encode_signature, verify_signature
from signatures.canonical import canonicalize
from signatures.errors import ContentMismatch
from signatures.keys import key_id

SIGNATURE_FIELD = "server_signature"


def seal_receipt(
    server_key: Ed25519PrivateKey, fields: dict[str, Any], *, server_key_id: str | None = None
) -> dict[str, Any]:
    """Add ``server_key_id`` and the server's signature over the canonical fields.

    ``server_key_id`` is the key's id if the caller has it (deriving it costs more than the
    signature); it must be the id of ``server_key``, or the receipt will not verify.
    """
    unsigned = {**fields, "server_key_id": server_key_id or key_id(server_key.public_key())}
    signature = encode_signature(server_key.sign(canonicalize(unsigned)))
    return {**unsigned, SIGNATURE_FIELD: signature}


def verify_receipt(server_key: Ed25519PublicKey, receipt: dict[str, Any]) -> None:
    """Check a receipt against the server's public key.

    Raises:
        ContentMismatch: the receipt names another server key, or has no signature.
        SignatureInvalid: the signature does not cover these fields.
    """
    if SIGNATURE_FIELD not in receipt:
        raise ContentMismatch("the receipt carries no server signature")
    if receipt.get("server_key_id") != key_id(server_key):
        raise ContentMismatch(
            "the receipt was signed by %(server_key_id)s",
            server_key_id=receipt.get("server_key_id"),
        )
    unsigned = {name: value for name, value in receipt.items() if name != SIGNATURE_FIELD}
    verify_signature(server_key, canonicalize(unsigned), receipt[SIGNATURE_FIELD])
