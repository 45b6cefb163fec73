"""Witness cosignatures (C2SP tlog-cosignature) against published vectors.

The vectors are public: transparency-dev/witness's tests (a log key ``monkeys``, two of its
checkpoints, the consistency proof between them, and the witness key ``witness`` with its private
seed), transparency-dev/formats' tests (a cosignature verifier key ``remora.n621.de`` and a
cosignature's time) and the example of c2sp.org/tlog-cosignature. The signature over the
``monkeys`` checkpoint is ours, pinned here and in docs/signing.md: Ed25519 is deterministic, so
any implementation given the same seed, time and checkpoint writes the same line.
"""

from __future__ import annotations

import base64
import re

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from signatures.checkpoint import Checkpoint, verify_checkpoint
from signatures.cosignature import (
    cosign,
    cosignatures_in,
    parse_cosignature_line,
    signed_message,
    verify_cosignature,
    with_cosignatures,
    witness_key,
)
from signatures.errors import CheckpointMalformed, CosignatureForged, KeyFormatError
from signatures.merkle import verify_consistency
from signatures.verifier_keys import COSIGNATURE_V1, NOTE_SIGNATURE, parse_verifier_key

LOG_KEY = "monkeys+db4d9f7e+AULaJMvTtDLHPUcUrjdDad9vDlh/PTfC2VV60JUtCfWT"
FIRST = (
    "Log Checkpoint v0\n5\n41smjBUiAU70EtKlT6lIOIYtRTYxYXsDB+XHfcvu/BE=\n\n"
    "— monkeys 202ffu1mJ0hrPIodgN0YQV7uZk9CAEzh+hOQyRjkf9CDY1IOr/oiH6WkzGIy7aEF0rw/9SHiZztjDi"
    "TOb53i6CE/zQ8=\n"
)
NEXT = (
    "Log Checkpoint v0\n8\nV8K9aklZ4EPB+RMOk1/8VsJUdFZR77GDtZUQq84vSbo=\n\n"
    "— monkeys 202ffm1n5/h7F3x0D6CCysNnqiL2WBu7iubseJggohhX6JBbeLts5NWKY/g0r6yNRVN/k+QJJx1Sii0MzbMU"
    "TnmO+wA=\n"
)
PROOF = [
    "b9e1d62618f7fee8034e4c5010f727ab24d8e4705cb296c374bf2025a87a10d2",
    "aac66cd7a79ce4012d80762fe8eec3a77f22d1ca4145c3f4cee022e7efcd599d",
    "89d0f753f66a290c483b39cd5e9eafb12021293395fad3d4a2ad053cfbcfdc9e",
    "29e40bb79c966f4c6fe96aff6f30acfce5f3e8d84c02215175d6e018a5dee833",
]
WITNESS_SEED = "AaLa/dfyBhyo/m0Z7WCi98ENVZWtrP8pxgRNrx7tIWiA"
"""transparency-dev/witness's ``wSK``: base64 of 0x01 (Ed25519) and the 32-byte seed."""
WITNESS_NOTE_KEY = "witness+f13a86db+AdYV1Ztajd9BvyjP2HgpwrqYL6TjOwIjGMOq8Bu42xbN"
"""Its ``wPK``: the same key as a note signer (type 0x01)."""
WITNESS_KEY = "witness+24b37851+BNYV1Ztajd9BvyjP2HgpwrqYL6TjOwIjGMOq8Bu42xbN"
"""The same key as a cosigner (type 0x04), as transparency-dev/formats' VKeyToCosignatureV1
converts it: the key ID changes with the type byte."""
TIME = 1679315147
COSIGNED_FIRST = (
    "— witness JLN4UQAAAABkGFDLYKZWXcTnOfOyexwWdBMk5UXlDrg6e1NN7lqyLdS1nJyYuYFh/brA+woASM5U8u"
    "K7MKyVuPKCNQdmPeGHjOY5Dw=="
)


def witness_private_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(base64.b64decode(WITNESS_SEED)[1:])


def first_checkpoint() -> Checkpoint:
    return verify_checkpoint(FIRST, "monkeys", parse_verifier_key(LOG_KEY, 1).public_key)


def test_the_published_log_checkpoints_verify_and_are_consistent() -> None:
    log_key = parse_verifier_key(LOG_KEY, NOTE_SIGNATURE)
    first = verify_checkpoint(FIRST, log_key.name, log_key.public_key)
    after = verify_checkpoint(NEXT, log_key.name, log_key.public_key)

    verify_consistency(5, 8, first.root, after.root, [bytes.fromhex(h) for h in PROOF])


def test_the_witness_key_reads_as_transparency_dev_writes_it_for_both_types() -> None:
    private_key = witness_private_key()

    assert witness_key("witness", private_key).text() == WITNESS_KEY
    note_key = parse_verifier_key(WITNESS_NOTE_KEY, NOTE_SIGNATURE)
    assert note_key.public_key == parse_verifier_key(WITNESS_KEY, COSIGNATURE_V1).public_key


def test_a_published_cosignature_verifier_key_has_the_key_id_of_type_0x04() -> None:
    text = "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2"

    assert parse_verifier_key(text, COSIGNATURE_V1).text() == text


def test_the_c2sp_example_cosignature_carries_its_time_big_endian() -> None:
    line = (
        "— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJs"
        "X3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA=="
    )

    cosignature = parse_cosignature_line(line)

    assert (cosignature.timestamp, cosignature.key_id.hex()) == (TIME, "8d66cf3f")
    assert cosignature.line() == line


def test_the_signed_message_is_the_header_the_time_and_the_checkpoint_text() -> None:
    body = first_checkpoint().body()

    assert signed_message(body, TIME) == f"cosignature/v1\ntime {TIME}\n{body}".encode()


def test_cosigning_the_published_checkpoint_writes_the_pinned_line_and_it_verifies() -> None:
    checkpoint = first_checkpoint()

    cosignature = cosign(witness_private_key(), "witness", checkpoint, TIME)

    assert cosignature.line() == COSIGNED_FIRST
    verify_cosignature(
        parse_cosignature_line(COSIGNED_FIRST), checkpoint, parse_verifier_key(WITNESS_KEY, 4)
    )


def test_a_cosignature_of_another_checkpoint_or_time_is_forged() -> None:
    key = parse_verifier_key(WITNESS_KEY, COSIGNATURE_V1)
    cosignature = parse_cosignature_line(COSIGNED_FIRST)
    after = verify_checkpoint(NEXT, "monkeys", parse_verifier_key(LOG_KEY, 1).public_key)
    retimed = cosignature.__class__(
        cosignature.name, cosignature.key_id, TIME + 1, cosignature.signature
    )

    with pytest.raises(CosignatureForged):
        verify_cosignature(cosignature, after, key)
    with pytest.raises(CosignatureForged):
        verify_cosignature(retimed, first_checkpoint(), key)


def test_a_cosignature_under_another_name_or_key_is_not_that_witness_s() -> None:
    checkpoint = first_checkpoint()
    other = Ed25519PrivateKey.generate()
    cosignature = cosign(other, "witness", checkpoint, TIME)

    with pytest.raises(CosignatureForged, match="not by the witness key"):
        verify_cosignature(cosignature, checkpoint, parse_verifier_key(WITNESS_KEY, 4))


def test_cosignatures_appended_to_the_note_are_read_back_and_the_log_signature_still_holds() -> (
    None
):
    cosignature = parse_cosignature_line(COSIGNED_FIRST)

    note = with_cosignatures(FIRST, [cosignature])

    checkpoint, found = cosignatures_in(note)
    assert found == [cosignature]
    assert (
        verify_checkpoint(note, "monkeys", parse_verifier_key(LOG_KEY, 1).public_key) == checkpoint
    )


@pytest.mark.parametrize(
    "line",
    [
        "witness JLN4UQAAAABkGFDL",  # no em dash
        "— witness not base64!",
        "— witness " + base64.b64encode(b"\x00" * 68).decode(),  # a note signature's length
        "— witness " + base64.b64encode(b"\x00" * 4 + b"\xff" * 8 + b"\x00" * 64).decode(),
        COSIGNED_FIRST + "\n— witness x",
        "— wit+ness " + COSIGNED_FIRST.split(" ")[2],
    ],
)
def test_a_malformed_cosignature_line_is_refused(line: str) -> None:
    with pytest.raises(CheckpointMalformed):
        parse_cosignature_line(line)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        (LOG_KEY, "a log's note key, not a witness's"),
        ("witness+00000000+BNYV1Ztajd9BvyjP2HgpwrqYL6TjOwIjGMOq8Bu42xbN", "does not match"),
        ("witness+24b37851", "<name>+<hex key ID>+<base64 key>"),
        ("witness+24b37851+BNYV1Ztajd9B", "32-byte"),
        ("wit ness+24b37851+BNYV1Ztajd9BvyjP2HgpwrqYL6TjOwIjGMOq8Bu42xbN", "not a key name"),
    ],
)
def test_a_bad_witness_verifier_key_is_refused_saying_why(text: str, why: str) -> None:
    with pytest.raises(KeyFormatError, match=re.escape(why)):
        parse_verifier_key(text, COSIGNATURE_V1)


def test_a_verifier_key_whose_base64_holds_a_plus_sign_reads_whole() -> None:
    # docs/signing.md's key (seed 00 01 .. 1f): base64(0x04 || key) is BAOhB7/zzhC+HXDd...
    text = witness_key("w1", Ed25519PrivateKey.from_private_bytes(bytes(range(32)))).text()

    assert "+" in text.split("+", 2)[2]
    assert parse_verifier_key(text, COSIGNATURE_V1).text() == text
