"""The stored Merkle leaves against the events, and the stored nodes against the stored leaves,
checked as a verify reads the events in log order.

Nothing here holds the log: the events wait only until the stored leaf that names them is read
(in an untouched store, the next one), the tree derived from the stored leaves is kept as its
frontier (:class:`signatures.merkle.FrontierTree`), and the stored nodes are read level by level
in index order, each compared as the derived tree completes it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from infrastructure.verification.log_checks import EventFacts, Finding
from signatures.merkle import FrontierTree

StoredLeaf = tuple[int, int, Any]
"""A stored leaf: its index, the position of the event it names, its hash (bytes-like)."""
StoredNode = tuple[int, int, Any]
"""A stored node: its level, its index, its hash (bytes-like)."""

_ALL = object()


class LeafMatch:
    """Each stored leaf names an event that is there, in log order, with the leaf's hash; and
    every event has a leaf.

    The events are :meth:`add`-ed in log order; :meth:`advance` then matches the stored leaves
    that name positions up to the last event added (every event they could name has come).
    """

    def __init__(
        self,
        stored_leaves: Iterable[StoredLeaf],
        on_leaf: Callable[[bytes], None] | None = None,
    ) -> None:
        self.findings: list[Finding] = []
        self._leaves = iter(stored_leaves)
        self._next: StoredLeaf | None = None
        self._waiting: dict[int, EventFacts] = {}
        self._previous_position = 0
        self._last: int | None = None
        self._on_leaf = on_leaf

    def add(self, fact: EventFacts) -> None:
        """The next event of the log, which a stored leaf should name."""
        self._waiting[fact.position] = fact
        self._last = fact.position

    def advance(self) -> None:
        """Match the stored leaves up to the last event added."""
        if self._last is not None:
            self._match(self._last)

    def finish(self) -> list[Finding]:
        """Match the remaining stored leaves; every event no leaf named is a finding."""
        self._match(_ALL)
        self.findings += [
            Finding(
                fact.position,
                str(fact.stream_id),
                fact.version,
                "leaf-missing",
                "the event has no leaf in the Merkle log",
            )
            for fact in self._waiting.values()
        ]
        self._waiting.clear()
        return self.findings

    def _match(self, upto: object) -> None:
        while True:
            leaf = self._next if self._next is not None else next(self._leaves, None)
            if leaf is None:
                return
            if upto is not _ALL and leaf[1] > upto:  # type: ignore[operator]
                self._next = leaf
                return
            self._next = None
            self._check(leaf)

    def _check(self, leaf: StoredLeaf) -> None:
        leaf_index, position, stored_hash = leaf
        stored = bytes(stored_hash)
        if self._on_leaf is not None:
            self._on_leaf(stored)
        fact = self._waiting.pop(position, None)
        if fact is None:
            self.findings.append(
                Finding(
                    position,
                    None,
                    None,
                    "event-missing",
                    f"leaf {leaf_index} of the Merkle log names an event that is not there",
                )
            )
        elif fact.leaf_hash is not None and fact.leaf_hash != stored:
            self.findings.append(
                Finding(
                    position,
                    str(fact.stream_id),
                    fact.version,
                    "leaf-mismatch",
                    f"the event is not the one leaf {leaf_index} of the Merkle log recorded "
                    "(another event, another stream or version, or another recording time)",
                )
            )
        if position <= self._previous_position:
            self.findings.append(
                Finding(
                    position,
                    None,
                    None,
                    "log-reordered",
                    f"leaf {leaf_index} names position {position} after {self._previous_position}",
                )
            )
        self._previous_position = position


def check_leaves(stored_leaves: Iterable[StoredLeaf], facts: Iterable[EventFacts]) -> list[Finding]:
    """Each stored leaf names an event that is there, in log order, with the leaf's hash; and
    every event has a leaf (``facts`` in any order: all are taken before a leaf is read)."""
    match = LeafMatch(stored_leaves)
    for fact in facts:
        match.add(fact)
    return match.finish()


class NodeCheck:
    """Each stored interior node is the hash of the stored leaves beneath it.

    The stored leaves' hashes are :meth:`add`-ed in leaf order; ``levels`` are the stored nodes
    of each level in index order (only those over the leaves the verify answers for). Each node
    the derived tree completes is compared with the stored one at its place as it comes; a stored
    node the derived tree never completes is a finding too.
    """

    def __init__(self, levels: Mapping[int, Iterator[StoredNode]]) -> None:
        self.findings: list[Finding] = []
        self._tree = FrontierTree()
        self._levels = {level: _Level(nodes, self.findings) for level, nodes in levels.items()}

    def add(self, stored_hash: bytes) -> None:
        """The next stored leaf's hash."""
        levels = self._levels
        for level, index, value in self._tree.append_hash(stored_hash):
            nodes = levels.get(level)
            if nodes is not None:
                nodes.meet(index, value)

    def finish(self) -> list[Finding]:
        """The stored nodes left over: none of them is over leaves that are there."""
        for level in sorted(self._levels):
            self._levels[level].rest()
        return self.findings


class _Level:
    """The stored nodes of one level, read in index order as the derived tree completes its."""

    def __init__(self, nodes: Iterator[StoredNode], findings: list[Finding]) -> None:
        self._nodes = nodes
        self._findings = findings
        self._next = next(nodes, None)

    def meet(self, index: int, value: bytes) -> None:
        while self._next is not None and self._next[1] < index:
            self._mismatch(self._next)  # a place the derived tree has passed: nothing is there
            self._next = next(self._nodes, None)
        if self._next is not None and self._next[1] == index:
            if bytes(self._next[2]) != value:
                self._mismatch(self._next)
            self._next = next(self._nodes, None)

    def rest(self) -> None:
        while self._next is not None:
            self._mismatch(self._next)
            self._next = next(self._nodes, None)

    def _mismatch(self, node: StoredNode) -> None:
        level, index, _ = node
        self._findings.append(
            Finding.of_log(
                "tree-node-mismatch",
                f"stored node (level {level}, index {index}) is not the hash of the leaves "
                "beneath it",
            )
        )
