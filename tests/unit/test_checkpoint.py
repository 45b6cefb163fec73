"""C2SP signed notes and tlog checkpoints against published vectors.

* golang.org/x/mod ``sumdb/note/note_test.go`` (github.com/golang/mod): the PeterNeumann and
  EnochRoot keys, the exact signed note ``TestSign`` expects, and ``TestOpen``'s cases of
  unknown, invalid, duplicated and malformed signatures. Ed25519 is deterministic, so signing
  the same text with the same seed must give the same bytes.
* c2sp.org/tlog-checkpoint (github.com/C2SP/C2SP ``tlog-checkpoint.md``): the example note.
* github.com/transparency-dev/formats ``log/checkpoint_test.go``: malformed checkpoint bodies.
"""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from signatures.checkpoint import (
    Checkpoint,
    NoteSignature,
    note_key_id,
    parse_checkpoint_body,
    parse_note,
    sign_checkpoint,
    sign_note,
    split_note,
    verify_checkpoint,
    verify_note,
)
from signatures.errors import CheckpointMalformed, CheckpointSignatureInvalid, VerificationError
from signatures.merkle import InMemoryTree

# sumdb/note/note_test.go: "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEK..." and the verifier keys
# "PeterNeumann+c74f20a3+ARpc..." / "EnochRoot+af0cfe78+ATtq...": base64 of 0x01 || key.
PETER_SEED = base64.b64decode("AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz")
PETER_PUBLIC = base64.b64decode("ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")
ENOCH_PUBLIC = base64.b64decode("ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop")

TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PETER_SIG = (
    "\u2014 PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
ENOCH_SIG = (
    "\u2014 EnochRoot "
    "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"
)

# c2sp.org/tlog-checkpoint's example.
SPEC_CHECKPOINT = (
    "example.com/behind-the-sofa\n"
    "20852163\n"
    "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    "\n"
    "\u2014 example.com/behind-the-sofa "
    "Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
)

LOG_NAME = "sealtrail.example/log"


def peter_private() -> Ed25519PrivateKey:
    assert PETER_SEED[0] == 0x01  # the Ed25519 signature type byte
    return Ed25519PrivateKey.from_private_bytes(PETER_SEED[1:])


def peter_public() -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(PETER_PUBLIC[1:])


def enoch_public() -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(ENOCH_PUBLIC[1:])


# --- The Go sumdb/note vectors ------------------------------------------------------------------


def test_key_ids_match_the_go_verifier_keys() -> None:
    assert note_key_id("PeterNeumann", peter_public()) == bytes.fromhex("c74f20a3")
    assert note_key_id("PeterNeumann", peter_private().public_key()) == bytes.fromhex("c74f20a3")
    assert note_key_id("EnochRoot", enoch_public()) == bytes.fromhex("af0cfe78")


def test_signing_gives_the_exact_note_of_go_test_sign() -> None:
    assert sign_note(peter_private(), "PeterNeumann", TEXT) == TEXT + "\n" + PETER_SIG


def test_a_note_opens_with_either_known_key_and_ignores_the_other_signature() -> None:
    note = TEXT + "\n" + PETER_SIG + ENOCH_SIG

    assert verify_note(note, "PeterNeumann", peter_public()) == TEXT
    assert verify_note(note, "EnochRoot", enoch_public()) == TEXT
    text, signatures = split_note(note)
    assert text == TEXT
    assert [(s.name, s.key_id.hex()) for s in signatures] == [
        ("PeterNeumann", "c74f20a3"),
        ("EnochRoot", "af0cfe78"),
    ]


def test_duplicated_verified_and_unverified_signatures_are_accepted() -> None:
    enoch_abcd = ENOCH_SIG[:60] + "ABCD" + ENOCH_SIG[60:]
    note = TEXT + "\n" + PETER_SIG + PETER_SIG + ENOCH_SIG + ENOCH_SIG + enoch_abcd

    assert verify_note(note, "PeterNeumann", peter_public()) == TEXT


@pytest.mark.parametrize(
    "signature_lines",
    [
        PETER_SIG[:60] + "ABCD" + PETER_SIG[60:],  # a known key whose signature fails
        ENOCH_SIG,  # only an unknown key signed
        PETER_SIG.replace("PeterNeumann", "CarmenSandiego"),  # the right key, another name
        PETER_SIG.replace("x08g", "xxxx"),  # the right name, another key ID
        PETER_SIG + PETER_SIG[:60] + "ABCD" + PETER_SIG[60:],  # one good, one bad by the key
    ],
)
def test_notes_without_a_good_signature_by_the_key_are_rejected(signature_lines: str) -> None:
    with pytest.raises(CheckpointSignatureInvalid) as raised:
        verify_note(TEXT + "\n" + signature_lines, "PeterNeumann", peter_public())
    assert raised.value.kind == "checkpoint-signature-invalid"
    assert isinstance(raised.value, VerificationError)


MALFORMED_NOTES: list[str | bytes] = [
    TEXT,
    TEXT + "\n",
    TEXT + "\n" + PETER_SIG[:-1],
    "\x01" + TEXT + "\n" + PETER_SIG,
    b"\xff" + (TEXT + "\n" + PETER_SIG).encode(),
    TEXT + "\n" + "\u2014 Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2p"
    "ZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=",
    TEXT + "\n" + PETER_SIG + "Unexpected line.\n",
    TEXT + "\n" + PETER_SIG * 101,
    TEXT + "\n" + PETER_SIG.replace("\u2014", "--"),  # an ASCII dash is not the em dash
    TEXT + "\n" + PETER_SIG.replace("\u2014", "\u2013"),  # nor is an en dash
    TEXT + "\n" + "\u2014 PeterNeumann not-base64\n",
    TEXT + "\n" + "\u2014 PeterNeumann AAAA\n",  # shorter than a key ID and one byte
    TEXT + "\n" + "\u2014 Peter+Neumann " + PETER_SIG.split(" ")[2],
    TEXT + "\n" + "\u2014 PeterNeumann\n",
    TEXT.replace("\n", "\r\n") + "\n" + PETER_SIG,
]
"""Signed notes that are not well-formed, each refused as checkpoint-malformed."""


@pytest.mark.parametrize("note", MALFORMED_NOTES)
def test_malformed_notes_are_rejected(note: str | bytes) -> None:
    with pytest.raises(CheckpointMalformed) as raised:
        verify_note(note, "PeterNeumann", peter_public())
    assert raised.value.kind == "checkpoint-malformed"


@pytest.mark.parametrize("text", ["first paragraph\n\nsecond paragraph\n", "trailing\n\n", "\n"])
def test_the_text_is_separated_at_the_last_blank_line(text: str) -> None:
    note = sign_note(peter_private(), "PeterNeumann", text)

    assert split_note(note)[0] == text
    assert verify_note(note, "PeterNeumann", peter_public()) == text


def test_at_least_sixteen_signatures_are_accepted() -> None:
    note = TEXT + "\n" + ENOCH_SIG * 99 + PETER_SIG

    assert verify_note(note, "PeterNeumann", peter_public()) == TEXT


@pytest.mark.parametrize(
    ("name", "text"),
    [("", TEXT), ("Peter Neumann", TEXT), ("a+b", TEXT), ("ok", "abc"), ("ok", "a\tb\n")],
)
def test_signing_refuses_what_could_not_be_verified(name: str, text: str) -> None:
    with pytest.raises(ValueError):
        sign_note(peter_private(), name, text)


# --- Checkpoints --------------------------------------------------------------------------------


def test_the_spec_example_checkpoint_parses() -> None:
    checkpoint, signatures = parse_note(SPEC_CHECKPOINT)

    assert checkpoint.origin == "example.com/behind-the-sofa"
    assert checkpoint.size == 20852163
    assert checkpoint.root == base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
    assert checkpoint.extensions == ()
    assert checkpoint.body() == SPEC_CHECKPOINT.split("\n\n")[0] + "\n"
    [signature] = signatures
    assert isinstance(signature, NoteSignature)
    assert signature.name == "example.com/behind-the-sofa"
    assert len(signature.key_id) == 4 and len(signature.signature) == 64


def test_a_signed_checkpoint_verifies_and_returns_the_tree_head() -> None:
    key = peter_private()
    tree = InMemoryTree([b"a", b"b", b"c"])
    checkpoint = Checkpoint(LOG_NAME, tree.size, tree.root())

    note = sign_checkpoint(key, LOG_NAME, checkpoint)

    assert note.startswith(f"{LOG_NAME}\n3\n{base64.b64encode(tree.root()).decode()}\n\n")
    assert "\n\u2014 " + LOG_NAME + " " in note
    assert verify_checkpoint(note, LOG_NAME, key.public_key()) == checkpoint
    assert verify_checkpoint(note.encode("utf-8"), LOG_NAME, key.public_key()) == checkpoint
    assert parse_note(note)[0] == checkpoint


def test_extension_lines_round_trip_and_are_signed() -> None:
    key = peter_private()
    checkpoint = Checkpoint(LOG_NAME, 7, bytes(32), ("ext one", "ext two"))

    note = sign_checkpoint(key, LOG_NAME, checkpoint)

    assert checkpoint.body().endswith("\next one\next two\n")
    assert verify_checkpoint(note, LOG_NAME, key.public_key()) == checkpoint
    with pytest.raises(CheckpointSignatureInvalid):
        verify_checkpoint(note.replace("ext two", "ext 2"), LOG_NAME, key.public_key())


def test_cosignatures_by_unknown_keys_are_ignored() -> None:
    log_key, witness_key = peter_private(), Ed25519PrivateKey.generate()
    checkpoint = Checkpoint(LOG_NAME, 1, bytes(32))
    witness_line = sign_checkpoint(witness_key, "witness.example", checkpoint).split("\n\n")[1]

    note = sign_checkpoint(log_key, LOG_NAME, checkpoint) + witness_line

    assert verify_checkpoint(note, LOG_NAME, log_key.public_key()) == checkpoint
    assert verify_checkpoint(note, "witness.example", witness_key.public_key()) == checkpoint


@pytest.mark.requirement("URS-merkle-1")
def test_tampered_or_foreign_checkpoints_are_rejected() -> None:
    key, other = peter_private(), Ed25519PrivateKey.generate()
    checkpoint = Checkpoint(LOG_NAME, 5, bytes(32))
    note = sign_checkpoint(key, LOG_NAME, checkpoint)

    for tampered, name, public_key in [
        (note.replace("\n5\n", "\n6\n"), LOG_NAME, key.public_key()),
        (note, LOG_NAME, other.public_key()),
        (note, "other.example/log", key.public_key()),
        (sign_checkpoint(other, LOG_NAME, checkpoint), LOG_NAME, key.public_key()),
    ]:
        with pytest.raises(CheckpointSignatureInvalid):
            verify_checkpoint(tampered, name, public_key)


def test_a_validly_signed_text_that_is_no_checkpoint_is_malformed() -> None:
    with pytest.raises(CheckpointMalformed):
        verify_checkpoint(TEXT + "\n" + PETER_SIG, "PeterNeumann", peter_public())


ROOT_LINE = base64.b64encode(bytes(range(32))).decode()


MALFORMED_BODIES = [
    # transparency-dev/formats log/checkpoint_test.go, invalid cases.
    "Head\n9944\n",
    f"\n9944\n{ROOT_LINE}\n",
    f"Log\n123\n{ROOT_LINE}",
    f"Log\nbananas\n{ROOT_LINE}\n",
    f"Log\n-34\n{ROOT_LINE}\n",
    f"Log\n3438945738945739845734895735\n{ROOT_LINE}\n",
    "Log\n123\nThisIsn'tBase64\n",
    # Stricter than that parser, as c2sp.org/tlog-checkpoint requires.
    "Log\n123\nYmFuYW5hcw==\n",  # "bananas" is no SHA-256 root
    f"Log\n0123\n{ROOT_LINE}\n",  # leading zero
    f"Log\n+123\n{ROOT_LINE}\n",
    f"Log\n 123\n{ROOT_LINE}\n",
    f"Log\n1_000\n{ROOT_LINE}\n",
    f"Log\n\u0661\u0662\n{ROOT_LINE}\n",  # Arabic-Indic digits
    f"Log\n18446744073709551616\n{ROOT_LINE}\n",  # 2**64
    f"Log\n9944\n{ROOT_LINE}\n\n\n\n",  # empty extension lines
    f"Log\n9944\n{ROOT_LINE[:-2]}\n",  # unpadded base64
    f"Log\n9944\n{ROOT_LINE[:-2]}9=\n",  # non-canonical trailing bits
]
"""Checkpoint note texts that are not well-formed, each refused as checkpoint-malformed."""


@pytest.mark.parametrize("body", MALFORMED_BODIES)
def test_malformed_checkpoint_bodies_are_rejected(body: str) -> None:
    with pytest.raises(CheckpointMalformed):
        parse_checkpoint_body(body)


def test_size_zero_and_the_largest_size_parse() -> None:
    assert parse_checkpoint_body(f"Log\n0\n{ROOT_LINE}\n").size == 0
    assert parse_checkpoint_body(f"Log\n{2**64 - 1}\n{ROOT_LINE}\n").size == 2**64 - 1


@pytest.mark.parametrize(
    "checkpoint",
    [
        Checkpoint("", 1, bytes(32)),
        Checkpoint("two\nlines", 1, bytes(32)),
        Checkpoint("Log", -1, bytes(32)),
        Checkpoint("Log", 1, bytes(31)),
        Checkpoint("Log", 1, bytes(32), ("",)),
        Checkpoint("Log", 1, bytes(32), ("tab\there",)),
    ],
)
def test_a_checkpoint_that_cannot_be_written_refuses_to_be(checkpoint: Checkpoint) -> None:
    with pytest.raises(ValueError):
        checkpoint.body()
