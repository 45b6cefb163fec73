"""The browser's proof checking (api/web/static/js) against the vectors signatures/ is held to.

Each vector of tests/unit/test_merkle.py and tests/unit/test_checkpoint.py is checked by the
JavaScript modules in a real Chromium, and every outcome, accepted or refused with its kind and
its reason, must be the Python code's outcome for the same input: the published proofs and every
corruption probe, every inclusion proof and every consistency proof of the trees of 1..N leaves
(with a wrong root and a flipped hash each), the signed-note and checkpoint vectors, and an
event's leaf, chain hash and author signature.
"""

from __future__ import annotations

import base64
import functools
import hashlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from playwright.sync_api import Browser

from signatures.authorship import sign_body
from signatures.chain import GENESIS_HASH, event_hash
from signatures.checkpoint import Checkpoint, parse_checkpoint_body, sign_checkpoint, verify_note
from signatures.errors import VerificationError
from signatures.keys import key_id, public_key_to_text
from signatures.log_leaf import event_leaf
from signatures.merkle import (
    EMPTY_ROOT,
    InMemoryTree,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)
from tests.browser.harness import READERS, Served
from tests.browser.js_page import JS_ROOT, JsPage
from tests.unit import test_checkpoint as note_vectors
from tests.unit import test_merkle as merkle_vectors

pytestmark = pytest.mark.shares_the_served_store(READERS)  # loads the pages' scripts alone

Outcome = list[str] | None
"""None when accepted; [kind, message] when refused."""

# Glue run in the page: each takes hex/base64 text (what crosses into the browser) and returns
# outcomes in the shape Python's are written in.
GLUE = """
const hex = (text) => Uint8Array.from(text.match(/../g) ?? [], (p) => parseInt(p, 16));
const outcome = async (check) => {
  try { await check(); return null; }
  catch (error) {
    if (error.name !== "VerificationFailed") throw error;
    return [error.kind, error.message];
  }
};
"""


def outcome(check: Callable[[], object]) -> Outcome:
    try:
        check()
    except VerificationError as error:
        return [error.kind, str(error)]
    return None


def hexes(hashes: Sequence[bytes]) -> list[str]:
    return [value.hex() for value in hashes]


def inclusion_cases_in_js(
    js: JsPage, cases: list[tuple[bytes, int, int, list[bytes], bytes]]
) -> list[Outcome]:
    """verifyInclusion's outcome for each (leaf hash, index, size, proof, root)."""
    result: list[Outcome] = js.run(
        """async (cases) => Promise.all(cases.map(([leaf, index, size, proof, root]) =>
            outcome(() => merkle.verifyInclusion(
                hex(leaf), index, size, proof.map(hex), hex(root)))))""",
        [
            [leaf.hex(), index, size, hexes(proof), root.hex()]
            for leaf, index, size, proof, root in cases
        ],
    )
    return result


def consistency_cases_in_js(
    js: JsPage, cases: list[tuple[int, int, bytes, bytes, list[bytes]]]
) -> list[Outcome]:
    """verifyConsistency's outcome for each (old size, new size, old root, new root, proof)."""
    result: list[Outcome] = js.run(
        """async (cases) => Promise.all(cases.map(([m, n, oldRoot, newRoot, proof]) =>
            outcome(() => merkle.verifyConsistency(
                m, n, hex(oldRoot), hex(newRoot), proof.map(hex)))))""",
        [[m, n, old.hex(), new.hex(), hexes(proof)] for m, n, old, new, proof in cases],
    )
    return result


def python_inclusion(cases: list[tuple[bytes, int, int, list[bytes], bytes]]) -> list[Outcome]:
    return [outcome(functools.partial(verify_inclusion, *case)) for case in cases]


def python_consistency(cases: list[tuple[int, int, bytes, bytes, list[bytes]]]) -> list[Outcome]:
    return [outcome(functools.partial(verify_consistency, *case)) for case in cases]


@pytest.fixture(scope="module")
def js(browser: Browser, served: Served) -> Iterator[JsPage]:
    """A page of the server (WebCrypto needs a secure context) with the modules imported."""
    context = browser.new_context(base_url=served.url)
    page = context.new_page()
    page.goto("/login")
    yield JsPage(page, JS_ROOT, GLUE)
    context.close()


# --- Hashes ------------------------------------------------------------------------------------


def test_leaf_and_node_hashes_are_the_published_ones(js: JsPage) -> None:
    leaves, node, empty = js.run(
        """async ([inputs, left, right]) => [
            await Promise.all(inputs.map(async (d) => toHex(await merkle.leafHash(hex(d))))),
            toHex(await merkle.nodeHash(hex(left), hex(right))),
            toHex(merkle.EMPTY_ROOT)]""",
        [
            hexes(merkle_vectors.LEAF_INPUTS),
            merkle_vectors.n(0, 0).hex(),
            merkle_vectors.n(0, 1).hex(),
        ],
    )

    assert leaves == hexes(merkle_vectors.NODE_HASHES[0])
    assert node == merkle_vectors.n(1, 0).hex()
    assert empty == merkle_vectors.ROOT_HASHES[0].hex()


# --- The published proofs and their corruptions (transparency-dev/merkle) ----------------------


def test_published_inclusion_proofs_verify_and_every_corruption_is_refused_as_python_refuses_it(
    js: JsPage,
) -> None:
    cases = []
    for leaf, size, proof in merkle_vectors.INCLUSION_PROOFS:
        index, hashed = leaf - 1, leaf_hash(merkle_vectors.LEAF_INPUTS[leaf - 1])
        root_hash = merkle_vectors.ROOT_HASHES[size]
        cases.append((hashed, index, size, proof, root_hash))
        probes = merkle_vectors.corrupt_inclusion_proof(index, size, proof, root_hash, hashed)
        cases += [
            (p_leaf, p_index, p_size, p_proof, p_root)
            for _, p_index, p_size, p_root, p_leaf, p_proof in probes
        ]
    # TestVerifyInclusionSingleEntry and the empty-proof probes of TestVerifyInclusion.
    single = leaf_hash(b"data")
    cases += [(leaf, 0, 1, [], root) for leaf in (single, b"") for root in (single, b"")]
    some = merkle_vectors.SOME_HASH
    for index, size in [(0, 0), (0, 1), (1, 0), (2, 1)]:
        cases += [
            (leaf, index, size, [], root)
            for leaf, root in [
                (some, b""),
                (b"", EMPTY_ROOT),
                (some, EMPTY_ROOT),
            ]
        ]

    expected = python_inclusion(cases)

    assert inclusion_cases_in_js(js, cases) == expected
    assert expected.count(None) == len(merkle_vectors.INCLUSION_PROOFS) + 1  # the probes all fail


def test_published_consistency_proofs_verify_and_every_corruption_is_refused_as_python_refuses_it(
    js: JsPage,
) -> None:
    cases = []
    for size1, size2, proof in merkle_vectors.CONSISTENCY_PROOFS:
        root1, root2 = merkle_vectors.ROOT_HASHES[size1], merkle_vectors.ROOT_HASHES[size2]
        cases.append((size1, size2, root1, root2, proof))
        if proof:
            probes = merkle_vectors.corrupt_consistency_proof(size1, size2, root1, root2, proof)
            cases += [tuple(probe[1:]) for probe in probes]  # type: ignore[misc]
    # TestVerifyConsistency's table, and the false empty roots and wrong lengths.
    empty, root1, root2 = EMPTY_ROOT, merkle_vectors.ROOT1, merkle_vectors.ROOT2
    cases += [
        (0, 0, root1, root2, []),
        (1, 1, root1, root2, []),
        (0, 0, empty, empty, []),
        (0, 1, empty, root2, []),
        (1, 1, root2, root2, []),
        (1, 0, root1, root2, []),
        (2, 1, root1, root2, []),
        (1, 2, root1, root2, []),
        (0, 0, empty, root2, []),
        (1, 1, empty, root2, []),
        (0, 0, empty, empty, [empty]),
        (0, 1, empty, empty, [empty]),
        (1, 1, empty, empty, [empty]),
        (0, 0, root1, root1, []),
        (0, 5, root1, root2, []),
        (1, 1, b"don't care 1", b"don't care 1", []),
        (0, 1, empty, b"short", []),
        (-1, 1, empty, root2, []),
    ]

    expected = python_consistency(cases)

    assert consistency_cases_in_js(js, cases) == expected
    assert expected.count(None) == len(merkle_vectors.CONSISTENCY_PROOFS) + 3


# --- Every proof of every tree up to N leaves ---------------------------------------------------

UP_TO = 40


def test_every_inclusion_proof_of_every_tree_up_to_n_leaves_is_judged_as_python_judges_it(
    js: JsPage,
) -> None:
    data = merkle_vectors.leaves_for(UP_TO)
    tree = InMemoryTree(data)
    cases = []
    for size in range(1, UP_TO + 1):
        root_hash = tree.root() if size == UP_TO else InMemoryTree(data[:size]).root()
        for index in range(size):
            proof = inclusion_proof(tree, index, size)
            hashed = leaf_hash(data[index])
            cases.append((hashed, index, size, proof, root_hash))
            cases.append((hashed, index, size, proof, merkle_vectors.SOME_HASH))
            if proof:
                cases.append(
                    (hashed, index, size, merkle_vectors.flip(proof, len(proof) - 1, 1), root_hash)
                )

    expected = python_inclusion(cases)

    assert inclusion_cases_in_js(js, cases) == expected
    assert expected.count(None) == UP_TO * (UP_TO + 1) // 2


def test_every_consistency_proof_between_trees_up_to_n_leaves_is_judged_as_python_judges_it(
    js: JsPage,
) -> None:
    data = merkle_vectors.leaves_for(UP_TO)
    tree = InMemoryTree(data)
    roots = [InMemoryTree(data[:size]).root() for size in range(UP_TO + 1)]
    cases = []
    for new_size in range(UP_TO + 1):
        for old_size in range(new_size + 1):
            proof = consistency_proof(tree, old_size, new_size)
            cases.append((old_size, new_size, roots[old_size], roots[new_size], proof))
            if 0 < old_size < new_size:
                cases.append((old_size, new_size, roots[old_size], merkle_vectors.SOME_HASH, proof))
                cases.append(
                    (
                        old_size,
                        new_size,
                        roots[old_size],
                        roots[new_size],
                        merkle_vectors.flip(proof, 0, 1),
                    )
                )

    expected = python_consistency(cases)

    assert consistency_cases_in_js(js, cases) == expected
    assert expected.count(None) == (UP_TO + 1) * (UP_TO + 2) // 2


def test_sizes_beyond_32_bits_are_not_truncated(js: JsPage) -> None:
    """JavaScript's bitwise operators on Numbers keep 32 bits: a size of 2**32 + 3 must not
    pass for 3."""
    tree = merkle_vectors.tree_of(3)
    proof = inclusion_proof(tree, 2, 3)
    case = (leaf_hash(merkle_vectors.LEAF_INPUTS[2]), 2, 3, proof, tree.root())

    [accepted, refused] = inclusion_cases_in_js(js, [case, (*case[:2], 2**32 + 3, *case[3:])])

    assert accepted is None
    assert refused == outcome(lambda: verify_inclusion(case[0], 2, 2**32 + 3, proof, tree.root()))


# --- Signed notes and checkpoints (golang.org/x/mod sumdb/note, c2sp.org) -----------------------


def raw(public: bytes) -> str:
    """A Go verifier key's base64 (0x01 || key) as the 32 raw bytes, in base64."""
    return base64.b64encode(public[1:]).decode()


PETER, ENOCH = raw(note_vectors.PETER_PUBLIC), raw(note_vectors.ENOCH_PUBLIC)


def notes_in_js(js: JsPage, cases: list[tuple[str | bytes, str, str]]) -> list[Any]:
    """verifyNote's text, or its refusal, for each (note, name, base64 public key)."""
    result: list[Any] = js.run(
        """async (cases) => Promise.all(cases.map(async ([note, isBytes, name, key]) => {
            let text = null;
            const refused = await outcome(async () => {
              const bytes = isBytes ? hex(note) : note;
              text = await checkpoint.verifyNote(bytes, name, encoding.fromBase64(key));
            });
            return refused ?? text;
        }))""",
        [
            [note.hex() if isinstance(note, bytes) else note, isinstance(note, bytes), name, key]
            for note, name, key in cases
        ],
    )
    return result


def notes_in_python(cases: list[tuple[str | bytes, str, str]]) -> list[Any]:
    found: list[Any] = []
    for note, name, key in cases:
        public = Ed25519PublicKey.from_public_bytes(base64.b64decode(key))
        try:
            found.append(verify_note(note, name, public))
        except VerificationError as error:
            found.append([error.kind, str(error)])
    return found


def test_note_key_ids_are_those_of_the_go_verifier_keys(js: JsPage) -> None:
    ids = js.run(
        """async (keys) => Promise.all(keys.map(async ([name, key]) =>
            toHex(await checkpoint.noteKeyId(name, encoding.fromBase64(key)))))""",
        [["PeterNeumann", PETER], ["EnochRoot", ENOCH]],
    )

    assert ids == ["c74f20a3", "af0cfe78"]


def test_every_signed_note_vector_is_judged_as_python_judges_it(js: JsPage) -> None:
    text, peter, enoch = note_vectors.TEXT, note_vectors.PETER_SIG, note_vectors.ENOCH_SIG
    good = text + "\n" + peter + enoch
    cases: list[tuple[str | bytes, str, str]] = [
        (good, "PeterNeumann", PETER),
        (good, "EnochRoot", ENOCH),
        (
            text + "\n" + peter * 2 + enoch * 2 + enoch[:60] + "ABCD" + enoch[60:],
            "PeterNeumann",
            PETER,
        ),
        (text + "\n" + enoch * 99 + peter, "PeterNeumann", PETER),
    ]
    cases += [
        (text + "\n" + lines, "PeterNeumann", PETER)
        for lines in [
            peter[:60] + "ABCD" + peter[60:],
            enoch,
            peter.replace("PeterNeumann", "CarmenSandiego"),
            peter.replace("x08g", "xxxx"),
            peter + peter[:60] + "ABCD" + peter[60:],
        ]
    ]
    cases += [(note, "PeterNeumann", PETER) for note in note_vectors.MALFORMED_NOTES]

    expected = notes_in_python(cases)

    assert notes_in_js(js, cases) == expected
    assert expected[:4] == [text] * 4
    assert {found[0] for found in expected[4:9]} == {"checkpoint-signature-invalid"}
    assert {found[0] for found in expected[9:]} == {"checkpoint-malformed"}


ROOT_LINE = note_vectors.ROOT_LINE
CHECKPOINT_BODIES = [
    f"Log\n0\n{ROOT_LINE}\n",
    f"Log\n{2**64 - 1}\n{ROOT_LINE}\n",
    f"Log\n9944\n{ROOT_LINE}\next one\next two\n",
    note_vectors.SPEC_CHECKPOINT.split("\n\n")[0] + "\n",
    *note_vectors.MALFORMED_BODIES,
]
"""tests/unit/test_checkpoint.py's checkpoint bodies, good and malformed."""


def test_every_checkpoint_body_vector_is_read_as_python_reads_it(js: JsPage) -> None:
    expected: list[Any] = []
    for body in CHECKPOINT_BODIES:
        try:
            parsed = parse_checkpoint_body(body)
            expected.append(
                [parsed.origin, str(parsed.size), parsed.root.hex(), list(parsed.extensions)]
            )
        except VerificationError as error:
            expected.append([error.kind, str(error)])

    found = js.run(
        """async (bodies) => Promise.all(bodies.map(async (body) => {
            let read = null;
            const refused = await outcome(async () => {
              const c = checkpoint.parseCheckpointBody(body);
              read = [c.origin, String(c.size), toHex(c.root), c.extensions];
            });
            return refused ?? read;
        }))""",
        CHECKPOINT_BODIES,
    )

    assert found == expected
    assert sum(1 for item in expected if item[0] != "checkpoint-malformed") == 4


LOG = "sealtrail.example/log"


def test_a_checkpoint_of_this_log_verifies_and_a_tampered_foreign_or_forged_one_is_refused(
    js: JsPage,
) -> None:
    key, other = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    tree = InMemoryTree([b"a", b"b", b"c", b"d", b"e"])
    checkpoint = Checkpoint(LOG, tree.size, tree.root())
    note = sign_checkpoint(key, LOG, checkpoint)
    public = public_key_to_text(key.public_key())
    cases: list[tuple[str | bytes, str, str]] = [
        (note, LOG, public),
        (note.replace("\n5\n", "\n6\n"), LOG, public),  # tampered size
        (
            sign_checkpoint(
                key, "other.example/log", Checkpoint("other.example/log", 5, tree.root())
            ),
            LOG,
            public,
        ),
        (sign_checkpoint(other, LOG, checkpoint), LOG, public),  # forged: another key
        (note, LOG, public_key_to_text(other.public_key())),
    ]

    found = notes_in_js(js, cases)

    assert found == notes_in_python(cases)
    assert found[0] == checkpoint.body()
    assert found[1] == ["checkpoint-signature-invalid", f"a signature by {LOG} does not verify"]
    assert found[2] == ["checkpoint-signature-invalid", f"the note carries no signature by {LOG}"]
    assert (
        found[3]
        == found[4]
        == ["checkpoint-signature-invalid", f"the note carries no signature by {LOG}"]
    )


# --- One event: its leaf, chain hash and author's signature -----------------------------------


def test_an_event_leaf_and_chain_hash_are_the_bytes_python_makes(js: JsPage) -> None:
    key = Ed25519PrivateKey.generate()
    body = {
        "kind": "Screened",
        "study": "NCT01297972",
        "subject": "RP-01",
        "data": {"note": "ção ✓"},
    }
    signed_body, signature = sign_body(key, body)
    chained = event_hash(GENESIS_HASH, signed_body.encode(), signature)
    position, stream = 2**40 + 7, hashlib.sha256(b"stream").hexdigest()[:32]
    recorded_at = "2026-12-04T12:30:10.123456Z"
    fields = {
        "position": position,
        "streamId": stream,
        "version": 12,
        "recordedAt": recorded_at,
        "eventHash": chained,
    }

    leaf, chain = js.run(
        """async ([fields, previous, body, signature]) => [
            toHex(evidence.eventLeaf(fields)),
            await evidence.chainHash(previous, encoding.utf8(body), signature)]""",
        [fields, GENESIS_HASH, signed_body, signature],
    )

    assert (
        leaf
        == event_leaf(
            position=position,
            stream_id=stream,
            version=12,
            recorded_at=recorded_at,
            event_hash=chained,
        ).hex()
    )
    assert chain == chained


def signed_event_in_a_tree() -> tuple[dict[str, Any], InMemoryTree, Ed25519PrivateKey]:
    """A signed event as the evidence endpoint gives it, leaf 3 of a tree of 6 leaves."""
    key = Ed25519PrivateKey.generate()
    body = {
        "kind": "BloodCountRecorded",
        "study": "NCT01297972",
        "subject": "RP-01",
        "version": 4,
        "data": {"haemoglobin": {"value": "7.4", "unit": "g/dL"}},
        "signer": {"user_id": "coord1", "printed_name": "Ana Souza"},
        "key_id": key_id(key.public_key()),
        "signed_at": "2026-12-04T12:30:10Z",
        "meaning": "authorship",
    }
    signed_body, signature = sign_body(key, body)
    previous = hashlib.sha256(b"the event before").hexdigest()
    chained = event_hash(previous, signed_body.encode(), signature)
    stream = hashlib.sha256(b"NCT01297972/RP-01").hexdigest()[:32]
    recorded_at = "2026-12-04T12:30:11.000001Z"
    leaf = event_leaf(
        position=9, stream_id=stream, version=4, recorded_at=recorded_at, event_hash=chained
    )
    tree = InMemoryTree([b"0", b"1", b"2", leaf, b"4", b"5"])
    evidence = {
        "position": 9,
        "leaf_index": 3,
        "tree_size": 6,
        "leaf_hash": base64.b64encode(leaf_hash(leaf)).decode(),
        "proof": [base64.b64encode(h).decode() for h in inclusion_proof(tree, 3, 6)],
        "event": {
            "stream_id": stream,
            "version": 4,
            "recorded_at": recorded_at,
            "event_hash": chained,
            "signed_body": signed_body,
            "signature": signature,
            "previous_hash": previous,
            "public_key": public_key_to_text(key.public_key()),
        },
    }
    return evidence, tree, key


def check_events_in_js(js: JsPage, cases: list[tuple[dict[str, Any], bytes, int]]) -> list[Any]:
    """checkEvent's steps (their names) or its refusal, for each (evidence, root, size)."""
    result: list[Any] = js.run(
        """async (cases) => Promise.all(cases.map(async ([ev, root, size]) => {
            let steps = null;
            const refused = await outcome(async () => {
              const held = await evidence.checkEvent(ev, {root: hex(root), size: BigInt(size)});
              steps = held.map((s) => s.step);
            });
            return refused ?? steps;
        }))""",
        [[ev, root.hex(), size] for ev, root, size in cases],
    )
    return result


def test_an_event_is_checked_from_its_author_signature_to_the_checkpoint_root(js: JsPage) -> None:
    evidence, tree, key = signed_event_in_a_tree()
    event = evidence["event"]
    other_key = Ed25519PrivateKey.generate()

    def changed(**fields: Any) -> dict[str, Any]:
        return {**evidence, "event": {**event, **fields}}

    cases = [
        (evidence, tree.root(), 6),
        ({**evidence, "event": None}, tree.root(), 6),  # may not read it: the leaf hash claimed
        (changed(signed_body=event["signed_body"].replace("7.4", "9.4")), tree.root(), 6),
        (changed(public_key=public_key_to_text(other_key.public_key())), tree.root(), 6),
        (changed(previous_hash="00" * 32), tree.root(), 6),
        (changed(recorded_at="2026-12-04T12:30:12.000001Z"), tree.root(), 6),
        (
            {**evidence, "event": None, "leaf_hash": base64.b64encode(bytes(32)).decode()},
            tree.root(),
            6,
        ),
        (evidence, merkle_vectors.SOME_HASH, 6),
        (evidence, tree.root(), 7),
        (changed(public_key=None), tree.root(), 6),
        (changed(public_key="AAAA"), tree.root(), 6),
        (changed(signature="not base64"), tree.root(), 6),
        (changed(signed_body=event["signed_body"].replace('{"data"', '{ "data"')), tree.root(), 6),
    ]

    found = check_events_in_js(js, cases)

    assert found[0] == ["author-signature", "chain-hash", "leaf", "inclusion"]
    assert found[1] == ["leaf-claimed", "inclusion"]
    assert found[2] == ["signature-invalid", "the signature does not verify with the signer's key"]
    assert found[3] == [
        "unknown-key",
        f"the body is signed with {key_id(key.public_key())}; "
        f"the key given is {key_id(other_key.public_key())}",
    ]
    assert found[4][0] == "content-mismatch"
    another_root = ["inclusion-proof-invalid", "the inclusion proof leads to another root"]
    assert found[5] == found[6] == found[7] == another_root
    assert found[8] == [
        "inclusion-proof-invalid",
        "the proof is for a tree of 6, the checkpoint's is 7",
    ]
    assert found[9:] == [
        [
            "unknown-key",
            "the server names no key registered for the signer under this key id",
        ],
        ["unknown-key", "the author's public key is not 32 bytes of base64"],
        ["signature-invalid", "the signature is not valid base64"],
        ["not-canonical", "the signed body is not in RFC 8785 canonical form"],
    ]
