"""The tree's appends with the frontier kept between them (infrastructure/store/merkle_log.py):
every node stored is the RFC 6962 tree's, whether the frontier was kept by the last append,
left stale by another writer's, or never kept because the append's transaction rolled back."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from infrastructure.store.merkle_log import (
    FrontierCache,
    TreeWriter,
    merkle_nodes,
    metadata,
)
from infrastructure.store.sealed_batch import PendingLeaf
from infrastructure.store.statements import SQLITE
from signatures.merkle import InMemoryTree


def leaf(position: int) -> bytes:
    return b"event at %d" % position


class Log:
    """A tree in a SQLite file, appended as a recorder appends it, and the tree it must be."""

    def __init__(self, path: Path) -> None:
        engine = create_engine(f"sqlite:///{path}")
        metadata.create_all(engine)
        engine.dispose()
        self.connection = sqlite3.connect(path, isolation_level=None)
        self.expected = InMemoryTree()

    def append(self, count: int, frontiers: FrontierCache, *, commit: bool = True) -> None:
        cursor = self.connection.cursor()
        cursor.execute("BEGIN")
        first = self.expected.size + 1
        positions = list(range(first, first + count))
        writer = TreeWriter(SQLITE, cursor, frontiers)
        writer.append(positions, [PendingLeaf(leaf) for _ in positions])
        if not commit:
            cursor.execute("ROLLBACK")
            return
        cursor.execute("COMMIT")
        frontiers.keep(writer.left)
        for position in positions:
            self.expected.append(leaf(position))

    def stored_nodes(self) -> dict[tuple[int, int], bytes]:
        table = merkle_nodes.name
        rows = self.connection.execute(f"SELECT level, node_index, hash FROM {table}")
        return {(level, index): bytes(value) for level, index, value in rows}


@pytest.mark.requirement("URS-merkle-1")
def test_appends_with_a_kept_stale_or_lost_frontier_store_the_rfc_6962_tree(
    tmp_path: Path,
) -> None:
    log = Log(tmp_path / "tree.sqlite3")
    ours, another_process = FrontierCache(), FrontierCache()
    for count in (1, 1, 3, 2, 5, 1, 1, 8):  # kept by the last append
        log.append(count, ours)
    assert ours.current is not None and ours.current.size == log.expected.size
    log.append(3, another_process)  # ours is stale now: its size is not the tree's
    log.append(2, ours)
    log.append(4, ours, commit=False)  # rolled back: nothing kept, nothing stored
    assert ours.current is not None and ours.current.size == log.expected.size
    log.append(1, ours)
    log.append(7, another_process)
    log.append(1, ours)

    assert log.stored_nodes() == log.expected.nodes()
