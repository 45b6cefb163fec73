"""The RFC 6962 Merkle tree against the transparency-dev/merkle test vectors.

Vectors come from github.com/transparency-dev/merkle:

* ``testonly/constants.go``: the eight leaf inputs, every complete subtree hash of the 8-leaf
  tree (``NodeHashes``) and the roots for sizes 0..8 (``RootHashes``);
* ``proof/verify_test.go``: published inclusion and consistency proofs, the probes that
  corrupt them (each must be rejected) and the edge-case tables of ``TestVerifyInclusion``,
  ``TestVerifyInclusionSingleEntry`` and ``TestVerifyConsistency``;
* ``proof/proof_test.go``: which stored nodes make up each proof (``TestInclusion``,
  ``TestConsistency``), checked here against the hashes of ``NodeHashes``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import pytest

from signatures.errors import ConsistencyProofInvalid, InclusionProofInvalid, VerificationError
from signatures.merkle import (
    EMPTY_ROOT,
    InclusionProofs,
    InMemoryTree,
    TreeExtension,
    append_leaf,
    consistency_proof,
    frontier,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root,
    subtree_hash,
    verify_consistency,
    verify_inclusion,
)

h = bytes.fromhex

LEAF_INPUTS = [
    h(""),
    h("00"),
    h("10"),
    h("2021"),
    h("3031"),
    h("40414243"),
    h("5051525354555657"),
    h("606162636465666768696a6b6c6d6e6f"),
]

NODE_HASHES = [
    [
        h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
        h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
        h("0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7"),
        h("07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7"),
        h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        h("4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658"),
        h("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
        h("46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1"),
    ],
    [
        h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
        h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
        h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
        h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
    ],
    [
        h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
    ],
    [h("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")],
]

ROOT_HASHES = [
    h("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
    h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
    h("aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77"),
    h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
    h("4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4"),
    h("76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef"),
    h("ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c"),
    h("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"),
]

SOME_HASH = h("abacaba000000000000000000000000000000000000000000060061e00123456")

# proof/verify_test.go `inclusionProofs`: (1-based leaf, tree size, proof).
INCLUSION_PROOFS: list[tuple[int, int, list[bytes]]] = [
    (1, 1, []),
    (
        1,
        8,
        [
            h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
    ),
    (
        6,
        8,
        [
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
    (3, 3, [h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")]),
    (
        2,
        5,
        [
            h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
    ),
]

# proof/verify_test.go `consistencyProofs`: (size1, size2, proof).
CONSISTENCY_PROOFS: list[tuple[int, int, list[bytes]]] = [
    (1, 1, []),
    (
        1,
        8,
        [
            h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
    ),
    (
        6,
        8,
        [
            h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
    (
        2,
        5,
        [
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
    ),
    (
        6,
        7,
        [
            h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            h("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
]


def n(level: int, index: int) -> bytes:
    """The published hash of stored node (level, index) of the 8-leaf tree."""
    return NODE_HASHES[level][index]


def reference_mth(leaves: Sequence[bytes]) -> bytes:
    """MTH straight from the recursive definition of RFC 6962 section 2.1."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return hashlib.sha256(b"\x01" + reference_mth(leaves[:k]) + reference_mth(leaves[k:])).digest()


def tree_of(count: int) -> InMemoryTree:
    return InMemoryTree(LEAF_INPUTS[:count])


# --- Hashes and roots (testonly/constants.go) ---------------------------------------------------


def test_leaf_hashes_and_every_stored_node_match_the_published_node_hashes() -> None:
    tree = tree_of(8)

    assert [leaf_hash(data) for data in LEAF_INPUTS] == NODE_HASHES[0]
    for level, hashes in enumerate(NODE_HASHES):
        for index, expected in enumerate(hashes):
            assert tree.node(level, index) == expected


def test_node_hash_and_empty_root_follow_rfc_6962() -> None:
    assert node_hash(n(0, 0), n(0, 1)) == n(1, 0)
    assert ROOT_HASHES[0] == EMPTY_ROOT
    assert InMemoryTree().root() == EMPTY_ROOT


@pytest.mark.requirement("URS-merkle-1")
@pytest.mark.parametrize("size", range(9))
def test_roots_of_every_prefix_match_the_published_roots(size: int) -> None:
    assert root(tree_of(8), size) == ROOT_HASHES[size]
    assert tree_of(size).root() == ROOT_HASHES[size]
    assert reference_mth(LEAF_INPUTS[:size]) == ROOT_HASHES[size]


def test_subtree_hash_of_unaligned_ranges_is_their_mth() -> None:
    tree = tree_of(8)

    assert subtree_hash(tree, 4, 7) == reference_mth(LEAF_INPUTS[4:7])
    assert subtree_hash(tree, 1, 4) == reference_mth(LEAF_INPUTS[1:4])
    with pytest.raises(ValueError):
        subtree_hash(tree, 3, 3)


# --- Proof generation: published proofs and node layout (proof/proof_test.go) -----------------


@pytest.mark.parametrize(("leaf", "size", "proof"), INCLUSION_PROOFS)
def test_inclusion_proofs_equal_the_published_ones(
    leaf: int, size: int, proof: list[bytes]
) -> None:
    assert inclusion_proof(tree_of(8), leaf - 1, size) == proof


@pytest.mark.parametrize(("size1", "size2", "proof"), CONSISTENCY_PROOFS)
def test_consistency_proofs_equal_the_published_ones(
    size1: int, size2: int, proof: list[bytes]
) -> None:
    assert consistency_proof(tree_of(8), size1, size2) == proof


# TestInclusion: (size, index, nodes); a rehash(i, j) there is the parent of the two nodes.
INCLUSION_LAYOUT = [
    (1, 0, []),
    (2, 0, [n(0, 1)]),
    (2, 1, [n(0, 0)]),
    (3, 1, [n(0, 0), n(0, 2)]),
    (7, 0, [n(0, 1), n(1, 1), node_hash(n(1, 2), n(0, 6))]),
    (7, 1, [n(0, 0), n(1, 1), node_hash(n(1, 2), n(0, 6))]),
    (7, 2, [n(0, 3), n(1, 0), node_hash(n(1, 2), n(0, 6))]),
    (7, 3, [n(0, 2), n(1, 0), node_hash(n(1, 2), n(0, 6))]),
    (7, 4, [n(0, 5), n(0, 6), n(2, 0)]),
    (7, 5, [n(0, 4), n(0, 6), n(2, 0)]),
    (7, 6, [n(1, 2), n(2, 0)]),
    (4, 2, [n(0, 3), n(1, 0)]),
    (5, 3, [n(0, 2), n(1, 0), n(0, 4)]),
    (6, 3, [n(0, 2), n(1, 0), n(1, 2)]),
    (6, 4, [n(0, 5), n(2, 0)]),
]

# TestConsistency: (size1, size2, nodes).
CONSISTENCY_LAYOUT = [
    (1, 2, [n(0, 1)]),
    (1, 4, [n(0, 1), n(1, 1)]),
    (1, 6, [n(0, 1), n(1, 1), n(1, 2)]),
    (2, 3, [n(0, 2)]),
    (2, 8, [n(1, 1), n(2, 1)]),
    (3, 7, [n(0, 2), n(0, 3), n(1, 0), node_hash(n(1, 2), n(0, 6))]),
    (4, 7, [node_hash(n(1, 2), n(0, 6))]),
    (5, 7, [n(0, 4), n(0, 5), n(0, 6), n(2, 0)]),
    (6, 7, [n(1, 2), n(0, 6), n(2, 0)]),
    (7, 8, [n(0, 6), n(0, 7), n(1, 2), n(2, 0)]),
    *((size, size, []) for size in (1, 2, 3, 4, 5, 7, 8)),
    (2, 4, [n(1, 1)]),
    (3, 5, [n(0, 2), n(0, 3), n(1, 0), n(0, 4)]),
    (3, 6, [n(0, 2), n(0, 3), n(1, 0), n(1, 2)]),
    (4, 6, [n(1, 2)]),
    (1, 7, [n(0, 1), n(1, 1), node_hash(n(1, 2), n(0, 6))]),
]


@pytest.mark.parametrize(("size", "index", "expected"), INCLUSION_LAYOUT)
def test_inclusion_proofs_are_made_of_the_published_nodes(
    size: int, index: int, expected: list[bytes]
) -> None:
    assert inclusion_proof(tree_of(8), index, size) == expected


@pytest.mark.parametrize(("size1", "size2", "expected"), CONSISTENCY_LAYOUT)
def test_consistency_proofs_are_made_of_the_published_nodes(
    size1: int, size2: int, expected: list[bytes]
) -> None:
    assert consistency_proof(tree_of(8), size1, size2) == expected


@pytest.mark.parametrize(("index", "size"), [(0, 0), (1, 0), (2, 1), (3, 0), (8, 7), (-1, 3)])
def test_inclusion_proof_refuses_a_leaf_outside_the_tree(index: int, size: int) -> None:
    with pytest.raises(ValueError):
        inclusion_proof(tree_of(8), index, size)


@pytest.mark.parametrize(("size1", "size2"), [(5, 0), (9, 8), (-1, 2)])
def test_consistency_proof_refuses_a_shrinking_tree(size1: int, size2: int) -> None:
    with pytest.raises(ValueError):
        consistency_proof(tree_of(8), size1, size2)


# --- Verification with the corrupted-proof probes (proof/verify_test.go) -----------------------


def extend(proof: Sequence[bytes], *hashes: bytes) -> list[bytes]:
    return [*proof, *hashes]


def prepend(proof: Sequence[bytes], *hashes: bytes) -> list[bytes]:
    return [*hashes, *proof]


def flip(proof: Sequence[bytes], position: int, mask: int) -> list[bytes]:
    changed = list(proof)
    changed[position] = bytes([changed[position][0] ^ mask]) + changed[position][1:]
    return changed


def corrupt_inclusion_proof(
    index: int, size: int, proof: list[bytes], root_hash: bytes, leaf: bytes
) -> list[tuple[str, int, int, bytes, bytes, list[bytes]]]:
    """corruptInclusionProof: (description, index, size, root, leaf hash, proof)."""
    probes = [
        ("leafIndex - 1", index - 1, size, root_hash, leaf, proof),
        ("leafIndex + 1", index + 1, size, root_hash, leaf, proof),
        ("leafIndex ^ 2", index ^ 2, size, root_hash, leaf, proof),
        ("treeSize * 2", index, size * 2, root_hash, leaf, proof),
        ("treeSize / 2", index, size // 2, root_hash, leaf, proof),
        ("wrong leaf", index, size, root_hash, b"WrongLeaf", proof),
        ("empty root", index, size, EMPTY_ROOT, leaf, proof),
        ("random root", index, size, SOME_HASH, leaf, proof),
        ("trailing garbage", index, size, root_hash, leaf, extend(proof, b"")),
        ("trailing root", index, size, root_hash, leaf, extend(proof, root_hash)),
        ("preceding garbage", index, size, root_hash, leaf, prepend(proof, b"")),
        ("preceding root", index, size, root_hash, leaf, prepend(proof, root_hash)),
    ]
    for position in range(len(proof)):
        wrong = flip(proof, position, 8)
        probes.append((f"modified proof[{position}] bit 3", index, size, root_hash, leaf, wrong))
    if proof:
        probes.append(("removed component", index, size, root_hash, leaf, proof[:-1]))
    if len(proof) > 1:
        inserted = prepend(proof[1:], proof[0], SOME_HASH)
        probes.append(("inserted component", index, size, root_hash, leaf, inserted))
    return probes


def corrupt_consistency_proof(
    size1: int, size2: int, root1: bytes, root2: bytes, proof: list[bytes]
) -> list[tuple[str, int, int, bytes, bytes, list[bytes]]]:
    """corruptConsistencyProof: (description, size1, size2, root1, root2, proof)."""
    probes = [
        ("size1 - 1", size1 - 1, size2, root1, root2, proof),
        ("size1 + 1", size1 + 1, size2, root1, root2, proof),
        ("size1 ^ 2", size1 ^ 2, size2, root1, root2, proof),
        ("size2 * 2", size1, size2 * 2, root1, root2, proof),
        ("size2 / 2", size1, size2 // 2, root1, root2, proof),
        ("wrong root1", size1, size2, b"WrongRoot", root2, proof),
        ("wrong root2", size1, size2, root1, b"WrongRoot", proof),
        ("swapped roots", size1, size2, root2, root1, proof),
        ("empty proof", size1, size2, root1, root2, []),
        ("trailing garbage", size1, size2, root1, root2, extend(proof, b"")),
        ("trailing root1", size1, size2, root1, root2, extend(proof, root1)),
        ("trailing root2", size1, size2, root1, root2, extend(proof, root2)),
        ("preceding garbage", size1, size2, root1, root2, prepend(proof, b"")),
        ("preceding root1", size1, size2, root1, root2, prepend(proof, root1)),
        ("preceding root2", size1, size2, root1, root2, prepend(proof, root2)),
        ("preceding proof[0]", size1, size2, root1, root2, prepend(proof, proof[0])),
    ]
    if proof:
        probes.append(("truncated proof", size1, size2, root1, root2, proof[:-1]))
    for position in range(len(proof)):
        wrong = flip(proof, position, 16)
        probes.append((f"modified proof[{position}] bit 4", size1, size2, root1, root2, wrong))
    return probes


@pytest.mark.requirement("URS-merkle-1")
@pytest.mark.parametrize(("leaf", "size", "proof"), INCLUSION_PROOFS)
def test_published_inclusion_proofs_verify_and_every_corruption_is_rejected(
    leaf: int, size: int, proof: list[bytes]
) -> None:
    index, hashed, root_hash = leaf - 1, leaf_hash(LEAF_INPUTS[leaf - 1]), ROOT_HASHES[size]

    verify_inclusion(hashed, index, size, proof, root_hash)

    probes = corrupt_inclusion_proof(index, size, proof, root_hash, hashed)
    for description, p_index, p_size, p_root, p_leaf, p_proof in probes:
        with pytest.raises(InclusionProofInvalid):
            verify_inclusion(p_leaf, p_index, p_size, p_proof, p_root)
            pytest.fail(f"accepted the probe {description!r}")


@pytest.mark.requirement("URS-merkle-1")
@pytest.mark.parametrize(("size1", "size2", "proof"), CONSISTENCY_PROOFS)
def test_published_consistency_proofs_verify_and_every_corruption_is_rejected(
    size1: int, size2: int, proof: list[bytes]
) -> None:
    root1, root2 = ROOT_HASHES[size1], ROOT_HASHES[size2]

    verify_consistency(size1, size2, root1, root2, proof)
    if not proof:  # verify_test.go probes only the non-trivial proofs
        return

    probes = corrupt_consistency_proof(size1, size2, root1, root2, proof)
    for description, p_size1, p_size2, p_root1, p_root2, p_proof in probes:
        with pytest.raises(ConsistencyProofInvalid):
            verify_consistency(p_size1, p_size2, p_root1, p_root2, p_proof)
            pytest.fail(f"accepted the probe {description!r}")


@pytest.mark.parametrize(
    ("root_hash", "leaf", "accepted"),
    [(True, True, True), (True, False, False), (False, True, False), (False, False, False)],
)
def test_single_entry_tree_root_is_the_leaf_hash(
    root_hash: bool, leaf: bool, accepted: bool
) -> None:
    """TestVerifyInclusionSingleEntry: the empty proof of a one-leaf tree."""
    hashed = leaf_hash(b"data")
    leaf_value, root_value = hashed if leaf else b"", hashed if root_hash else b""
    if accepted:
        verify_inclusion(leaf_value, 0, 1, [], root_value)
    else:
        with pytest.raises(InclusionProofInvalid):
            verify_inclusion(leaf_value, 0, 1, [], root_value)


@pytest.mark.parametrize(("index", "size"), [(0, 0), (0, 1), (1, 0), (2, 1)])
def test_empty_proofs_with_unrelated_hashes_are_rejected(index: int, size: int) -> None:
    """TestVerifyInclusion's probes: wrong roots and leaves with an empty proof."""
    for leaf, root_hash in [(SOME_HASH, b""), (b"", EMPTY_ROOT), (SOME_HASH, EMPTY_ROOT)]:
        with pytest.raises(InclusionProofInvalid):
            verify_inclusion(leaf, index, size, [], root_hash)


ROOT1 = hashlib.sha256(b"don't care 1").digest()
ROOT2 = hashlib.sha256(b"don't care 2").digest()


@pytest.mark.parametrize(
    ("size1", "size2", "root1", "root2", "proof", "accepted"),
    [
        (0, 0, ROOT1, ROOT2, [], False),
        (1, 1, ROOT1, ROOT2, [], False),
        # Sizes that are always consistent. verify_test.go uses arbitrary roots for size 0;
        # here the empty tree's root must be SHA-256 of nothing (see the next test).
        (0, 0, EMPTY_ROOT, EMPTY_ROOT, [], True),
        (0, 1, EMPTY_ROOT, ROOT2, [], True),
        (1, 1, ROOT2, ROOT2, [], True),
        # Time travel to the past.
        (1, 0, ROOT1, ROOT2, [], False),
        (2, 1, ROOT1, ROOT2, [], False),
        # Empty proof.
        (1, 2, ROOT1, ROOT2, [], False),
        # Roots don't match.
        (0, 0, EMPTY_ROOT, ROOT2, [], False),
        (1, 1, EMPTY_ROOT, ROOT2, [], False),
        # Roots match but the proof is not empty.
        (0, 0, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT], False),
        (0, 1, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT], False),
        (1, 1, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT], False),
    ],
)
def test_consistency_edge_cases(
    size1: int, size2: int, root1: bytes, root2: bytes, proof: list[bytes], accepted: bool
) -> None:
    """TestVerifyConsistency's table."""
    if accepted:
        verify_consistency(size1, size2, root1, root2, proof)
    else:
        with pytest.raises(ConsistencyProofInvalid):
            verify_consistency(size1, size2, root1, root2, proof)


@pytest.mark.parametrize(
    ("size1", "size2", "root1", "root2"),
    [
        (0, 0, ROOT1, ROOT1),  # a non-empty root for the empty tree
        (0, 5, ROOT1, ROOT2),
        (1, 1, b"don't care 1", b"don't care 1"),  # not SHA-256 sized
        (0, 1, EMPTY_ROOT, b"short"),
        (-1, 1, EMPTY_ROOT, ROOT2),
    ],
)
def test_consistency_rejects_false_empty_roots_and_wrong_hash_lengths(
    size1: int, size2: int, root1: bytes, root2: bytes
) -> None:
    with pytest.raises(ConsistencyProofInvalid) as raised:
        verify_consistency(size1, size2, root1, root2, [])
    assert raised.value.kind == "consistency-proof-invalid"
    assert isinstance(raised.value, VerificationError)


def test_inclusion_rejects_wrong_hash_lengths_and_negative_indexes() -> None:
    tree = tree_of(8)
    proof = inclusion_proof(tree, 2, 8)
    verify_inclusion(leaf_hash(LEAF_INPUTS[2]), 2, 8, proof, tree.root())

    for args in [
        (leaf_hash(LEAF_INPUTS[2])[:31], 2, 8, proof, tree.root()),
        (leaf_hash(LEAF_INPUTS[2]), 2, 8, [*proof[:2], proof[2] + b"\x00"], tree.root()),
        (leaf_hash(LEAF_INPUTS[2]), 2, 8, proof, tree.root() + b"\x00"),
        (leaf_hash(LEAF_INPUTS[2]), -1, 8, proof, tree.root()),
    ]:
        with pytest.raises(InclusionProofInvalid) as raised:
            verify_inclusion(*args)
        assert raised.value.kind == "inclusion-proof-invalid"


# --- Properties of the appender-backed store ---------------------------------------------------


class DictStore:
    """A node store behind read/write callables that counts its reads and writes."""

    def __init__(self) -> None:
        self.nodes: dict[tuple[int, int], bytes] = {}
        self.reads = 0
        self.writes = 0

    def node(self, level: int, index: int) -> bytes:
        self.reads += 1
        return self.nodes[(level, index)]

    def write(self, level: int, index: int, value: bytes) -> None:
        assert (level, index) not in self.nodes, "a stored node is never rewritten"
        self.writes += 1
        self.nodes[(level, index)] = value


def leaves_for(size: int) -> list[bytes]:
    return [f"event {i}".encode() for i in range(size)]


@pytest.fixture(scope="module")
def store_of_64() -> DictStore:
    store = DictStore()
    for index, data in enumerate(leaves_for(64)):
        assert append_leaf(store.node, store.write, index, data) == leaf_hash(data)
    return store


def test_the_appender_root_equals_the_recursive_mth_at_every_size(store_of_64: DictStore) -> None:
    data = leaves_for(64)
    for size in range(65):
        assert root(store_of_64, size) == reference_mth(data[:size])


def test_every_inclusion_proof_up_to_64_leaves_verifies(store_of_64: DictStore) -> None:
    data = leaves_for(64)
    for size in range(1, 65):
        root_hash = root(store_of_64, size)
        for index in range(size):
            proof = inclusion_proof(store_of_64, index, size)
            verify_inclusion(leaf_hash(data[index]), index, size, proof, root_hash)
            with pytest.raises(InclusionProofInvalid):
                verify_inclusion(leaf_hash(b"not " + data[index]), index, size, proof, root_hash)


def test_every_consistency_proof_up_to_64_leaves_verifies(store_of_64: DictStore) -> None:
    roots = [root(store_of_64, size) for size in range(65)]
    for new_size in range(65):
        for old_size in range(new_size + 1):
            proof = consistency_proof(store_of_64, old_size, new_size)
            verify_consistency(old_size, new_size, roots[old_size], roots[new_size], proof)
            if 0 < old_size < new_size:
                with pytest.raises(ConsistencyProofInvalid):
                    verify_consistency(old_size, new_size, roots[old_size], SOME_HASH, proof)


def test_a_proof_of_the_wrong_length_is_named_too_long_or_too_short(store_of_64: DictStore) -> None:
    inclusion = inclusion_proof(store_of_64, 5, 13)
    consistency = consistency_proof(store_of_64, 5, 13)
    root5, root13 = root(store_of_64, 5), root(store_of_64, 13)
    leaf = leaf_hash(leaves_for(64)[5])
    with pytest.raises(InclusionProofInvalid, match="inclusion proof has too many hashes"):
        verify_inclusion(leaf, 5, 13, [*inclusion, SOME_HASH], root13)
    with pytest.raises(InclusionProofInvalid, match="inclusion proof has too few hashes"):
        verify_inclusion(leaf, 5, 13, inclusion[:-1], root13)
    with pytest.raises(ConsistencyProofInvalid, match="consistency proof has too many hashes"):
        verify_consistency(5, 13, root5, root13, [*consistency, SOME_HASH])
    with pytest.raises(ConsistencyProofInvalid, match="consistency proof has too few hashes"):
        verify_consistency(5, 13, root5, root13, consistency[:-1])


def test_the_appender_and_the_proofs_touch_logarithmically_many_nodes() -> None:
    store = DictStore()
    for index, data in enumerate(leaves_for(1024)):
        store.writes = store.reads = 0
        append_leaf(store.node, store.write, index, data)
        assert store.writes <= index.bit_length() + 1
        assert store.reads == store.writes - 1
    for size in (1, 2, 3, 7, 100, 513, 1000, 1023, 1024):
        bound = 2 * size.bit_length() + 2
        store.reads = 0
        root(store, size)
        assert store.reads <= bound
        for index in (0, size // 3, size - 1):
            store.reads = 0
            inclusion_proof(store, index, size)
            assert store.reads <= bound
        for old_size in (1, size // 2, size - 1):
            store.reads = 0
            consistency_proof(store, old_size, size)
            assert store.reads <= bound


def test_a_trees_proofs_made_together_are_each_leafs_own_with_fewer_reads() -> None:
    store = DictStore()
    for index, data in enumerate(leaves_for(1024)):
        append_leaf(store.node, store.write, index, data)
    for size in (1, 2, 3, 5, 7, 8, 100, 513, 1000, 1023, 1024):
        store.reads = 0
        separate = [inclusion_proof(store, index, size) for index in range(size)]
        reads_separately = store.reads
        store.reads = 0
        paths = InclusionProofs(store, size)
        together = [paths.of(index) for index in range(size)]

        assert together == separate, size
        # What ends at the tree's right edge is read (and, incomplete, hashed) once, not once
        # a leaf.
        assert store.reads < reads_separately if size > 2 else store.reads == reads_separately
    for index, size in ((1, 1), (5, 3), (-1, 4)):
        with pytest.raises(ValueError):
            InclusionProofs(store, size).of(index)


def test_an_in_memory_tree_is_the_same_tree_as_the_appender_store(store_of_64: DictStore) -> None:
    tree = InMemoryTree(leaves_for(64))

    assert tree.size == 64
    assert tree.root() == root(store_of_64, 64)
    assert inclusion_proof(tree, 37, 50) == inclusion_proof(store_of_64, 37, 50)
    with pytest.raises(KeyError):
        tree.node(6, 1)


# --- A tree known from a kept checkpoint's frontier (``verify --since``) ------------------------


def test_the_frontier_is_one_complete_subtree_per_bit_of_the_size() -> None:
    assert frontier(0) == []
    assert frontier(1) == [(0, 0)]
    assert frontier(16) == [(4, 0)]
    # 21 = 16 + 4 + 1: leaves 0-15, 16-19 and 20.
    assert frontier(21) == [(4, 0), (2, 4), (0, 20)]


def test_the_frontier_is_the_old_part_of_every_consistency_proof(store_of_64: DictStore) -> None:
    for new_size in range(2, 65):
        for old_size in range(1, new_size):
            proof = set(consistency_proof(store_of_64, old_size, new_size))
            old = {store_of_64.nodes[pair] for pair in frontier(old_size)}
            whole = old_size & (old_size - 1) == 0  # the old root itself, which the proof omits
            assert old <= proof or (whole and len(old) == 1)


def test_an_extension_of_the_frontier_gives_every_later_root_without_the_old_leaves(
    store_of_64: DictStore,
) -> None:
    data = leaves_for(64)
    for old_size in range(1, 64):
        extension = TreeExtension(
            old_size, {pair: store_of_64.nodes[pair] for pair in frontier(old_size)}
        )
        assert extension.root(old_size) == root(store_of_64, old_size)
        for size in range(old_size + 1, 65):
            extension.append_hash(leaf_hash(data[size - 1]))
            assert extension.root(size) == reference_mth(data[:size])
        new_root = extension.root()
        proof = consistency_proof(store_of_64, old_size, 64)
        verify_consistency(old_size, 64, root(store_of_64, old_size), new_root, proof)


def test_an_extension_refuses_a_missing_frontier_node_and_sizes_outside_it() -> None:
    with pytest.raises(ValueError, match="lacks nodes"):
        TreeExtension(3, {(1, 0): b"\x00" * 32})
    extension = TreeExtension(1, {(0, 0): leaf_hash(b"a")})
    with pytest.raises(ValueError, match="not between"):
        extension.root(2)
    with pytest.raises(KeyError):
        extension.node(1, 0)  # leaf 1 is not there yet


def test_the_in_memory_tree_has_only_complete_nodes_and_takes_them_in_order() -> None:
    # Proofs ask it for a node and recompute what it lacks (KeyError): an incomplete subtree
    # must be lacking, not some other level's hashes read from its packed bytes.
    tree = tree_of(5)
    assert tree.node(2, 0) == reference_mth(LEAF_INPUTS[:4])
    for lacking in ((2, 1), (3, 0), (0, 5), (0, -1), (-1, 0)):
        with pytest.raises(KeyError):
            tree.node(*lacking)
    with pytest.raises(ValueError, match="not the next of its level"):
        tree._write(0, 7, b"\0" * 32)
