"""Checkpoints: the log's signed tree head as a C2SP signed note.

The note text of a checkpoint (c2sp.org/tlog-checkpoint) is the origin line, the tree size in
decimal, the base64 RFC 6962 root hash and optional non-empty extension lines, each ending in a
newline. A signed note (c2sp.org/signed-note) is that text, a blank line, then signature lines
``— <key name> <base64(key ID || signature)>`` opened by an em dash (U+2014). For Ed25519 the
key ID is SHA-256(key name || 0x0A || 0x01 || 32-byte public key)[:4] and the signature covers
the note text, final newline included.

Verifiers ignore signatures by keys they do not know, reject the note when a signature by the
expected key fails, and require at least one that verifies.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from typing import NamedTuple

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from signatures.errors import CheckpointMalformed, CheckpointSignatureInvalid
from signatures.keys import raw_public_key

SIGNATURE_PREFIX = "\u2014 "
ED25519_SIGNATURE_TYPE = b"\x01"
MAX_SIGNATURES = 100
"""Like Go's golang.org/x/mod/sumdb/note; the spec asks verifiers to accept at least 16."""
ROOT_SIZE = 32
MAX_TREE_SIZE = 2**64 - 1
_TREE_SIZE = re.compile(r"0|[1-9][0-9]*")
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")


class NoteSignature(NamedTuple):
    """One signature line: the key name, the 4-byte key ID and the raw signature."""

    name: str
    key_id: bytes
    signature: bytes


@dataclass(frozen=True)
class Checkpoint:
    """A tree head: the log's origin, its size and the RFC 6962 root hash at that size."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def body(self) -> str:
        """The note text (c2sp.org/tlog-checkpoint, "Note text"), every line newline-ended."""
        lines = [self.origin, str(self.size), base64.b64encode(self.root).decode("ascii")]
        text = "\n".join([*lines, *self.extensions]) + "\n"
        try:
            well_formed = parse_checkpoint_body(text) == self and not _CONTROL.search(text)
        except CheckpointMalformed:
            well_formed = False
        if not well_formed:
            raise ValueError(f"not a well-formed checkpoint: {self!r}")
        return text


def note_key_id(name: str, public_key: Ed25519PublicKey) -> bytes:
    """SHA-256(key name || 0x0A || 0x01 || public key)[:4] (c2sp.org/signed-note, Ed25519)."""
    material = name.encode("utf-8") + b"\n" + ED25519_SIGNATURE_TYPE + raw_public_key(public_key)
    return hashlib.sha256(material).digest()[:4]


def sign_note(private_key: Ed25519PrivateKey, name: str, text: str) -> str:
    """The signed note: ``text``, a blank line and one Ed25519 signature line by ``name``."""
    if not _valid_key_name(name):
        raise ValueError(f"not a valid key name: {name!r}")
    if not text.endswith("\n") or _CONTROL.search(text) or not _is_utf8(text):
        raise ValueError("a note text is UTF-8, ends in a newline and has no control characters")
    signature = private_key.sign(text.encode("utf-8"))
    key_id = note_key_id(name, private_key.public_key())
    encoded = base64.b64encode(key_id + signature).decode("ascii")
    return f"{text}\n{SIGNATURE_PREFIX}{name} {encoded}\n"


def split_note(note: str | bytes) -> tuple[str, list[NoteSignature]]:
    """Split a signed note into its text and its signature lines, verifying nothing.

    Raises:
        CheckpointMalformed: not UTF-8, a control character, no blank line before the
            signatures, a signature line not of the form ``— <name> <base64>``, or too many.
    """
    if isinstance(note, bytes):
        try:
            note = note.decode("utf-8")
        except UnicodeDecodeError:
            raise CheckpointMalformed("a signed note is UTF-8 text") from None
    if _CONTROL.search(note) or not _is_utf8(note):
        raise CheckpointMalformed("a signed note has no control characters but newline")
    split = note.rfind("\n\n")
    if split < 0:
        raise CheckpointMalformed("no blank line separates the note text from its signatures")
    text, block = note[: split + 1], note[split + 2 :]
    if not block.endswith("\n"):
        raise CheckpointMalformed("a signed note ends with a signature line and a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise CheckpointMalformed(
            "more than %(max_signatures)s signatures", max_signatures=MAX_SIGNATURES
        )
    return text, [parse_signature_line(line) for line in lines]


def verify_note(note: str | bytes, name: str, public_key: Ed25519PublicKey) -> str:
    """Check a signed note against one known key and return its text.

    Signature lines by other names or key IDs are ignored (c2sp.org/signed-note, "Signatures").

    Raises:
        CheckpointMalformed: the note is not a well-formed signed note.
        CheckpointSignatureInvalid: no signature by this key, or one by it does not verify.
    """
    text, signatures = split_note(note)
    key_id = note_key_id(name, public_key)
    known = [s for s in signatures if s.name == name and s.key_id == key_id]
    if not known:
        raise CheckpointSignatureInvalid("the note carries no signature by %(name)s", name=name)
    for entry in known:
        try:
            public_key.verify(entry.signature, text.encode("utf-8"))
        except InvalidSignature:
            raise CheckpointSignatureInvalid(
                "a signature by %(name)s does not verify", name=name
            ) from None
    return text


def parse_checkpoint_body(text: str) -> Checkpoint:
    """Read a checkpoint's note text (c2sp.org/tlog-checkpoint, "Note text").

    Raises:
        CheckpointMalformed: fewer than three lines, an empty origin or extension line, a size
            that is not a canonical decimal below 2**64, or a root that is not canonical
            base64 of 32 bytes.
    """
    if not text.endswith("\n"):
        raise CheckpointMalformed("a checkpoint's note text ends in a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3 or any(not line for line in lines):
        raise CheckpointMalformed("a checkpoint has at least three lines, none of them empty")
    origin, size_line, root_line, *extensions = lines
    if not _TREE_SIZE.fullmatch(size_line) or int(size_line) > MAX_TREE_SIZE:
        raise CheckpointMalformed("not a tree size: %(size_line)r", size_line=size_line)
    try:
        root = base64.b64decode(root_line, validate=True)
    except (binascii.Error, ValueError):
        raise CheckpointMalformed("the root hash is not base64") from None
    if len(root) != ROOT_SIZE or base64.b64encode(root).decode("ascii") != root_line:
        raise CheckpointMalformed(
            "the root hash is not the base64 of %(root_size)s bytes", root_size=ROOT_SIZE
        )
    return Checkpoint(origin, int(size_line), root, tuple(extensions))


def sign_checkpoint(private_key: Ed25519PrivateKey, name: str, checkpoint: Checkpoint) -> str:
    """The checkpoint as a signed note with one Ed25519 signature by ``name``."""
    return sign_note(private_key, name, checkpoint.body())


def parse_note(note: str | bytes) -> tuple[Checkpoint, list[NoteSignature]]:
    """Read a signed checkpoint without verifying it: for display and diagnosis only.

    Raises:
        CheckpointMalformed: the note or its checkpoint body is malformed.
    """
    text, signatures = split_note(note)
    return parse_checkpoint_body(text), signatures


def verify_checkpoint(note: str | bytes, name: str, public_key: Ed25519PublicKey) -> Checkpoint:
    """Verify a signed checkpoint against the log's key and return the checkpoint.

    The signature is checked before the text is read, as c2sp.org/signed-note requires.

    Raises:
        CheckpointMalformed: the note or its checkpoint body is malformed.
        CheckpointSignatureInvalid: no signature by this key, or one by it does not verify.
    """
    return parse_checkpoint_body(verify_note(note, name, public_key))


def parse_signature_line(line: str) -> NoteSignature:
    """One signature line, ``— <name> <base64(key ID || signature)>``, verifying nothing.

    Raises:
        CheckpointMalformed: not of that form, or too short to hold a key ID and a signature.
    """
    if not line.startswith(SIGNATURE_PREFIX):
        raise CheckpointMalformed("a signature line starts with an em dash and a space")
    name, _, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
    if not _valid_key_name(name) or not encoded:
        raise CheckpointMalformed("not a signature line: %(line)r", line=line)
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise CheckpointMalformed("the signature by %(name)s is not base64", name=name) from None
    if len(raw) < 5:
        raise CheckpointMalformed("the signature by %(name)s is too short", name=name)
    return NoteSignature(name, raw[:4], raw[4:])


def _valid_key_name(name: str) -> bool:
    """Non-empty, without Unicode spaces or plus signs (c2sp.org/signed-note, "Format")."""
    return bool(name) and "+" not in name and not any(ch.isspace() for ch in name)


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
