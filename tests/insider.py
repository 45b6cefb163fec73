"""An insider with write access to the database and no key: a copy of a signed event appended.

The copy is made the way issue 15 found it could be: read an already-signed event's row, give
it the next version of its own subject's stream, chain it to that stream's head, and append it
with its Merkle leaf and the tree's new interior nodes, each computed with the project's own
public helpers (:mod:`signatures.chain`, :mod:`signatures.log_leaf`, :mod:`signatures.merkle`).
Nothing is signed anew: the author's signed bytes and signature are the original's. The log
then agrees with itself everywhere a hash can show (chain, leaves, nodes), and the next
checkpoint would sign it; only what the author signed can tell the copy from the original.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
from sqlalchemy.engine import URL

from domain.signed import stream_id
from domain.wire import recorded_instant
from signatures.chain import event_hash
from signatures.log_leaf import event_leaf
from signatures.merkle import InMemoryTree, leaf_hash

Execute = Callable[..., list[tuple[Any, ...]]]

SQLITE_TABLE = "stored_events"
POSTGRES_TABLE = "sealtrail_events"


@contextmanager
def connection(url: URL) -> Iterator[Execute]:
    """A connection of the insider's own to the database at ``url``; committed at the end.

    Statements are written with ``?`` placeholders (psycopg's ``%s`` on PostgreSQL).
    """
    if url.drivername.startswith("sqlite"):
        with closing(sqlite3.connect(str(Path(str(url.database))))) as lite:

            def execute_sqlite(statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
                return list(lite.execute(statement, params).fetchall())

            yield execute_sqlite
            lite.commit()
        return
    conninfo = f"host={url.host} port={url.port or 5432} user={url.username} dbname={url.database}"
    with psycopg.connect(conninfo) as postgres:  # commits when the block ends without error

        def execute_postgres(statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
            cursor = postgres.execute(statement.replace("?", "%s"), params)  # type: ignore[arg-type]
            return list(cursor.fetchall()) if cursor.description else []

        yield execute_postgres


def append_copy(url: URL, stream: str, version: int) -> int:
    """Append a copy of ``stream``'s event ``version`` at the end of that stream; its position.

    The copy takes the stream's next version, commits to the stream's head, is recorded now,
    and gets its leaf and the new interior nodes of the Merkle log, as the store would write them.
    """
    sqlite = url.drivername.startswith("sqlite")
    table = SQLITE_TABLE if sqlite else POSTGRES_TABLE
    position_column = "rowid" if sqlite else "notification_id"
    originator: Any = stream_id(stream).hex if sqlite else stream_id(stream)
    with connection(url) as execute:
        ((topic, original),) = execute(
            f"SELECT topic, state FROM {table} WHERE originator_id = ? AND originator_version = ?",
            (originator, version),
        )
        ((head_version, head_state),) = execute(
            f"SELECT originator_version, state FROM {table} WHERE originator_id = ? "
            "ORDER BY originator_version DESC LIMIT 1",
            (originator,),
        )
        head = json.loads(bytes(head_state))
        head_hash = _chain_hash(head)
        copy = json.loads(bytes(original))
        copy["previous_hash"] = head_hash
        recorded_at = datetime.now(UTC)
        copy["timestamp"] = {"_type_": "datetime_iso", "_data_": recorded_at.isoformat()}
        state = json.dumps(copy, separators=(",", ":")).encode("utf-8")
        next_version = head_version + 1
        inserted = execute(
            f"INSERT INTO {table} (originator_id, originator_version, topic, state) "
            f"VALUES (?, ?, ?, ?) RETURNING {position_column}",
            (originator, next_version, topic, state),
        )
        position = int(inserted[0][0])
        leaves = execute("SELECT leaf_hash FROM merkle_leaves ORDER BY leaf_index")
        tree = InMemoryTree()
        for (hashed,) in leaves:
            tree.append_hash(bytes(hashed))
        before = set(tree.nodes())
        leaf = leaf_hash(
            event_leaf(
                position=position,
                stream_id=UUID(str(stream_id(stream))).hex,
                version=next_version,
                recorded_at=recorded_instant(recorded_at),
                event_hash=event_hash(head_hash, *_authorship(copy)),
            )
        )
        tree.append_hash(leaf)
        execute(
            "INSERT INTO merkle_leaves (leaf_index, position, leaf_hash) VALUES (?, ?, ?)",
            (len(leaves), position, leaf),
        )
        for (level, index), hashed in tree.nodes().items():
            if (level, index) not in before:
                execute(
                    "INSERT INTO merkle_nodes (level, node_index, hash) VALUES (?, ?, ?)",
                    (level, index, hashed),
                )
    return position


def _authorship(state: dict[str, Any]) -> tuple[bytes, str]:
    authorship = state["authorship"]["_data_"]
    return authorship["signed_body"].encode("utf-8"), authorship["signature"]


def _chain_hash(state: dict[str, Any]) -> str:
    return event_hash(state["previous_hash"], *_authorship(state))
