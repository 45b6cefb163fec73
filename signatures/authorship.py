"""Signing and verifying what an author wrote.

The author signs the RFC 8785 canonical bytes of the event body (see docs/signing.md for the
fields). The store keeps those exact bytes beside the signature, so verification never has to
rebuild them: it checks the signature over the bytes as stored, then separately checks that the
stored record says what those bytes say.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from signatures.canonical import canonicalize
from signatures.errors import SignatureInvalid


def sign_body(private_key: Ed25519PrivateKey, body: dict[str, Any]) -> tuple[str, str]:
    """Canonicalise ``body`` and sign it.

    Returns:
        The canonical body as text and the base64 signature over its UTF-8 bytes.
    """
    signed_bytes = canonicalize(body)
    return signed_bytes.decode("utf-8"), encode_signature(private_key.sign(signed_bytes))


def verify_signature(public_key: Ed25519PublicKey, signed_bytes: bytes, signature: str) -> None:
    """Check an Ed25519 signature (RFC 8032) over ``signed_bytes``.

    Raises:
        SignatureInvalid: the signature is malformed or does not verify with this key.
    """
    raw_signature = decode_signature(signature)
    try:
        public_key.verify(raw_signature, signed_bytes)
    except InvalidSignature:
        raise SignatureInvalid("the signature does not verify with the signer's key") from None


def encode_signature(raw_signature: bytes) -> str:
    """Standard base64 of a raw 64-byte Ed25519 signature."""
    return base64.b64encode(raw_signature).decode("ascii")


def decode_signature(signature: str) -> bytes:
    """Raw bytes of a base64 signature; a wrong length or alphabet is a SignatureInvalid."""
    try:
        raw = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureInvalid("the signature is not valid base64") from None
    if len(raw) != 64:
        raise SignatureInvalid(f"an Ed25519 signature has 64 bytes, this one has {len(raw)}")
    return raw
