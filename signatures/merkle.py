"""The RFC 6962 / RFC 9162 Merkle tree: hashes, proofs and their verification.

Leaves and interior nodes are hashed under different one-byte prefixes (RFC 6962 section 2.1),
so a leaf can never pass for a node. A store keeps only the hashes of *complete aligned*
subtrees, ``node(level, index)`` = MTH of the ``2**level`` leaves starting at
``index * 2**level``; :func:`append_leaf` maintains them in O(log n) writes per leaf, and every
other subtree hash, root and proof is computed from them in O(log n) reads.

Proof generation follows RFC 6962 section 2.1.1 (PATH) and 2.1.2 (PROOF/SUBPROOF); verification
follows the algorithms of RFC 9162 sections 2.1.3.2 and 2.1.4.2, which need only the proof.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Protocol

from signatures.errors import ConsistencyProofInvalid, InclusionProofInvalid

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
"""MTH({}) = SHA-256() (RFC 6962 section 2.1)."""

NodeReader = Callable[[int, int], bytes]
NodeWriter = Callable[[int, int, bytes], None]


class SubtreeSource(Protocol):
    """Read access to the stored hashes of complete aligned subtrees."""

    def node(self, level: int, index: int) -> bytes:
        """MTH of the ``2**level`` leaves starting at leaf ``index * 2**level``."""
        ...


def leaf_hash(data: bytes) -> bytes:
    """MTH({d}) = SHA-256(0x00 || d) (RFC 6962 section 2.1)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right), the hash of an interior node (RFC 6962 section 2.1)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def subtree_hash(source: SubtreeSource, start: int, end: int) -> bytes:
    """MTH(D[start:end]) for a non-empty range of leaves.

    A complete aligned range is one stored node. Otherwise the range splits at the largest
    power of two ``k < end - start`` (RFC 6962 section 2.1). The ranges that MTH, PATH and
    SUBPROOF ask for start at a multiple of ``2**ceil(log2(end - start))``, so their left part is
    always a stored node and the cost is O(log n) reads.
    """
    if not 0 <= start < end:
        raise ValueError(f"not a non-empty range of leaves: [{start}, {end})")
    width = end - start
    if width & (width - 1) == 0 and start % width == 0:
        level = width.bit_length() - 1
        return source.node(level, start >> level)
    k = _split(width)
    return node_hash(subtree_hash(source, start, start + k), subtree_hash(source, start + k, end))


def root(source: SubtreeSource, size: int) -> bytes:
    """MTH(D[0:size]), the root hash of the tree holding the first ``size`` leaves."""
    if size < 0:
        raise ValueError(f"a tree size cannot be negative: {size}")
    return EMPTY_ROOT if size == 0 else subtree_hash(source, 0, size)


def inclusion_proof(source: SubtreeSource, leaf_index: int, size: int) -> list[bytes]:
    """PATH(m, D[0:size]) of RFC 6962 section 2.1.1, ordered from the leaf upwards."""
    return _path(lambda start, end: subtree_hash(source, start, end), leaf_index, size)


class InclusionProofs:
    """Inclusion proofs of many leaves in one tree of ``size`` leaves (a packet's, one an
    event), each :func:`inclusion_proof` gives.

    A proof names, besides stored nodes, the hashes of subtrees that end at the tree's right
    edge and are not complete: of the same few ranges for most leaves (at most one a level),
    which :func:`inclusion_proof` hashed again for each. Here each is hashed once.
    """

    def __init__(self, source: SubtreeSource, size: int) -> None:
        self._source = source
        self.size = size
        self._right_edge: dict[int, bytes] = {}

    def of(self, leaf_index: int) -> list[bytes]:
        """PATH(leaf_index, D[0:size]), ordered from the leaf upwards."""
        return _path(self._subtree, leaf_index, self.size)

    def _subtree(self, start: int, end: int) -> bytes:
        if end < self.size:  # PATH's ranges short of the edge are complete: one stored node
            return subtree_hash(self._source, start, end)
        kept = self._right_edge.get(start)
        if kept is None:
            kept = self._right_edge[start] = subtree_hash(self._source, start, end)
        return kept


def _path(subtree: Callable[[int, int], bytes], leaf_index: int, size: int) -> list[bytes]:
    """PATH(m, D[0:size]), each subtree's hash asked of ``subtree(start, end)``."""
    if not 0 <= leaf_index < size:
        raise ValueError(f"leaf {leaf_index} is not in a tree of size {size}")
    proof: list[bytes] = []
    start, end, m = 0, size, leaf_index
    while end - start > 1:
        k = _split(end - start)
        if m < k:
            proof.append(subtree(start + k, end))
            end = start + k
        else:
            proof.append(subtree(start, start + k))
            start, m = start + k, m - k
    proof.reverse()
    return proof


def consistency_proof(source: SubtreeSource, old_size: int, new_size: int) -> list[bytes]:
    """PROOF(old_size, D[0:new_size]) of RFC 6962 section 2.1.2 (empty when either tree is)."""
    if not 0 <= old_size <= new_size:
        raise ValueError(f"no consistency proof from size {old_size} to size {new_size}")
    if old_size in (0, new_size):
        return []
    proof: list[bytes] = []
    start, end, m, whole = 0, new_size, old_size, True
    while m != end - start:  # SUBPROOF(m, D[start:end], whole)
        k = _split(end - start)
        if m <= k:
            proof.append(subtree_hash(source, start + k, end))
            end = start + k
        else:
            proof.append(subtree_hash(source, start, start + k))
            start, m, whole = start + k, m - k, False
    if not whole:
        proof.append(subtree_hash(source, start, end))
    proof.reverse()
    return proof


def append_leaf(
    read_node: NodeReader, write_node: NodeWriter, leaf_index: int, data: bytes
) -> bytes:
    """Add leaf number ``leaf_index`` (0-based, the next one) to a node store; return its hash.

    Writes node(0, n), then, while the node just written is a right child, its parent: at most
    log2(n) + 1 writes and log2(n) reads, all of nodes that already exist.
    """
    hashed = leaf_hash(data)
    append_leaf_hash(read_node, write_node, leaf_index, hashed)
    return hashed


def append_leaf_hash(
    read_node: NodeReader, write_node: NodeWriter, leaf_index: int, hashed: bytes
) -> None:
    """As :func:`append_leaf`, for a leaf whose hash is already known."""
    if leaf_index < 0:
        raise ValueError(f"a leaf index cannot be negative: {leaf_index}")
    level, index, current = 0, leaf_index, hashed
    write_node(0, leaf_index, hashed)
    while index & 1:
        current = node_hash(read_node(level, index - 1), current)
        level, index = level + 1, index >> 1
        write_node(level, index, current)


class InMemoryTree:
    """A :class:`SubtreeSource` held in memory, for verifiers that rebuild a tree from leaves.

    Each level's hashes are kept end to end in one ``bytearray`` (an append completes the
    nodes of a level in index order): 32 bytes a node, about 64 a leaf, where a dict of
    ``(level, index)`` keys took some 500. A site copy of ten million events holds its whole
    log's tree (issue 21, point 4).
    """

    def __init__(self, leaves: Iterable[bytes] = ()) -> None:
        self._levels: list[bytearray] = []
        self.size = 0
        for data in leaves:
            self.append(data)

    def node(self, level: int, index: int) -> bytes:
        """The stored hash of a complete aligned subtree; KeyError if it is not complete yet."""
        if (
            0 <= level < len(self._levels)
            and index >= 0
            and (index + 1) * HASH_SIZE <= len(self._levels[level])
        ):
            return bytes(self._levels[level][index * HASH_SIZE : (index + 1) * HASH_SIZE])
        raise KeyError((level, index))

    def append(self, data: bytes) -> bytes:
        """Append one leaf and return its leaf hash."""
        hashed = append_leaf(self.node, self._write, self.size, data)
        self.size += 1
        return hashed

    def append_hash(self, hashed: bytes) -> None:
        """Append one leaf given its leaf hash (computed elsewhere, e.g. in a worker process)."""
        append_leaf_hash(self.node, self._write, self.size, hashed)
        self.size += 1

    def root(self) -> bytes:
        """The root hash of the whole tree."""
        return root(self, self.size)

    def nodes(self) -> Mapping[tuple[int, int], bytes]:
        """Every stored node, keyed by (level, index) (a new dict: for tests and small trees)."""
        return {
            (level, index): bytes(hashes[index * HASH_SIZE : (index + 1) * HASH_SIZE])
            for level, hashes in enumerate(self._levels)
            for index in range(len(hashes) // HASH_SIZE)
        }

    def _write(self, level: int, index: int, value: bytes) -> None:
        if level == len(self._levels):
            self._levels.append(bytearray())
        hashes = self._levels[level]
        if len(value) != HASH_SIZE or len(hashes) != index * HASH_SIZE:
            # append_leaf_hash completes each level's nodes in order, each once.
            raise ValueError(f"node ({level}, {index}) is not the next of its level")
        hashes += value


class FrontierTree:
    """A tree being built leaf by leaf of which only the :func:`frontier` is kept (one hash per
    bit of its size): its root at every size as it passes, in O(log n) memory.

    Each append returns the complete aligned subtrees it completes, ``(level, index, hash)``
    from the leaf up, as :func:`append_leaf_hash` would write them: what a verifier compares
    with stored nodes as it goes, without holding the tree.
    """

    def __init__(self) -> None:
        self.size = 0
        self._frontier: list[bytes] = []

    def append_hash(self, hashed: bytes) -> list[tuple[int, int, bytes]]:
        """Append one leaf given its leaf hash; the nodes it completes, leaf first."""
        level, index, current = 0, self.size, hashed
        completed = [(0, index, hashed)]
        while index & 1:
            current = node_hash(self._frontier.pop(), current)
            level, index = level + 1, index >> 1
            completed.append((level, index, current))
        self._frontier.append(current)
        self.size += 1
        return completed

    def root(self) -> bytes:
        """MTH of the leaves appended so far (the frontier folded from the right)."""
        if not self._frontier:
            return EMPTY_ROOT
        current = self._frontier[-1]
        for left in reversed(self._frontier[:-1]):
            current = node_hash(left, current)
        return current


def frontier(size: int) -> list[tuple[int, int]]:
    """The (level, index) of the complete aligned subtrees that make up the first ``size``
    leaves, largest (leftmost) first: one per bit set in ``size``.

    They are the old tree's part of every consistency proof from ``size`` (RFC 6962 section
    2.1.2: each hash of such a proof covers only old or only new leaves, and its old ones are
    these; the proof leaves out the one node when ``size`` is a power of two, for it is the old
    root itself). Folded from the right, they give the root of the first ``size`` leaves.
    """
    if size < 0:
        raise ValueError(f"a tree size cannot be negative: {size}")
    nodes, start = [], 0
    for level in reversed(range(size.bit_length())):
        if size >> level & 1:
            nodes.append((level, start >> level))
            start += 1 << level
    return nodes


class TreeExtension:
    """A tree known by the :func:`frontier` of its first ``old_size`` leaves and the leaf hashes
    appended after them: a :class:`SubtreeSource` for every size from ``old_size`` on.

    This is what a verifier who kept a checkpoint needs to check what came after it without
    reading the leaves it covers: the frontier's hashes fold to the checkpoint's root (check
    :meth:`root` at ``old_size`` against it), and every later root is computed here from them
    and the new leaves, never read from the store.
    """

    def __init__(self, old_size: int, frontier_hashes: Mapping[tuple[int, int], bytes]) -> None:
        missing = set(frontier(old_size)) - set(frontier_hashes)
        if missing:
            raise ValueError(f"the frontier of size {old_size} lacks nodes {sorted(missing)}")
        self.old_size = old_size
        self.size = old_size
        self._old = {pair: frontier_hashes[pair] for pair in frontier(old_size)}
        self._new: dict[tuple[int, int], bytes] = {}

    def append_hash(self, hashed: bytes) -> None:
        """Append the next leaf, given its leaf hash."""
        self._new[(0, self.size)] = hashed
        self.size += 1

    def node(self, level: int, index: int) -> bytes:
        """The hash of a complete aligned subtree of the extended tree; KeyError if its leaves
        are not all there, or if it lies inside the old tree and is not a frontier node."""
        end = (index + 1) << level
        if end > self.size or index < 0 or level < 0:
            raise KeyError((level, index))
        if end <= self.old_size:
            return self._old[(level, index)]
        found = self._new.get((level, index))
        if found is None:
            # Above a frontier node or over new leaves alone: computed once, from its children.
            found = node_hash(self.node(level - 1, 2 * index), self.node(level - 1, 2 * index + 1))
            self._new[(level, index)] = found
        return found

    def root(self, size: int | None = None) -> bytes:
        """The root of the first ``size`` leaves (the whole tree by default); ``size`` must be
        at least the old size."""
        size = self.size if size is None else size
        if not self.old_size <= size <= self.size:
            raise ValueError(f"size {size} is not between {self.old_size} and {self.size}")
        return root(self, size)


def verify_inclusion(
    leaf_hash: bytes, leaf_index: int, tree_size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf_hash`` is leaf ``leaf_index`` of the tree of this size and root.

    The algorithm of RFC 9162 section 2.1.3.2, after checking that every hash is 32 bytes.

    Raises:
        InclusionProofInvalid: the index is not below the size, a hash has the wrong length,
            the proof has the wrong number of hashes, or it leads to another root.
    """
    if not 0 <= leaf_index < tree_size:
        raise InclusionProofInvalid(
            "leaf %(leaf_index)s is not in a tree of size %(tree_size)s",
            leaf_index=leaf_index,
            tree_size=tree_size,
        )
    _check_lengths(InclusionProofInvalid, leaf_hash, root, *proof)
    r = leaf_hash
    for p, on_the_left in _climb(InclusionProofInvalid, leaf_index, tree_size - 1, proof):
        r = node_hash(p, r) if on_the_left else node_hash(r, p)
    if not hmac.compare_digest(r, root):
        raise InclusionProofInvalid("the inclusion proof leads to another root")


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Check that the tree of ``old_size`` leaves is a prefix of the tree of ``new_size``.

    Equal sizes need equal roots and an empty proof; the empty tree (whose root must be
    SHA-256 of nothing) is a prefix of every tree, with an empty proof. Otherwise the algorithm
    of RFC 9162 section 2.1.4.2 applies.

    Raises:
        ConsistencyProofInvalid: the sizes go backwards, a hash has the wrong length, the
            proof has the wrong number of hashes, or it does not reproduce both roots.
    """
    if not 0 <= old_size <= new_size:
        raise ConsistencyProofInvalid(
            "a tree cannot shrink from %(old_size)s to %(new_size)s",
            old_size=old_size,
            new_size=new_size,
        )
    _check_lengths(ConsistencyProofInvalid, old_root, new_root, *proof)
    if old_size == 0 and not hmac.compare_digest(old_root, EMPTY_ROOT):
        raise ConsistencyProofInvalid("the root of the empty tree is SHA-256 of nothing")
    if old_size in (0, new_size):
        if proof:
            raise ConsistencyProofInvalid("this consistency proof must be empty")
        if old_size == new_size and not hmac.compare_digest(old_root, new_root):
            raise ConsistencyProofInvalid("two trees of the same size have different roots")
        return
    if not proof:
        raise ConsistencyProofInvalid("the consistency proof is empty")
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c, on_the_left in _climb(ConsistencyProofInvalid, fn, sn, path[1:]):
        if on_the_left:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
        else:
            sr = node_hash(sr, c)
    if not hmac.compare_digest(fr, old_root):
        raise ConsistencyProofInvalid("the consistency proof does not lead to the old root")
    if not hmac.compare_digest(sr, new_root):
        raise ConsistencyProofInvalid("the consistency proof does not lead to the new root")


def _split(width: int) -> int:
    """The largest power of two strictly smaller than ``width`` (which is at least 2)."""
    return 1 << ((width - 1).bit_length() - 1)


def _climb(
    error: type[InclusionProofInvalid | ConsistencyProofInvalid],
    fn: int,
    sn: int,
    hashes: Iterable[bytes],
) -> Iterator[tuple[bytes, bool]]:
    """The hashes of a proof, each with whether it is the left sibling of the node reached.

    The walk up the tree that the verifications of RFC 9162 sections 2.1.3.2 and 2.1.4.2
    share: ``fn`` is the index of the node it starts from, ``sn`` the last index of its level.

    Raises:
        InclusionProofInvalid, ConsistencyProofInvalid (``error``): the walk reaches the root
            before the hashes run out, or they run out before it reaches the root.
    """
    proof = "inclusion" if error is InclusionProofInvalid else "consistency"
    for h in hashes:
        if sn == 0:
            raise error(f"the {proof} proof has too many hashes")
        on_the_left = bool(fn & 1) or fn == sn
        yield h, on_the_left
        if on_the_left:
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise error(f"the {proof} proof has too few hashes")


def _check_lengths(
    error: type[InclusionProofInvalid | ConsistencyProofInvalid], *hashes: bytes
) -> None:
    for value in hashes:
        if len(value) != HASH_SIZE:
            raise error(f"a SHA-256 hash has {HASH_SIZE} bytes, not {len(value)}")
