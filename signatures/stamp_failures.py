"""The server's signed word that a checkpoint's time-stamp failed, as a C2SP signed note.

When the time-stamping authority fails for a checkpoint (docs/timestamps.md), the store keeps
the failure in the token's place. Unsigned, that row is anyone's to write: whoever holds the
database and not the server's key could delete a checkpoint's token and write "the authority was
down" instead, and the time bounds the token gave would vanish as if it had never been. So the
server signs a **statement of the failure** with the key and name it signs its checkpoints
with (c2sp.org/signed-note), whose note text binds it to that one attempt::

    sealtrail/time-stamp-failure/v1
    <origin>
    <tree size>
    <base64 SHA-256 of the checkpoint's signed note as stored>
    <when the stamp was asked for, UTC: 2026-12-04T15:37:00.123456Z>
    <the failure, one line>

The first line says what kind of statement it is: a checkpoint's note text starts with its
origin, so neither is ever read as the other although one key signs both. The hash is the
token's message imprint (:func:`signatures.timestamps.stamped_bytes`): the statement is of that
very signed note, not of another checkpoint of the same size. docs/signing.md gives a test
vector.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from signatures.checkpoint import note_key_id, sign_note, split_note, verify_note
from signatures.errors import (
    CheckpointMalformed,
    CheckpointSignatureInvalid,
    TimestampFailureForged,
    TimestampFailureMismatch,
    TimestampFailureUnsigned,
)
from signatures.timestamps import StampAttempt, stamped_bytes

FAILURE_STATEMENT = "sealtrail/time-stamp-failure/v1"
"""The first line of a statement of a time-stamp failure: what kind of signed note it is."""
INSTANT_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
"""When the stamp was asked for, to the microsecond both databases keep."""
NO_REASON = "no reason given"
OTHER_THAN_KEPT = {
    "origin": "the server's statement of the failure is of the log %(stated)r, not %(kept)r",
    "tree_size": (
        "the server's statement of the failure is of the checkpoint of size %(stated)s, "
        "not %(kept)s"
    ),
    "note_hash": (
        "the server's statement of the failure is of another signed note (SHA-256 %(stated)s) "
        "than this checkpoint's (%(kept)s)"
    ),
    "requested_at": (
        "the server's statement of the failure says the stamp was asked for at %(stated)s, "
        "the row at %(kept)s"
    ),
    "failure": "the server's statement of the failure says %(stated)r, the row %(kept)r",
}
"""What a genuine statement that is not of the row it is kept in says, by the field that
differs: the first of them, in the statement's order."""
_NOT_ONE_LINE = re.compile(r"[\x00-\x1f\x7f\s]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class StampFailure:
    """What a statement of a failure says: the authority failed, when asked at
    ``requested_at``, to stamp the checkpoint of ``tree_size`` of the log ``origin`` whose signed
    note hashes to ``note_hash`` (SHA-256), for the reason ``failure`` (one line)."""

    origin: str
    tree_size: int
    note_hash: bytes
    requested_at: datetime
    failure: str

    def body(self) -> str:
        """The statement's note text, every line newline-ended.

        Raises:
            ValueError: a field that cannot be one line of it (a failure not made one line by
                :func:`failure_line`, an empty origin...).
        """
        lines = [
            FAILURE_STATEMENT,
            self.origin,
            str(self.tree_size),
            base64.b64encode(self.note_hash).decode("ascii"),
            instant(self.requested_at),
            self.failure,
        ]
        if any(not line or _CONTROL.search(line) for line in lines[1:]):
            raise ValueError(f"not a statement of a time-stamp failure: {self!r}")
        return "\n".join(lines) + "\n"


def failure_line(reason: str) -> str:
    """A failure as one line of a statement (and of the row that keeps it): runs of white space
    and control characters become one space; text that is not UTF-8 is replaced."""
    text = reason.encode("utf-8", "replace").decode("utf-8")
    return _NOT_ONE_LINE.sub(" ", text).strip() or NO_REASON


def instant(moment: datetime) -> str:
    """An instant as the statement writes it: UTC, to the microsecond, ``Z``-suffixed."""
    if moment.tzinfo is None:
        raise ValueError("an instant of a statement is aware (UTC)")
    return moment.astimezone(UTC).strftime(INSTANT_FORMAT)


def stamp_failure(
    origin: str, tree_size: int, note: str, requested_at: datetime, failure: str
) -> StampFailure:
    """The statement of a failure to stamp the checkpoint whose signed note is ``note``."""
    note_hash = hashlib.sha256(stamped_bytes(note)).digest()
    return StampFailure(origin, tree_size, note_hash, requested_at, failure)


def sign_stamp_failure(private_key: Ed25519PrivateKey, name: str, failure: StampFailure) -> str:
    """The statement as a signed note with one Ed25519 signature by ``name`` (the log's origin,
    the name its checkpoints are signed under)."""
    return sign_note(private_key, name, failure.body())


def check_stamp_failure(
    statement: str | None, kept: StampFailure, name: str, public_key: Ed25519PublicKey
) -> None:
    """Check that ``statement`` is the server's signed statement of the failure ``kept`` (as
    the store's row says it: origin, tree size, the checkpoint's note hash, when it was asked
    and why it failed).

    Raises:
        TimestampFailureUnsigned: no statement, or none signed by the server's key (``name``,
            ``public_key``).
        TimestampFailureForged: not a signed note, or the server's signature on it does not
            verify.
        TimestampFailureMismatch: the server signed it, but it is no statement of a time-stamp
            failure, or of another log, checkpoint, instant or reason than ``kept``.
    """
    if statement is None:
        raise TimestampFailureUnsigned(
            "the failure is kept without a statement signed by the server"
        )
    try:
        _text, signatures = split_note(statement)
    except CheckpointMalformed as error:
        raise TimestampFailureForged(
            "the statement of the failure is not a signed note: %(error)s", error=error
        ) from None
    key_id = note_key_id(name, public_key)
    if not any(s.name == name and s.key_id == key_id for s in signatures):
        raise TimestampFailureUnsigned(
            "the statement of the failure carries no signature by the server's key (%(name)s)",
            name=name,
        )
    try:
        text = verify_note(statement, name, public_key)
    except CheckpointSignatureInvalid:
        raise TimestampFailureForged(
            "the server's signature on the statement of the failure does not verify"
        ) from None
    said = _read(text)
    for field, stated, expected in (
        ("origin", said.origin, kept.origin),
        ("tree_size", said.tree_size, kept.tree_size),
        (
            "note_hash",
            base64.b64encode(said.note_hash).decode("ascii"),
            base64.b64encode(kept.note_hash).decode("ascii"),
        ),
        ("requested_at", instant(said.requested_at), instant(kept.requested_at)),
        ("failure", said.failure, kept.failure),
    ):
        if stated != expected:
            raise TimestampFailureMismatch(OTHER_THAN_KEPT[field], stated=stated, kept=expected)


def failure_record(attempt: StampAttempt) -> dict[str, str | None]:
    """A failure kept, as it travels (the answer of ``GET /v1/checkpoints/{size}/timestamp``,
    a packet's ``log/checkpoint-stamp-failure.json``): the row's ``failure`` and
    ``requested_at`` (as the statement writes it) and its ``statement``, None when it has
    none. The checkpoint's size is where it travels: the URL's, the packet's. (A row with
    neither a token nor a failure, written by hand, travels with an empty failure, as
    ``verify`` judges it.)"""
    if attempt.response is not None:
        raise ValueError(f"the attempt for size {attempt.tree_size} has a token, not a failure")
    return {
        "failure": attempt.failure or "",
        "requested_at": instant(attempt.requested_at),
        "statement": attempt.failure_statement,
    }


def failure_of_record(record: object, tree_size: int) -> StampAttempt:
    """A travelled failure (:func:`failure_record`) read back as the attempt for the checkpoint
    of ``tree_size``, for :func:`check_stamp_failure` to judge as a row.

    Raises:
        ValueError: not an object of exactly those fields, each text (the statement may be
            null), the instant not the statement's form.
    """
    if not isinstance(record, dict) or set(record) != {"failure", "requested_at", "statement"}:
        raise ValueError("not a failure: an object of failure, requested_at and statement")
    failure, requested_at, statement = (
        record["failure"],
        record["requested_at"],
        record["statement"],
    )
    if not isinstance(failure, str) or not isinstance(requested_at, str):
        raise ValueError("failure and requested_at are text")
    if statement is not None and not isinstance(statement, str):
        raise ValueError("statement is text or null")
    try:
        moment = datetime.strptime(requested_at, INSTANT_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise ValueError(f"requested_at {requested_at!r} is not {INSTANT_FORMAT}") from None
    return StampAttempt(tree_size, moment, None, failure, statement)


def _read(text: str) -> StampFailure:
    """A verified note text read as a statement of a failure.

    Raises:
        TimestampFailureMismatch: a note of the server's that is not such a statement (its
            checkpoint, say).
    """
    lines = text[:-1].split("\n")
    if len(lines) == 6 and lines[0] == FAILURE_STATEMENT:
        origin, size, note_hash, requested_at, failure = lines[1:]
        try:
            read = StampFailure(
                origin,
                int(size),
                base64.b64decode(note_hash, validate=True),
                datetime.strptime(requested_at, INSTANT_FORMAT).replace(tzinfo=UTC),
                failure,
            )
            if read.body() == text:
                return read
        except ValueError:
            pass
    raise TimestampFailureMismatch(
        "the server signed it, but it is no statement of a time-stamp failure "
        "(its first line is %(first)r)",
        first=lines[0],
    )
