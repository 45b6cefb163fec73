"""Witnesses' cosignatures of the log's checkpoints, as stored (table ``cosignatures``).

Append-only under the same triggers as the checkpoints. A witness may cosign one checkpoint
several times (each round it finds no newer one, it vouches again with a fresh time); every
cosignature is kept, and the newest of each witness is the one served and counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, insert, inspect, select
from sqlalchemy.exc import IntegrityError

from infrastructure.store.instants import utc
from infrastructure.store.merkle_log import cosignatures
from signatures.cosignature import Cosignature, parse_cosignature_line


@dataclass(frozen=True)
class StoredCosignature:
    """One cosignature as the store keeps it."""

    tree_size: int
    witness: str
    key_id: str
    cosignature: Cosignature
    checkpoint: str
    """The checkpoint text the witness signed (as it sent it)."""
    received_at: datetime


def keep_cosignature(engine: Engine, stored: StoredCosignature) -> None:
    """Store a cosignature; the same one sent twice is stored once."""
    try:
        with engine.begin() as connection:
            connection.execute(
                insert(cosignatures).values(
                    tree_size=stored.tree_size,
                    witness=stored.witness,
                    cosigned_at=stored.cosignature.timestamp,
                    key_id=stored.key_id,
                    line=stored.cosignature.line(),
                    checkpoint=stored.checkpoint,
                    received_at=stored.received_at,
                )
            )
    except IntegrityError:
        pass  # this witness's cosignature of this checkpoint at this second is already kept


def stored_cosignatures(engine: Engine, tree_size: int | None = None) -> list[StoredCosignature]:
    """Every stored cosignature (of one checkpoint, with ``tree_size``), oldest first.

    A store that has no table yet (a read-only replica of an older store) has none.
    """
    with engine.connect() as connection:
        if not inspect(connection).has_table(cosignatures.name):
            return []
        query = select(cosignatures).order_by(
            cosignatures.c.tree_size, cosignatures.c.cosigned_at, cosignatures.c.witness
        )
        if tree_size is not None:
            query = query.where(cosignatures.c.tree_size == tree_size)
        rows = connection.execute(query).all()
    return [_stored(row) for row in rows]


def newest_by_witness(found: list[StoredCosignature]) -> list[StoredCosignature]:
    """The newest cosignature of each witness key among ``found``, in the order of witnesses."""
    newest: dict[tuple[str, str], StoredCosignature] = {}
    for stored in found:
        key = (stored.witness, stored.key_id)
        if key not in newest or stored.cosignature.timestamp > newest[key].cosignature.timestamp:
            newest[key] = stored
    return [newest[key] for key in sorted(newest)]


def _stored(row: object) -> StoredCosignature:
    received_at = utc(row.received_at)  # type: ignore[attr-defined]
    return StoredCosignature(
        int(row.tree_size),  # type: ignore[attr-defined]
        str(row.witness),  # type: ignore[attr-defined]
        str(row.key_id),  # type: ignore[attr-defined]
        parse_cosignature_line(str(row.line)),  # type: ignore[attr-defined]
        str(row.checkpoint),  # type: ignore[attr-defined]
        received_at,
    )
