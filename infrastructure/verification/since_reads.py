"""The reads of the store that ``verify --since`` makes (:mod:`infrastructure.verification.since`):
the stored tree's nodes, each read once and many fetched together, and the events, leaves and
account events it needs, each by an index (a position, a stream and version, a leaf index), so
that none reads the whole log.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification
from sqlalchemy import Connection, column, func, select, table, text

from infrastructure.store.account_index import account_events_condition
from infrastructure.store.merkle_log import StoredTree, merkle_leaves, merkle_nodes
from infrastructure.verification.verifier import LogVerifier
from signatures.merkle import inclusion_proof


def nodes_after(connection: Connection, old: int, size: int) -> list[tuple[int, int, bytes]]:
    """The stored nodes over at least one leaf from ``old`` on, complete within ``size``."""
    found: list[tuple[int, int, bytes]] = []
    for level in range(size.bit_length()):
        rows = connection.execute(
            select(merkle_nodes.c.node_index, merkle_nodes.c.hash).where(
                merkle_nodes.c.level == level,
                merkle_nodes.c.node_index >= old >> level,
                merkle_nodes.c.node_index < size >> level,
            )
        ).all()
        found += [(level, int(index), bytes(value)) for index, value in rows]
    return found


def proof_nodes(leaf_indexes: list[int], size: int) -> set[tuple[int, int]]:
    """The (level, index) of every node the inclusion proofs of these leaves at ``size`` read
    (which nodes a proof reads does not depend on their hashes)."""
    wanted: set[tuple[int, int]] = set()

    class _Asked:
        def node(self, level: int, index: int) -> bytes:
            wanted.add((level, index))
            return bytes(32)

    for leaf_index in leaf_indexes:
        inclusion_proof(_Asked(), leaf_index, size)
    return wanted


class CachedTree:
    """The stored tree, each node read once: proofs of many old events share their upper nodes,
    and the nodes of many proofs are fetched together (:meth:`fetch`)."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._stored = StoredTree(connection)
        self._nodes: dict[tuple[int, int], bytes] = {}

    def fetch(self, wanted: set[tuple[int, int]]) -> None:
        """Read these nodes, a level and a few hundred indexes a query."""
        by_level: dict[int, list[int]] = {}
        for level, index in wanted - set(self._nodes):
            by_level.setdefault(level, []).append(index)
        nodes = merkle_nodes.c
        for level, indexes in by_level.items():
            for chunk in _chunks(sorted(indexes)):
                rows = self._connection.execute(
                    select(nodes.node_index, nodes.hash).where(
                        nodes.level == level, nodes.node_index.in_(chunk)
                    )
                ).all()
                self._nodes.update({(level, int(index)): bytes(value) for index, value in rows})

    def node(self, level: int, index: int) -> bytes:
        found = self._nodes.get((level, index))
        if found is None:
            found = self._nodes[(level, index)] = self._stored.node(level, index)
        return found


class SinceRows:
    """The reads of the store a check after a checkpoint needs, each by an index (a position,
    a stream and version, a leaf index): none reads the whole log."""

    def __init__(self, connection: Connection, verifier: LogVerifier) -> None:
        self._connection = connection
        self._verifier = verifier
        position = verifier.position_column
        self._events = table(
            verifier.events_table,
            column(position),
            column("originator_id"),
            column("originator_version"),
            column("topic"),
            column("state"),
        )
        self._position = self._events.c[position]
        self._sqlite = verifier.settings.is_sqlite

    def leaves_from(self, first: int, size: int) -> Sequence[Any]:
        """The stored leaves ``first`` to ``size - 1``."""
        leaves = merkle_leaves.c
        return self._connection.execute(
            select(leaves.leaf_index, leaves.position, leaves.leaf_hash)
            .where(leaves.leaf_index >= first, leaves.leaf_index < size)
            .order_by(leaves.leaf_index)
        ).all()

    def leaf_indexes(self, positions: list[int]) -> dict[int, int]:
        """The leaf index of each of these positions that has one."""
        found: dict[int, int] = {}
        leaves = merkle_leaves.c
        for chunk in _chunks(positions):
            rows = self._connection.execute(
                select(leaves.position, leaves.leaf_index).where(leaves.position.in_(chunk))
            ).all()
            found.update({int(position): int(index) for position, index in rows})
        return found

    def streams_after(self, after: int, last: int) -> dict[UUID, int]:
        """Each stream with an event in positions (after, last], and its first version there."""
        events = self._events.c
        rows = self._connection.execute(
            select(events.originator_id, func.min(events.originator_version))
            .where(self._position > after, self._position <= last)
            .group_by(events.originator_id)
        ).all()
        return {_uuid(stream): int(version) for stream, version in rows}

    def events(self, wanted: Iterable[tuple[UUID, int]], up_to: int) -> list[Notification]:
        """The stored events at these (stream, version) pairs, at positions up to ``up_to``:
        the streams of one version a few hundred a query, through the (stream, version) index
        (a list of pairs is not answered through it: SQLite read the whole table for one)."""
        by_version: dict[int, list[Any]] = {}
        for stream, version in wanted:
            by_version.setdefault(version, []).append(self._stream_key(stream))
        found: list[Notification] = []
        events = self._events.c
        for version, streams in by_version.items():
            for chunk in _chunks(sorted(set(streams))):
                found += self._notifications(
                    events.originator_id.in_(chunk),
                    events.originator_version == version,
                    self._position <= up_to,
                )
        return found

    def account_events(self, last: int) -> list[Notification]:
        """The account events up to position ``last``, in log order, through their index
        (:mod:`infrastructure.store.account_index`: its condition, word for word)."""
        return self._notifications(text(account_events_condition()), self._position <= last)

    def at_position(self, position: int) -> Notification | None:
        found = self._notifications(self._position == position)
        return found[0] if found else None

    def _notifications(self, *conditions: Any) -> list[Notification]:
        events = self._events.c
        rows = self._connection.execute(
            select(
                self._position,
                events.originator_id,
                events.originator_version,
                events.topic,
                events.state,
            )
            .where(*conditions)
            .order_by(self._position)
        ).all()
        return [
            Notification(
                id=int(position),
                originator_id=_uuid(stream),
                originator_version=int(version),
                topic=str(topic),
                state=bytes(state),
            )
            for position, stream, version, topic, state in rows
        ]

    def _stream_key(self, stream: UUID) -> Any:
        return stream.hex if self._sqlite else stream


def _uuid(value: Any) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))


def _chunks(values: list[Any], size: int = 400) -> Iterator[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]
