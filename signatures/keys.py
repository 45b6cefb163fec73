"""Ed25519 keys: how they are named, written and read.

A key id is the hex SHA-256 of the raw 32-byte public key, truncated to 128 bits: stable,
collision-resistant for our purposes and derivable by anyone who holds the public key.
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from signatures.errors import KeyFormatError

KEY_ID_PREFIX = "ed25519:"


def key_id(public_key: Ed25519PublicKey | bytes) -> str:
    """The stable id of a public key: ``ed25519:`` + 32 hex digits of SHA-256(raw key)."""
    raw = public_key if isinstance(public_key, bytes) else raw_public_key(public_key)
    return KEY_ID_PREFIX + hashlib.sha256(raw).hexdigest()[:32]


def raw_public_key(public_key: Ed25519PublicKey) -> bytes:
    """The 32 raw bytes of a public key (RFC 8032 encoding)."""
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_key_from_raw(raw: bytes) -> Ed25519PublicKey:
    """Load a public key from its 32 raw bytes."""
    try:
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError as error:
        raise KeyFormatError("not an Ed25519 public key: %(error)s", error=error) from None


def public_key_to_text(public_key: Ed25519PublicKey) -> str:
    """Base64 of the raw public key, the form stored in the log and shown to people."""
    return base64.b64encode(raw_public_key(public_key)).decode("ascii")


@lru_cache(maxsize=1024)
def public_key_from_text(text: str) -> Ed25519PublicKey:
    """Inverse of :func:`public_key_to_text`; also accepts a PEM SubjectPublicKeyInfo."""
    stripped = text.strip()
    if stripped.startswith("-----BEGIN"):
        return public_key_from_pem(stripped.encode("ascii"))
    try:
        raw = base64.b64decode(stripped, validate=True)
    except ValueError:
        raise KeyFormatError("public key is neither base64 nor PEM") from None
    return public_key_from_raw(raw)


def generate_private_key() -> Ed25519PrivateKey:
    """A fresh Ed25519 private key from the operating system's CSPRNG."""
    return Ed25519PrivateKey.generate()


def private_key_to_pem(private_key: Ed25519PrivateKey) -> bytes:
    """PKCS#8 PEM, unencrypted: the file's permissions protect it (written 0600)."""
    return private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def private_key_from_pem(pem: bytes) -> Ed25519PrivateKey:
    """Load a PKCS#8 PEM Ed25519 private key."""
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as error:
        raise KeyFormatError("not a readable private key: %(error)s", error=error) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFormatError("the private key is not an Ed25519 key")
    return key


def public_key_to_pem(public_key: Ed25519PublicKey) -> bytes:
    """SubjectPublicKeyInfo PEM, the form OpenSSL and most tools read."""
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def public_key_from_pem(pem: bytes) -> Ed25519PublicKey:
    """Load a SubjectPublicKeyInfo PEM Ed25519 public key."""
    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError as error:
        raise KeyFormatError("not a readable public key: %(error)s", error=error) from None
    if not isinstance(key, Ed25519PublicKey):
        raise KeyFormatError("the public key is not an Ed25519 key")
    return key
