"""An insider with write access to the database: a copy of a signed event appended, or an event
signed with one person's own key that the store would have refused.

The copy is made the way issue 15 found it could be: read an already-signed event's row, give
it the next version of its own subject's stream, chain it to that stream's head, and append it
with its Merkle leaf and the tree's new interior nodes, each computed with the project's own
public helpers (:mod:`signatures.chain`, :mod:`signatures.log_leaf`, :mod:`signatures.merkle`).
Nothing is signed anew: the author's signed bytes and signature are the original's. The log
then agrees with itself everywhere a hash can show (chain, leaves, nodes), and the next
checkpoint would sign it; only what the author signed can tell the copy from the original.

An insider who also holds one person's key (a monitor's, another site's coordinator's) signs an
event that person may not make (:func:`forged_record`, :func:`forged_account_change`) and
appends it the same way (:func:`append_event`): only the signer's authority, as their account
stood then, tells it from a write the store accepted.
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
from eventsourcing.persistence import StoredEvent
from sqlalchemy.engine import URL

from api.schemas.submissions import submission_from
from domain.authorship import Authorship, authored
from domain.signed import stream_id
from domain.subject import RECORDERS, Subject
from domain.wire import recorded_instant, to_wire
from infrastructure.application.account_changes import ACCOUNT_COMMANDS, account_body
from infrastructure.bootstrap import Store
from signatures.authorship import sign_body
from signatures.chain import event_hash
from signatures.log_leaf import event_leaf
from signatures.merkle import InMemoryTree, leaf_hash
from tests.conftest import STUDY, Person

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
        copy = json.loads(bytes(original))
        copy["previous_hash"] = _chain_hash(json.loads(bytes(head_state)))
        recorded_at = datetime.now(UTC)
        copy["timestamp"] = {"_type_": "datetime_iso", "_data_": recorded_at.isoformat()}
        return _append(execute, url, originator, head_version + 1, topic, copy)


def append_event(url: URL, stored: StoredEvent) -> int:
    """Append an event made and signed elsewhere (by a person's own key, through the aggregate's
    own command, never handed to the sealed store) at the end of its stream; its position.

    The event already commits to its stream's head and carries the time it was made; it gets
    its leaf and the new interior nodes of the Merkle log, as the store would write them.
    """
    originator: Any = (
        stored.originator_id.hex if url.drivername.startswith("sqlite") else stored.originator_id
    )
    state = json.loads(stored.state)
    with connection(url) as execute:
        return _append(execute, url, originator, stored.originator_version, stored.topic, state)


def _append(
    execute: Execute, url: URL, originator: Any, version: int, topic: str, state: dict[str, Any]
) -> int:
    """INSERT one event's row, then its Merkle leaf and the tree's new interior nodes."""
    sqlite = url.drivername.startswith("sqlite")
    table = SQLITE_TABLE if sqlite else POSTGRES_TABLE
    position_column = "rowid" if sqlite else "notification_id"
    inserted = execute(
        f"INSERT INTO {table} (originator_id, originator_version, topic, state) "
        f"VALUES (?, ?, ?, ?) RETURNING {position_column}",
        (originator, version, topic, json.dumps(state, separators=(",", ":")).encode("utf-8")),
    )
    position = int(inserted[0][0])
    leaves = execute("SELECT leaf_hash FROM merkle_leaves ORDER BY leaf_index")
    tree = InMemoryTree()
    for (hashed,) in leaves:
        tree.append_hash(bytes(hashed))
    before = set(tree.nodes())
    recorded_at = datetime.fromisoformat(state["timestamp"]["_data_"])
    leaf = leaf_hash(
        event_leaf(
            position=position,
            stream_id=UUID(str(originator)).hex,
            version=version,
            recorded_at=recorded_instant(recorded_at),
            event_hash=_chain_hash(state),
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


# -- what one person's key alone signs ----------------------------------------------------------


def forged_record(
    store: Store,
    signer: Person,
    subject: str,
    kind: str,
    data: dict[str, Any],
    *,
    meaning: str = "authorship",
) -> StoredEvent:
    """An event of ``subject`` signed by ``signer``'s real key, encoded as the store would keep
    it: made by the subject's own command inside ``authored`` (its rules hold), as
    ``Records.record`` makes it, but past every permission check and never handed to the sealed
    store (the caller appends the row, e.g. with :func:`append_event`)."""
    body = signer.body(subject, kind, data, meaning=meaning)
    submission = submission_from(body, signer.sign(body))
    aggregate = store.app.find_subject(f"{STUDY}/{subject}")
    assert aggregate is not None
    with authored(submission.authorship):
        if kind == Subject.CasebookSigned.kind():
            aggregate.sign_casebook(meaning=meaning, **submission.fields)
        elif kind == Subject.RecordsSigned.kind():
            aggregate.sign_records(meaning=meaning, **submission.fields)
        else:
            RECORDERS[kind](aggregate, **submission.fields)
    (event,) = aggregate.collect_events()
    return store.app.mapper.to_stored_event(event)


def forged_account_change(
    store: Store, signer: Person, user_id: str, kind: str, fields: dict[str, Any]
) -> StoredEvent:
    """A change of ``user_id``'s account signed by ``signer``'s real key, made by the account's
    own command (its rules hold) past every permission check, encoded as the store keeps it."""
    account = store.app.find_account(user_id)
    assert account is not None
    body = account_body(
        user_id=user_id,
        kind=kind,
        data=to_wire(fields),
        signer_id=signer.user_id,
        printed_name=signer.printed_name,
        signer_key_id=signer.key_id,
        version=account.version + 1,
    )
    with authored(Authorship(*sign_body(signer.private_key, body))):
        ACCOUNT_COMMANDS[kind](account, **fields)
    (event,) = account.collect_events()
    return store.app.mapper.to_stored_event(event)
