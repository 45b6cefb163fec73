"""Signing and verifying what an author wrote.

The author signs the RFC 8785 canonical bytes of the event body (see docs/signing.md for the
fields). The store keeps those exact bytes beside the signature, so verification never has to
rebuild them: it checks the signature over the bytes as stored, then separately checks that the
stored record says what those bytes say.

Verification runs on libsodium (PyNaCl): the same RFC 8032 signatures as OpenSSL's Ed25519, at
about 1.8 times its speed here (docs/benchmarks-verify.md). libsodium is the stricter of the two
(it refuses small-order keys and non-canonical encodings, which no honest signer produces). Keys
are still ``cryptography`` objects everywhere; each key's libsodium verifier is made once.
"""

from __future__ import annotations

import base64
import binascii
from functools import lru_cache
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

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
    raw_key = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    try:
        _verify_key(raw_key).verify(signed_bytes, raw_signature)
    except BadSignatureError:
        raise SignatureInvalid("the signature does not verify with the signer's key") from None


@lru_cache(maxsize=1024)
def _verify_key(raw_key: bytes) -> VerifyKey:
    """libsodium's verifier of a raw 32-byte public key, made once per key."""
    return VerifyKey(raw_key)


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
        raise SignatureInvalid(
            "an Ed25519 signature has 64 bytes, this one has %(count)s", count=len(raw)
        )
    return raw
