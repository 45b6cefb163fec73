"""Signed checkpoints of the Merkle log, and the proofs an auditor checks against them.

A checkpoint is a C2SP tlog-checkpoint (origin, tree size, root) in a signed note, signed with
the server's key under the log's origin name. Checkpoints are sealed on demand
(``sealtrail checkpoint``) and automatically once ``SEALTRAIL_CHECKPOINT_EVERY`` events or
``SEALTRAIL_CHECKPOINT_SECONDS`` seconds have passed since the last one. They are meant to leave
the building: a checkpoint kept outside the store is what later proves it was not cut short.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, insert, inspect, select
from sqlalchemy.exc import IntegrityError

from infrastructure.errors import ConfigurationError, ProofNotAvailable
from infrastructure.identity.server_key import ServerKey
from infrastructure.store.instants import utc
from infrastructure.store.merkle_log import StoredTree, checkpoints, log_identity
from infrastructure.store.timestamps import CheckpointStamper, timestamp_of
from signatures.checkpoint import Checkpoint, sign_checkpoint
from signatures.merkle import consistency_proof, inclusion_proof, root
from signatures.timestamps import STAMPED_EXTENSION, StampAttempt

MAX_LOG_POSITION = 2**63 - 1
"""Log positions are 64-bit signed integers on both databases (SQLite INTEGER, bigint)."""


@dataclass(frozen=True)
class SealedCheckpoint:
    """A checkpoint as stored: its size, root, signed note and when it was sealed."""

    tree_size: int
    root: bytes
    note: str
    created_at: datetime


@dataclass(frozen=True)
class InclusionProof:
    """RFC 6962 inclusion proof of one event's leaf in a tree of a given size."""

    position: int
    leaf_index: int
    tree_size: int
    leaf_hash: bytes
    proof: list[bytes]


def log_origin(configured: str | None, server_key_id: str) -> str:
    """The log's origin line and note-signer name (a default derived from the server key)."""
    return configured or f"sealtrail.invalid/{server_key_id.removeprefix('ed25519:')}"


def store_origin(engine: Engine, configured: str | None, server_key_id: str, *, keep: bool) -> str:
    """The origin of the store's log: the one kept with the store, else the one to keep.

    A store initialised before the origin was kept is named by its newest checkpoint, or by
    the setting, or by the default. With ``keep`` (a process that may write) that name is
    recorded; a reader (``verify`` on a standby) only reads.

    Raises:
        ConfigurationError: ``configured`` (``SEALTRAIL_LOG_ORIGIN``) names another log.
    """
    kept = _kept_origin(engine)
    if kept is not None:
        if configured is not None and configured != kept:
            raise ConfigurationError(
                "SEALTRAIL_LOG_ORIGIN is %(configured)r but this store's log is "
                "%(kept)r (kept with the store since init): unset it or set it to "
                "%(kept)r",
                configured=configured,
                kept=kept,
            )
        return kept
    origin = configured or _origin_of_checkpoints(engine) or log_origin(None, server_key_id)
    if not keep:
        return origin
    try:
        with engine.begin() as connection:
            connection.execute(insert(log_identity).values(singleton=1, origin=origin))
    except IntegrityError:
        pass  # another process kept it first; read what it kept
    return store_origin(engine, configured, server_key_id, keep=False)


def _kept_origin(engine: Engine) -> str | None:
    with engine.connect() as connection:
        if not inspect(connection).has_table(log_identity.name):
            return None  # a store made before the origin was kept, read where it cannot write
        kept = connection.execute(select(log_identity.c.origin)).scalar_one_or_none()
    return None if kept is None else str(kept)


def _origin_of_checkpoints(engine: Engine) -> str | None:
    with engine.connect() as connection:
        if not inspect(connection).has_table(checkpoints.name):
            return None
        note = connection.execute(
            select(checkpoints.c.note).order_by(checkpoints.c.tree_size.desc()).limit(1)
        ).scalar_one_or_none()
    return None if note is None else str(note).split("\n", 1)[0]


class CheckpointKeeper:
    """Seals and reads checkpoints, and answers proofs from the stored tree."""

    def __init__(
        self,
        engine: Engine,
        server_key: ServerKey,
        origin: str,
        *,
        every: int,
        seconds: int,
        stamper: CheckpointStamper | None = None,
    ) -> None:
        self.engine = engine
        self.stamper = stamper
        self.server_key = server_key
        self.origin = origin
        self.every = every
        self.interval = timedelta(seconds=seconds)
        # The newest checkpoint this process knows of, so that a write need not ask.
        self._known_latest: SealedCheckpoint | None = None
        self._looked = False

    def latest(self) -> SealedCheckpoint | None:
        """The newest stored checkpoint, if any."""
        with self.engine.connect() as connection:
            row = connection.execute(
                select(checkpoints).order_by(checkpoints.c.tree_size.desc()).limit(1)
            ).one_or_none()
        return None if row is None else _sealed(row)

    def all(self) -> list[SealedCheckpoint]:
        """Every stored checkpoint, smallest first."""
        with self.engine.connect() as connection:
            rows = connection.execute(select(checkpoints).order_by(checkpoints.c.tree_size)).all()
        return [_sealed(row) for row in rows]

    def head(self) -> Checkpoint:
        """The log as it is now, by size and root, unsigned: what a copy was built from."""
        with self.engine.connect() as connection:
            tree = StoredTree(connection)
            size = tree.size()
            return Checkpoint(self.origin, size, root(tree, size))

    def seal(self) -> SealedCheckpoint:
        """Sign a checkpoint of the whole log as it is now (or return the one of this size),
        and have it time-stamped when an authority is configured (after it is kept: an
        authority that fails costs the time-stamp, never the checkpoint). A checkpoint to be
        stamped says so in its signed text (:data:`~signatures.timestamps.STAMPED_EXTENSION`)."""
        checkpoint = self.head()
        if self.stamper is not None:
            # Said in the signed text, so that a token deleted later is missed (docs/signing.md).
            checkpoint = replace(checkpoint, extensions=(STAMPED_EXTENSION,))
        size = checkpoint.size
        note = sign_checkpoint(self.server_key.private_key, self.origin, checkpoint)
        sealed = SealedCheckpoint(size, checkpoint.root, note, datetime.now(UTC))
        try:
            with self.engine.begin() as connection:
                connection.execute(
                    insert(checkpoints).values(
                        tree_size=size,
                        root=checkpoint.root,
                        note=note,
                        created_at=sealed.created_at,
                    )
                )
        except IntegrityError:
            # Another process sealed this size first; the log never signs two notes for one size.
            existing = self.at_size(size)
            assert existing is not None
            return existing
        if self.stamper is not None:
            self.stamper.stamp(
                size, note, server_key=self.server_key.private_key, origin=self.origin
            )
        return sealed

    def seal_if_due(self, tree_size: int) -> SealedCheckpoint | None:
        """Seal a checkpoint if enough events or time have passed since the last one.

        ``tree_size`` is the size the caller just saw (its receipt's leaf index + 1). The last
        checkpoint is remembered, so a write that is not due asks the database nothing; a
        checkpoint sealed meanwhile by another process only makes this one seal a little early.
        """
        if not self._looked:
            self._known_latest, self._looked = self.latest(), True
        latest = self._known_latest
        if latest is not None and tree_size <= latest.tree_size:
            return None
        if (
            latest is None
            or tree_size - latest.tree_size >= self.every
            or datetime.now(UTC) - latest.created_at >= self.interval
        ):
            self._known_latest = self.seal()
            return self._known_latest
        return None

    def at_size(self, size: int) -> SealedCheckpoint | None:
        """The stored checkpoint of exactly this size, if any."""
        if not 0 <= size <= MAX_LOG_POSITION:
            return None  # never sent to the database: past 64 bits it overflows (a 500 once)
        with self.engine.connect() as connection:
            row = connection.execute(
                select(checkpoints).where(checkpoints.c.tree_size == size)
            ).one_or_none()
        return None if row is None else _sealed(row)

    def timestamp(self, tree_size: int) -> StampAttempt:
        """What came of time-stamping the checkpoint of this size: the authority's answer
        (``response``), or the failure with the server's signed statement of it.

        Raises:
            ProofNotAvailable: no such checkpoint, or neither a token nor a signed failure
                (sealed with no authority, or a failure kept unsigned: and why).
        """
        if not 0 <= tree_size <= MAX_LOG_POSITION or self.at_size(tree_size) is None:
            raise ProofNotAvailable("no checkpoint of size %(tree_size)s", tree_size=tree_size)
        kept = timestamp_of(self.engine, tree_size)
        if kept is None:
            raise ProofNotAvailable(
                "the checkpoint of size %(tree_size)s was sealed with no time-stamping authority",
                tree_size=tree_size,
            )
        if kept.response is None and kept.failure_statement is None:
            raise ProofNotAvailable(
                "the checkpoint of size %(tree_size)s is not time-stamped, and the server "
                "signed no statement of why: %(failure)s",
                tree_size=tree_size,
                failure=kept.failure,
            )
        return kept

    def leaf_index(self, position: int) -> int:
        """The leaf index of the event at a log position (it is in the tree once stored)."""
        with self.engine.connect() as connection:
            leaf = StoredTree(connection).leaf_of_position(position)
        if leaf is None:
            raise ProofNotAvailable("no event at log position %(position)s", position=position)
        return leaf[0]

    def inclusion(self, position: int, tree_size: int | None) -> InclusionProof:
        """The inclusion proof of the event at ``position`` in the tree of ``tree_size`` leaves.

        Raises:
            ProofNotAvailable: no such event, or the tree was never that size.
        """
        if not 0 <= position <= MAX_LOG_POSITION:
            # Never sent to the database: SQLite and PostgreSQL refuse an integer past 64 bits
            # with an overflow (a 500 once), and no event is there.
            raise ProofNotAvailable("no event at log position %(position)s", position=position)
        with self.engine.connect() as connection:
            tree = StoredTree(connection)
            size = tree.size() if tree_size is None else tree_size
            leaf = tree.leaf_of_position(position)
            if leaf is None:
                raise ProofNotAvailable("no event at log position %(position)s", position=position)
            leaf_index, leaf_hash = leaf
            if not leaf_index < size <= tree.size():
                raise ProofNotAvailable(
                    "the event is leaf %(leaf_index)s; tree size %(size)s must be above "
                    "it and at most %(size2)s",
                    leaf_index=leaf_index,
                    size=size,
                    size2=tree.size(),
                )
            return InclusionProof(
                position, leaf_index, size, leaf_hash, inclusion_proof(tree, leaf_index, size)
            )

    def consistency(self, old_size: int, new_size: int) -> list[bytes]:
        """The consistency proof between two tree sizes (RFC 6962 section 2.1.2).

        Raises:
            ProofNotAvailable: the sizes are not 0 <= old <= new <= the current size.
        """
        with self.engine.connect() as connection:
            tree = StoredTree(connection)
            if not 0 <= old_size <= new_size <= tree.size():
                raise ProofNotAvailable(
                    "sizes must satisfy 0 <= from <= to <= %(size)s, not "
                    "from=%(old_size)s, to=%(new_size)s",
                    size=tree.size(),
                    old_size=old_size,
                    new_size=new_size,
                )
            return consistency_proof(tree, old_size, new_size)


def _sealed(row: object) -> SealedCheckpoint:
    created_at = utc(row.created_at)  # type: ignore[attr-defined]
    return SealedCheckpoint(
        int(row.tree_size),  # type: ignore[attr-defined]
        bytes(row.root),  # type: ignore[attr-defined]
        str(row.note),  # type: ignore[attr-defined]
        created_at,
    )


def encode_hash(value: bytes) -> str:
    """Hashes travel as standard base64, as in checkpoints."""
    return base64.b64encode(value).decode("ascii")
