"""The server's signed statement of a time-stamp failure (signatures/stamp_failures.py), pinned
by docs/signing.md's vector, and each way a statement fails named by its own error."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from signatures.errors import (
    TimestampFailureForged,
    TimestampFailureMismatch,
    TimestampFailureUnsigned,
)
from signatures.stamp_failures import (
    FAILURE_STATEMENT,
    StampFailure,
    check_stamp_failure,
    failure_line,
    failure_of_record,
    failure_record,
    sign_stamp_failure,
    stamp_failure,
)
from signatures.timestamps import StampAttempt
from tests.unit.test_timestamp_vector import ORIGIN, STAMPED_IMPRINT, STAMPED_NOTE

SIGNING_DOC = Path(__file__).parents[2] / "docs" / "signing.md"
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
"""docs/signing.md's key: the seed 00 01 .. 1f."""
REQUESTED_AT = datetime(2026, 12, 4, 15, 37, 0, 123456, tzinfo=UTC)
FAILURE = "http://tsa.example/ could not be reached: [Errno 111] Connection refused"
STATEMENT = (
    f"{FAILURE_STATEMENT}\n{ORIGIN}\n5\nk/X08GMClC2wxGVPBai3sdE0qEXKw5bZg48cD3L9Rv8=\n"
    f"2026-12-04T15:37:00.123456Z\n{FAILURE}\n\n— {ORIGIN} YNeDFTF2ZkGcWhpUJGZgMd/iNdl1RU1nbM2T"
    "RTcAt996KfBr9Ltb0iEWO0ia3kxPAZC5vGGwK8V9MoTZprcQM2aoPAY=\n"
)
"""The vector's statement: the authority failed for the vector's checkpoint of size 5 sealed
with an authority configured (its note hashes to the vector's message imprint)."""


def kept_failure() -> StampFailure:
    """The failure as the store's row keeps it, of the vector's stamped checkpoint."""
    return stamp_failure(ORIGIN, 5, STAMPED_NOTE, REQUESTED_AT, FAILURE)


def check(statement: str | None, kept: StampFailure | None = None) -> None:
    check_stamp_failure(statement, kept or kept_failure(), ORIGIN, KEY.public_key())


def test_the_vector_s_statement_is_the_failure_signed_with_the_documented_seed() -> None:
    kept = kept_failure()

    assert kept.note_hash.hex() == STAMPED_IMPRINT  # the bytes the token would have been over
    assert sign_stamp_failure(KEY, ORIGIN, kept) == STATEMENT
    check(STATEMENT)


def test_docs_signing_md_shows_the_vector_s_statement_as_the_test_pins_it() -> None:
    shown = "\n".join(f"    {line}" if line else "" for line in STATEMENT.splitlines())

    assert shown in SIGNING_DOC.read_text(encoding="utf-8")
    assert "2026-12-04T15:37:00.123456Z" in shown


def test_a_failure_kept_without_a_statement_is_unsigned() -> None:
    with pytest.raises(TimestampFailureUnsigned, match="without a statement"):
        check(None)


def test_a_statement_signed_by_another_key_than_the_server_s_is_unsigned() -> None:
    insider = Ed25519PrivateKey.generate()

    with pytest.raises(
        TimestampFailureUnsigned, match=f"no signature by the server's key \\({ORIGIN}"
    ):
        check(sign_stamp_failure(insider, ORIGIN, kept_failure()))


def test_a_statement_whose_server_signature_does_not_verify_is_forged() -> None:
    text, _, signature_line = STATEMENT.rpartition("\n\n")
    name, encoded = signature_line.rstrip("\n").rsplit(" ", 1)
    raw = bytearray(base64.b64decode(encoded))
    raw[-1] ^= 1
    flipped = f"{text}\n\n{name} {base64.b64encode(bytes(raw)).decode('ascii')}\n"

    with pytest.raises(TimestampFailureForged, match="does not verify"):
        check(flipped)


def test_a_statement_edited_after_it_was_signed_is_forged() -> None:
    edited = STATEMENT.replace("Connection refused", "Connection timed out")

    with pytest.raises(TimestampFailureForged, match="does not verify"):
        check(edited, replace(kept_failure(), failure=FAILURE.replace("refused", "timed out")))


def test_text_that_is_no_signed_note_is_forged() -> None:
    with pytest.raises(TimestampFailureForged, match="not a signed note"):
        check("the authority was down\n")


@pytest.mark.parametrize(
    ("other", "said"),
    [
        (
            lambda kept: replace(kept, origin="sealtrail.invalid/other"),
            "of the log 'sealtrail.invalid/vector', not",
        ),
        (lambda kept: replace(kept, tree_size=6), "of the checkpoint of size 5, not 6"),
        (lambda kept: replace(kept, note_hash=bytes(32)), "of another signed note"),
        (
            lambda kept: replace(kept, requested_at=kept.requested_at + timedelta(microseconds=1)),
            "asked for at 2026-12-04T15:37:00.123456Z, the row at 2026-12-04T15:37:00.123457Z",
        ),
        (
            lambda kept: replace(kept, failure="the authority answered HTTP 503"),
            "the row 'the authority answered HTTP 503'",
        ),
    ],
)
def test_a_genuine_statement_of_another_row_is_a_mismatch_naming_what_differs(
    other: Callable[[StampFailure], StampFailure], said: str
) -> None:
    kept = other(kept_failure())

    with pytest.raises(TimestampFailureMismatch) as raised:
        check(STATEMENT, kept)
    assert said in str(raised.value)


def test_a_checkpoint_signed_by_the_server_is_no_statement_of_a_failure() -> None:
    """One key signs both: the first line tells them apart, so a checkpoint's note put in a
    failure's place is not read as the server's word that it failed."""
    with pytest.raises(TimestampFailureMismatch, match="no statement of a time-stamp failure"):
        check(STAMPED_NOTE)


def test_a_failure_is_one_line_of_the_statement_whatever_the_authority_said() -> None:
    assert failure_line("refused:\r\n\tsee\x00 the  log ") == "refused: see the log"
    assert failure_line(" \n ") == "no reason given"
    assert failure_line("caf\udce9") == "caf?"
    with pytest.raises(ValueError, match="not a statement"):
        replace(kept_failure(), failure="two\nlines").body()


# -- the failure as it travels (the API's answer, a packet's file) -------------------------------


def test_a_failure_travels_as_its_row_and_reads_back_the_same() -> None:
    attempt = StampAttempt(5, REQUESTED_AT, None, FAILURE, STATEMENT)

    record = failure_record(attempt)

    assert record == {
        "failure": FAILURE,
        "requested_at": "2026-12-04T15:37:00.123456Z",
        "statement": STATEMENT,
    }
    assert failure_of_record(record, 5) == attempt


def test_a_token_does_not_travel_as_a_failure() -> None:
    with pytest.raises(ValueError, match="has a token, not a failure"):
        failure_record(StampAttempt(5, REQUESTED_AT, b"token", None))


@pytest.mark.parametrize(
    ("record", "said"),
    [
        (["a list"], "an object of failure, requested_at and statement"),
        ({"failure": FAILURE, "requested_at": "x"}, "an object of failure"),
        ({"failure": 1, "requested_at": "x", "statement": None}, "are text"),
        ({"failure": FAILURE, "requested_at": "x", "statement": 5}, "text or null"),
        ({"failure": FAILURE, "requested_at": "2026-12-04", "statement": None}, "is not"),
    ],
)
def test_what_is_not_a_travelled_failure_is_refused(record: object, said: str) -> None:
    with pytest.raises(ValueError, match=said):
        failure_of_record(record, 5)
