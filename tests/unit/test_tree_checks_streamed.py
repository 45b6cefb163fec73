"""verify checks the stored leaves and nodes as the events come, holding none of the log: it
must find exactly what a check over the whole log at once finds, however the store was altered.

The oracles below are that whole-log check as verify ran it before it streamed: every event by
position, every stored leaf and node in memory, the tree rebuilt with every node kept.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infrastructure.verification.log_checks import EventFacts, Finding
from infrastructure.verification.tree_checks import LeafMatch, NodeCheck
from signatures.merkle import FrontierTree, InMemoryTree, root

STREAM = uuid.uuid5(uuid.NAMESPACE_URL, "NCT01297972/RP-101")


def _hash(n: int) -> bytes:
    return hashlib.sha256(n.to_bytes(8, "big", signed=True)).digest()


def _fact(position: int) -> EventFacts:
    return EventFacts(position, STREAM, position, leaf_hash=_hash(position))


def _leaves_at_once(stored: Sequence[tuple[int, int, bytes]], facts: list[EventFacts]) -> list:
    by_position = {fact.position: fact for fact in facts}
    found: list[tuple[object, ...]] = []
    previous = 0
    for leaf_index, position, stored_hash in stored:
        fact = by_position.pop(position, None)
        if fact is None:
            found.append((position, "event-missing", leaf_index))
        elif fact.leaf_hash != stored_hash:
            found.append((position, "leaf-mismatch", leaf_index))
        if position <= previous:
            found.append((position, "log-reordered", leaf_index))
        previous = position
    return found + [(fact.position, "leaf-missing", None) for fact in by_position.values()]


def _kinds(findings: list[Finding]) -> list[tuple[object, ...]]:
    def leaf(detail: str) -> int | None:
        named = re.search(r"leaf (\d+)", detail)
        return int(named.group(1)) if named else None

    return [(finding.position, finding.kind, leaf(finding.detail)) for finding in findings]


# A store of n events altered: leaves dropped, duplicated, moved, pointed elsewhere or rehashed.
stores = st.integers(0, 40).flatmap(
    lambda n: st.tuples(
        st.just(n),
        st.lists(
            st.tuples(
                st.sampled_from(["drop", "copy", "swap", "point", "rehash"]),
                st.integers(0, max(n - 1, 0)),
                st.integers(-3, n + 3),
            ),
            max_size=4,
        ),
        st.sets(st.integers(1, max(n, 1)), max_size=3),  # events that are not there
    )
)


@pytest.mark.requirement("P11-11.10e-4")
@settings(max_examples=300, deadline=None)
@given(stores)
def test_leaves_matched_as_the_events_come_find_what_the_whole_log_check_finds(
    store: tuple[int, list[tuple[str, int, int]], set[int]],
) -> None:
    n, changes, gone = store
    leaves = [(index, index + 1, _hash(index + 1)) for index in range(n)]
    for change, at, value in changes:
        if not leaves:
            break
        at %= len(leaves)
        if change == "drop":
            del leaves[at]
        elif change == "copy":
            leaves.insert(at, leaves[at])
        elif change == "swap":
            other = value % len(leaves)
            leaves[at], leaves[other] = leaves[other], leaves[at]
        elif change == "point":
            leaves[at] = (leaves[at][0], value, leaves[at][2])
        else:
            leaves[at] = (leaves[at][0], leaves[at][1], _hash(value + 1000))
    facts = [_fact(position) for position in range(-2, n + 1) if position not in gone]
    facts = [fact for fact in facts if fact.position >= 1 or fact.position in (-2, 0)]
    match = LeafMatch(leaves)
    for start in range(0, len(facts), 3):  # a range of the log at a time, as from the pool
        for fact in facts[start : start + 3]:
            match.add(fact)
        match.advance()
    assert _kinds(match.finish()) == _leaves_at_once(leaves, facts)


@pytest.mark.requirement("P11-11.10e-4")
@settings(max_examples=200, deadline=None)
@given(
    st.integers(0, 70),
    st.lists(st.tuples(st.integers(-1, 7), st.integers(-2, 40), st.integers(0, 3)), max_size=5),
)
def test_nodes_checked_as_the_leaves_come_find_what_the_whole_tree_check_finds(
    leaves: int, changes: list[tuple[int, int, int]]
) -> None:
    hashes = [_hash(index) for index in range(leaves)]
    honest = InMemoryTree()
    for value in hashes:
        honest.append_hash(value)
    stored = dict(honest.nodes())
    for level, index, what in changes:  # rewritten, removed, or added where no node can be
        if what == 0:
            stored[(level, index)] = _hash(level * 100 + index)
        elif what == 1:
            stored.pop((level, index), None)
        else:
            stored[(level, index)] = honest.nodes().get((level, index), _hash(7))
    bound = max(leaves - 2, 0)  # the bound read before a writer added two more leaves
    within = {
        key: value for key, value in stored.items() if key[0] < 0 or (key[1] + 1) << key[0] <= bound
    }
    expected = InMemoryTree()
    for value in hashes[:bound]:
        expected.append_hash(value)
    at_once = sorted(key for key, value in within.items() if expected.nodes().get(key) != value)
    by_level: dict[int, list[tuple[int, int, bytes]]] = {}
    for (level, index), value in sorted(within.items()):
        by_level.setdefault(level, []).append((level, index, value))
    check = NodeCheck({level: iter(nodes) for level, nodes in by_level.items()})
    for value in hashes[:bound]:
        check.add(value)
    streamed = sorted(
        tuple(int(part.strip(",)")) for part in finding.detail.split()[3:6:2])
        for finding in check.finish()
    )
    assert streamed == at_once


def test_a_frontier_tree_completes_the_nodes_and_roots_of_the_whole_tree() -> None:
    whole, frontier = InMemoryTree(), FrontierTree()
    for n in range(1, 140):
        value = _hash(n)
        whole.append_hash(value)
        for level, index, node in frontier.append_hash(value):
            assert whole.node(level, index) == node
        assert frontier.root() == root(whole, n)
    assert FrontierTree().root() == root(InMemoryTree(), 0)
