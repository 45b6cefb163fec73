"""The Merkle log over the whole event log, kept in the same transaction as the events.

eventsourcing's recorders insert a save's events in one transaction. sealtrail's recorders
(:mod:`infrastructure.store.recorders`) add, in that same transaction, one RFC 6962 leaf per
event (in log order) and the interior nodes that the new leaves complete: an append costs
O(log n) node reads and writes, and the tree is never recomputed, not even after a restart,
because every complete subtree is stored. The log and its tree therefore cannot disagree after
a crash: either both have the event or neither does.

Leaves are numbered 0, 1, 2... in log order; PostgreSQL's notification ids may have gaps, so each
leaf also records the log position of its event (and commits to it in its data).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    DateTime,
    Engine,
    Integer,
    LargeBinary,
    MetaData,
    Select,
    String,
    Table,
    Text,
    and_,
    bindparam,
    func,
    insert,
    inspect,
    or_,
    select,
)
from sqlalchemy.exc import DBAPIError

from infrastructure.store.sealed_batch import PendingLeaf
from infrastructure.store.statements import BoundStatement, Statements
from signatures.merkle import append_leaf, frontier

metadata = MetaData()


def _key(name: str, kind: type[BigInteger | Integer]) -> Column[Any]:
    # The tree's numbering, not the database's: a key the log assigns, never autoincremented.
    return Column(name, kind, primary_key=True, autoincrement=False)


merkle_leaves = Table(
    "merkle_leaves",
    metadata,
    _key("leaf_index", BigInteger),
    Column("position", BigInteger, nullable=False, unique=True),
    Column("leaf_hash", LargeBinary, nullable=False),
)

merkle_nodes = Table(
    "merkle_nodes",
    metadata,
    _key("level", Integer),
    _key("node_index", BigInteger),
    Column("hash", LargeBinary, nullable=False),
)

checkpoints = Table(
    "checkpoints",
    metadata,
    _key("tree_size", BigInteger),
    Column("root", LargeBinary, nullable=False),
    Column("note", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

log_identity = Table(
    "log_identity",
    metadata,
    # One row, written once by the first process that opens the store (``sealtrail init``).
    _key("singleton", Integer),
    Column("origin", Text, nullable=False),
)
"""The log's origin, the name its checkpoints are signed under: kept with the store so that
every command, a restored copy and a replica's reader find it without a setting."""

cosignatures = Table(
    "cosignatures",
    metadata,
    _key("tree_size", BigInteger),
    Column("witness", String(64), primary_key=True),
    Column("cosigned_at", BigInteger, primary_key=True, autoincrement=False),
    Column("key_id", String(48), nullable=False),
    Column("line", Text, nullable=False),
    Column("checkpoint", Text, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
)
"""Witnesses' cosignatures (c2sp.org/tlog-cosignature) of the checkpoint of ``tree_size``: the
witness's user id (its note key name), the POSIX time it signed, the id of its registered key,
the signature line as it sent it and the checkpoint text it signed, kept so that a verifier can
say of a stored cosignature that it is of another origin or checkpoint, not only that it fails."""

checkpoint_timestamps = Table(
    "checkpoint_timestamps",
    metadata,
    # One attempt per checkpoint, made when it is sealed (docs/timestamps.md): the time-stamping
    # authority's DER answer, or why there is none.
    _key("tree_size", BigInteger),
    Column("requested_at", DateTime(timezone=True), nullable=False),
    Column("response", LargeBinary, nullable=True),
    Column("failure", Text, nullable=True),
    # The server's signed statement of the failure (signatures/stamp_failures.py): added after
    # stores were made with the table (ADDED_COLUMNS).
    Column("failure_statement", Text, nullable=True),
)
"""RFC 3161 time-stamps over the checkpoints' signed notes (:mod:`signatures.timestamps`)."""

ADDED_COLUMNS = ((checkpoint_timestamps, "failure_statement"),)
"""Nullable columns a table gained after stores were made with it: ``create_all`` creates a
missing table, never a missing column, so :func:`add_columns` adds these to an older store."""

APPEND_ONLY_TABLES = (
    "merkle_leaves",
    "merkle_nodes",
    "checkpoints",
    "log_identity",
    "cosignatures",
    "checkpoint_timestamps",
)


def add_columns(engine: Engine) -> None:
    """Give an older store's tables the columns they gained since (:data:`ADDED_COLUMNS`), NULL
    in the rows it has: ``ALTER TABLE ... ADD COLUMN`` on SQLite and PostgreSQL alike, which the
    append-only triggers (row-level, on UPDATE and DELETE) let through. Run where the tables are
    made, under the schema lock (PostgreSQL); a store that has them is left as it is."""
    for table, name in ADDED_COLUMNS:
        if _has_column(engine, table, name):
            continue
        column = table.c[name]
        try:
            with engine.begin() as connection:
                quote = connection.dialect.identifier_preparer
                connection.exec_driver_sql(
                    f"ALTER TABLE {quote.format_table(table)} ADD COLUMN "
                    f"{quote.format_column(column)} {column.type.compile(connection.dialect)}"
                )
        except DBAPIError:
            # SQLite has no schema lock: another process starting at once added it first.
            if not _has_column(engine, table, name):
                raise


def _has_column(engine: Engine, table: Table, name: str) -> bool:
    with engine.connect() as connection:
        columns = inspect(connection).get_columns(table.name)
    return name in {column["name"] for column in columns}


TREE_SIZE = select(func.max(merkle_leaves.c.leaf_index))
ADD_LEAF = insert(merkle_leaves)
ADD_NODE = insert(merkle_nodes)


def _nodes_among(count: int) -> tuple[Select[tuple[int, int, bytes]], tuple[str, ...]]:
    """The stored nodes at ``count`` (level, index) pairs, and its parameters' names in order:
    ``level_0, index_0, level_1, index_1...``."""
    nodes = merkle_nodes.c
    names = tuple(f"{kind}_{n}" for n in range(count) for kind in ("level", "index"))
    statement = select(nodes.level, nodes.node_index, nodes.hash).where(
        or_(
            *(
                and_(
                    nodes.level == bindparam(f"level_{n}"),
                    nodes.node_index == bindparam(f"index_{n}"),
                )
                for n in range(count)
            )
        )
    )
    return statement, names


@dataclass(frozen=True)
class _TreeSQL:
    """The statements of an append, compiled for one dialect."""

    statements: Statements
    size: BoundStatement
    add_leaf: BoundStatement
    add_node: BoundStatement
    among: dict[int, BoundStatement] = field(default_factory=dict)

    def nodes_among(self, count: int) -> BoundStatement:
        """The stored nodes at ``count`` (level, index) pairs, given flat in that order."""
        found = self.among.get(count)
        if found is None:
            found = self.among[count] = self.statements.bound(*_nodes_among(count))
        return found


@cache
def _tree_sql(statements: Statements) -> _TreeSQL:
    return _TreeSQL(
        statements,
        statements.bound(TREE_SIZE, ()),
        statements.bound(ADD_LEAF, ("leaf_index", "position", "leaf_hash")),
        statements.bound(ADD_NODE, ("level", "node_index", "hash")),
    )


@dataclass(frozen=True)
class Frontier:
    """A tree's size and its :func:`~signatures.merkle.frontier` nodes (its greatest complete
    subtrees, one per bit set in the size: every stored node an append at that size combines
    with), as one committed append left them."""

    size: int
    nodes: dict[tuple[int, int], bytes]


class FrontierCache:
    """The frontier this process's last committed append left, kept between appends.

    A stored node never changes (the table's triggers refuse it), so the nodes are good for as
    long as the tree has the size they were kept at: an append that reads another size (another
    process appended meanwhile) reads them from the table instead. Kept only once the append's
    transaction has committed (:meth:`keep`); replaced whole, so a thread reads a size and its
    nodes together.
    """

    def __init__(self) -> None:
        self.current: Frontier | None = None

    def at(self, size: int) -> dict[tuple[int, int], bytes] | None:
        """The frontier's nodes if they were kept at ``size``, else None."""
        current = self.current
        return dict(current.nodes) if current is not None and current.size == size else None

    def keep(self, frontier: Frontier | None) -> None:
        """Keep what a committed append left (None: nothing to keep)."""
        if frontier is not None:
            self.current = frontier


class TreeWriter:
    """The tree's appends, on a recorder's own cursor inside its insert's transaction."""

    def __init__(
        self, statements: Statements, cursor: Any, frontiers: FrontierCache | None = None
    ) -> None:
        self._sql = _tree_sql(statements)
        self._cursor = cursor
        self._frontiers = frontiers if frontiers is not None else FrontierCache()
        self._nodes: dict[tuple[int, int], bytes] = {}
        self.left: Frontier | None = None
        """The frontier the last :meth:`append` left, for :meth:`FrontierCache.keep` once its
        transaction commits."""

    @property
    def size_statement(self) -> BoundStatement:
        """The tree's largest leaf index, for a recorder that reads it with other things."""
        return self._sql.size

    def append(
        self, positions: Sequence[int], leaves: Sequence[PendingLeaf], size: int | None = None
    ) -> None:
        """One leaf per stored event, in log order, and the interior nodes they complete.

        ``size`` is the tree's size read in this transaction (read here if not given).
        """
        if len(positions) != len(leaves):
            raise RuntimeError("every stored event needs exactly one Merkle leaf")
        if size is None:
            size = tree_size(self._sql.size.rows(self._cursor, ()))
        kept = self._frontiers.at(size)
        self._nodes = kept if kept is not None else self._frontier_stored(size)
        for offset, (position, leaf) in enumerate(zip(positions, leaves, strict=True)):
            leaf_index = size + offset
            hashed = append_leaf(self._read, self._write, leaf_index, leaf.make(position))
            self._sql.add_leaf.run(self._cursor, (leaf_index, position, hashed))
            leaf.leaf_index, leaf.position = leaf_index, position
        grown = size + len(leaves)
        wanted = frontier(grown)
        if all(node in self._nodes for node in wanted):
            self.left = Frontier(grown, {node: self._nodes[node] for node in wanted})

    def _frontier_stored(self, size: int) -> dict[tuple[int, int], bytes]:
        """The frontier's nodes at ``size``, fetched in one query: every stored node an append
        at that size combines with, whatever the number of leaves it appends."""
        wanted = frontier(size)
        if not wanted:
            return {}
        values = tuple(value for pair in wanted for value in pair)
        rows = self._sql.nodes_among(len(wanted)).rows(self._cursor, values)
        return {(int(level), int(index)): bytes(value) for level, index, value in rows}

    def _read(self, level: int, index: int) -> bytes:
        return self._nodes[(level, index)]

    def _write(self, level: int, index: int, value: bytes) -> None:
        self._nodes[(level, index)] = value
        self._sql.add_node.run(self._cursor, (level, index, value))


def tree_size(rows: Sequence[Sequence[Any]]) -> int:
    """The tree's size from the rows of its largest leaf index."""
    largest = rows[0][0] if rows else None
    return 0 if largest is None else int(largest) + 1


class StoredTree:
    """The stored tree, read through SQLAlchemy: a :class:`~signatures.merkle.SubtreeSource`."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def node(self, level: int, index: int) -> bytes:
        """The hash of a complete aligned subtree; KeyError if the tree has not got it."""
        value = self._connection.execute(
            select(merkle_nodes.c.hash).where(
                merkle_nodes.c.level == level, merkle_nodes.c.node_index == index
            )
        ).scalar_one_or_none()
        if value is None:
            raise KeyError((level, index))
        return bytes(value)

    def size(self) -> int:
        """How many leaves the tree has."""
        largest = self._connection.execute(
            select(merkle_leaves.c.leaf_index).order_by(merkle_leaves.c.leaf_index.desc()).limit(1)
        ).scalar_one_or_none()
        return 0 if largest is None else int(largest) + 1

    def leaf_of_position(self, position: int) -> tuple[int, bytes] | None:
        """The leaf index and leaf hash of the event at a log position."""
        row = self._connection.execute(
            select(merkle_leaves.c.leaf_index, merkle_leaves.c.leaf_hash).where(
                merkle_leaves.c.position == position
            )
        ).one_or_none()
        return None if row is None else (int(row[0]), bytes(row[1]))
