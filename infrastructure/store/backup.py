"""``sealtrail backup``: a copy of the store, its keys, and a checkpoint of exactly that copy.

A checkpoint sealed beside a backup is what proves, after a restore, that the restored log is
the one that was copied. Sealed after ``pg_dump`` (as the guide used to say), it covers the
writes made while the dump ran, which the dump does not hold: the restored store then reads
``log-truncated`` against it, as if it had been tampered with. So the checkpoint is sealed over
the copied state itself:

- PostgreSQL: a ``REPEATABLE READ`` transaction exports its snapshot, ``pg_dump --snapshot``
  dumps exactly what that transaction sees, and the tree's size and root are read in the same
  transaction (the events and their Merkle leaves are written in one transaction, so the
  snapshot holds both or neither).
- SQLite: SQLite's online backup API copies a consistent state while the server writes; the
  size and root are read from the copy.

The server's key signs the note under the log's origin, as every checkpoint. The keys are
archived (``tar.gz``) with mode 0600, for the operator to encrypt (docs/deployment.md, section
6); the folder the backup is written to is made 0700.
"""

from __future__ import annotations

import io
import os
import shutil
import sqlite3
import subprocess
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, create_engine, text

from infrastructure.bootstrap import Store
from infrastructure.errors import ConfigurationError, StoreUnavailable
from infrastructure.identity.key_files import write_private
from infrastructure.store.merkle_log import StoredTree
from signatures.checkpoint import Checkpoint, sign_checkpoint
from signatures.merkle import root

DUMP = "sealtrail.dump"
SQLITE_COPY = "sealtrail.sqlite3"
KEYS_ARCHIVE = "sealtrail-keys.tar.gz"
NOTE = "sealtrail-backup.note"


@dataclass(frozen=True)
class Backup:
    """What a backup wrote, and the size of the log it holds."""

    database: Path
    keys: Path
    note: Path
    tree_size: int


def back_up(store: Store, folder: Path) -> Backup:
    """Copy the store into ``folder`` (made, 0700; must not hold a backup already).

    Raises:
        ConfigurationError: the folder already holds one of the files.
        StoreUnavailable: the database could not be copied.
    """
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    names = (SQLITE_COPY if store.settings.is_sqlite else DUMP, KEYS_ARCHIVE, NOTE)
    for name in names:
        if (folder / name).exists():
            raise ConfigurationError(
                "%(value)s exists: back up into a new folder", value=folder / name
            )
    database = folder / names[0]
    if store.settings.is_sqlite:
        tree_size, tree_root = _copy_sqlite(store, database)
    else:
        with _snapshot(store) as (connection, snapshot):
            tree = StoredTree(connection)
            tree_size = tree.size()
            tree_root = root(tree, tree_size)
            _pg_dump(store, snapshot, database)
    keys = folder / KEYS_ARCHIVE
    write_private(keys, _archive(store.settings.keys_dir))
    origin = store.app.checkpoints.origin
    note = sign_checkpoint(
        store.app.server_key.private_key, origin, Checkpoint(origin, tree_size, tree_root)
    )
    write_private(folder / NOTE, note.encode("utf-8"), mode=0o644)
    return Backup(database, keys, folder / NOTE, tree_size)


@contextmanager
def _snapshot(store: Store) -> Iterator[tuple[Connection, str]]:
    """A read-only REPEATABLE READ transaction and its exported snapshot, held open."""
    with store.engine.connect() as connection:
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            connection.execute(text("SET TRANSACTION READ ONLY"))
            snapshot = connection.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            yield connection, str(snapshot)


def _pg_dump(store: Store, snapshot: str, out: Path) -> None:
    url = store.settings.database_url
    # The password goes through the environment, not the command line other users can read.
    target = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    environment = dict(os.environ)
    if url.password:
        environment["PGPASSWORD"] = str(url.password)
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise StoreUnavailable("pg_dump is not installed (PostgreSQL's client tools)")
    descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(descriptor)
    done = subprocess.run(  # noqa: S603 - our own arguments, no shell
        [pg_dump, "--format=custom", f"--snapshot={snapshot}", f"--file={out}", target],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        out.unlink()
        first = (done.stderr.strip().splitlines() or ["no message"])[0]
        raise StoreUnavailable("pg_dump failed: %(first)s", first=first)


def _copy_sqlite(store: Store, out: Path) -> tuple[int, bytes]:
    source_name = str(store.settings.database_url.database)
    descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(descriptor)
    source, copy = sqlite3.connect(source_name), sqlite3.connect(out)
    try:
        source.backup(copy)
    except sqlite3.Error as error:
        copy.close()
        out.unlink()
        raise StoreUnavailable("cannot copy the store: %(error)s", error=error) from None
    finally:
        source.close()
        copy.close()
    engine = create_engine(f"sqlite:///{out}")
    try:
        with engine.connect() as connection:
            tree = StoredTree(connection)
            size = tree.size()
            return size, root(tree, size)
    finally:
        engine.dispose()


def _archive(keys: Path) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        archive.add(keys, arcname="keys")
    return buffer.getvalue()
