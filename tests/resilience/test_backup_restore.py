"""Backup and restore as docs/deployment.md tells an operator to do it, on both databases.

The backup is taken with the plain database tools (SQLite's online backup, ``pg_dump``) while
the store is open, plus a copy of ``$SEALTRAIL_HOME/keys``. The restored store must verify with
``sealtrail verify``, extend a checkpoint sealed before the backup (``--from-checkpoint``, which
recomputes the root from the restored log), and go on accepting writes after the last position.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from infrastructure.bootstrap import open_store
from infrastructure.settings import Settings
from infrastructure.store.merkle_log import StoredTree
from signatures.merkle import root
from tests.conftest import (
    PersonFactory,
    consent,
    make_settings,
    new_store,
    require_postgres,
    screening,
)
from tests.resilience.harness import (
    half_written_problems,
    scratch_postgres_database,
    server_environment,
)

SQLITE_BACKUP = (
    "import sqlite3, sys; sqlite3.connect(sys.argv[1]).backup(sqlite3.connect(sys.argv[2]))"
)
"""docs/deployment.md's SQLite backup: the online backup API, what ``sqlite3 .backup`` runs."""


def libpq_url(settings: Settings) -> str:
    """The store's URL as pg_dump and psql spell it (no ``+psycopg``)."""
    url = settings.database_url.set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def pg_restore(dump: Path, settings: Settings) -> None:
    """Restore a ``pg_dump`` archive into the (empty) database of ``settings``."""
    restore = subprocess.run(
        ["pg_restore", "--no-owner", f"--dbname={libpq_url(settings)}", str(dump)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert restore.returncode == 0, restore.stderr


def sealtrail(settings: Settings, *arguments: str) -> subprocess.CompletedProcess[str]:
    command = Path(sys.executable).parent / "sealtrail"
    return subprocess.run(
        [str(command), *arguments],
        env=server_environment(settings),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.requirement("P11-11.10c-3")
def test_a_restored_store_verifies_extends_the_checkpoint_and_takes_new_writes(
    backend: str, store_settings: Settings, tmp_path: Path, person_in: PersonFactory
) -> None:
    original = new_store(store_settings)
    try:
        coordinator = person_in(original, "coord1")
        for subject in ("RP-101", "RP-102"):
            coordinator.record(original, subject, "Screened", screening())
            coordinator.record(original, subject, "ConsentObtained", consent())
        sealed = original.app.checkpoints.seal()
        restored_home = tmp_path / "restored"
        shutil.copytree(store_settings.home / "keys", restored_home / "keys")
        if backend == "postgres":
            dump = tmp_path / "sealtrail.dump"
            subprocess.run(
                ["pg_dump", "--format=custom", f"--file={dump}", libpq_url(store_settings)],
                check=True,
            )
            database = scratch_postgres_database(require_postgres(), "sealtrail_test_restored")
        else:
            copy = restored_home / "store.sqlite3"
            database_file = str(make_url(str(store_settings.database_url)).database)
            subprocess.run(
                [sys.executable, "-c", SQLITE_BACKUP, database_file, str(copy)], check=True
            )
        # Written after the backup: the restored store must not have it.
        coordinator.record(original, "RP-103", "Screened", screening())
    finally:
        original.close()

    def check(restored: Settings) -> None:
        note = tmp_path / "before-backup.note"
        note.write_text(sealed.note, encoding="utf-8")
        verified = sealtrail(restored, "verify", "--from-checkpoint", str(note))
        assert verified.returncode == 0, verified.stdout + verified.stderr
        assert verified.stdout.strip().endswith(
            f"OK: {sealed.tree_size} events checked, 0 findings"
        )
        store = open_store(restored)
        try:
            with store.engine.connect() as connection:
                tree = StoredTree(connection)
                assert tree.size() == sealed.tree_size
                assert root(tree, sealed.tree_size) == sealed.root
            receipt = coordinator.record(store, "RP-104", "Screened", screening())
            assert receipt["leaf_index"] == sealed.tree_size
            assert half_written_problems(store) == []
        finally:
            store.close()
        again = sealtrail(restored, "verify")
        assert again.returncode == 0, again.stdout + again.stderr

    if backend == "postgres":
        with database as url:
            restored = make_settings(restored_home, url)
            pg_restore(dump, restored)
            check(restored)
    else:
        check(make_settings(restored_home))


def test_sealtrail_backup_under_writes_gives_a_note_the_restored_store_satisfies(
    backend: str, store_settings: Settings, tmp_path: Path, person_in: PersonFactory
) -> None:
    """The checkpoint of ``sealtrail backup`` is sealed over exactly the copied state, so the
    restored store extends it however many writes ran while the copy was made (a note sealed
    after ``pg_dump`` read ``log-truncated``: exit 1, as if the store had been tampered with)."""
    original = new_store(store_settings)
    folder = tmp_path / "backup"
    stop = threading.Event()
    written: list[int] = []

    def keep_writing() -> None:
        while not stop.is_set():
            receipt = coordinator.record(
                original, f"RP-{len(written) + 200}", "Screened", screening()
            )
            written.append(int(receipt["leaf_index"]))

    try:
        coordinator = person_in(original, "coord1")
        writer = threading.Thread(target=keep_writing)
        writer.start()
        try:
            while len(written) < 3:
                time.sleep(0.05)
            done = sealtrail(store_settings, "backup", "--to", str(folder))
            during = len(written)
            time.sleep(0.2)
        finally:
            stop.set()
            writer.join()
    finally:
        original.close()
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(written) > during  # the store went on taking writes around the copy
    assert folder.stat().st_mode & 0o777 == 0o700
    assert (folder / "sealtrail-keys.tar.gz").stat().st_mode & 0o777 == 0o600
    note = folder / "sealtrail-backup.note"
    noted = int(note.read_text(encoding="utf-8").splitlines()[1])

    restored_home = tmp_path / "restored"
    restored_home.mkdir()
    with tarfile.open(folder / "sealtrail-keys.tar.gz") as archive:
        archive.extractall(restored_home, filter="data")

    def check(restored: Settings) -> None:
        verified = sealtrail(restored, "verify", "--from-checkpoint", str(note))
        assert verified.returncode == 0, verified.stdout + verified.stderr
        assert verified.stdout.strip().endswith(f"OK: {noted} events checked, 0 findings")

    if backend == "postgres":
        with scratch_postgres_database(require_postgres(), "sealtrail_test_restored") as url:
            restored = make_settings(restored_home, url)
            pg_restore(folder / "sealtrail.dump", restored)
            check(restored)
    else:
        shutil.copy(folder / "sealtrail.sqlite3", restored_home / "store.sqlite3")
        check(make_settings(restored_home))
