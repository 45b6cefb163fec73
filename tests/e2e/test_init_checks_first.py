"""``sealtrail init`` checks the database before it touches a file, and never overwrites a key.

Run against a read-only standby, a store another home initialised, or a home that holds an
auditor's copy of the server's public key, init used to write a new server key and token secret
(and overwrite the copied public key) before it failed: every later ``verify`` of the auditor
then failed. Each case here is one line on stderr, exit 2, and every file as it was.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from tests.cli_stores import sealtrail
from tests.service_account import (
    owned_by_service_account,
    run_as_service_account,
    shared_directory,
)


def files_of(home: Path) -> dict[str, bytes]:
    """Every file under ``home`` and its bytes."""
    return {
        str(path.relative_to(home)): path.read_bytes() for path in home.rglob("*") if path.is_file()
    }


def auditor_home(tmp_path: Path, primary: Path) -> Path:
    """A home holding only the primary's public key, as docs/deployment.md section 7 makes."""
    home = tmp_path / "auditor"
    (home / "keys").mkdir(parents=True)
    shutil.copy(primary / "keys" / "server-ed25519.pub.pem", home / "keys")
    return home


def one_line_exit_2(done: object) -> str:
    returncode, stderr = done.returncode, done.stderr  # type: ignore[attr-defined]
    assert returncode == 2, stderr
    assert len(stderr.strip().splitlines()) == 1, stderr
    return str(stderr)


def set_read_only(database_url: str) -> None:
    """Make every new transaction of the database read-only, as on a hot standby."""
    url = make_url(database_url)
    with psycopg.connect(
        host=url.host, port=url.port, user=url.username, dbname="postgres", autocommit=True
    ) as connection:
        connection.execute(
            f'ALTER DATABASE "{url.database}" SET default_transaction_read_only = on'
        )


@pytest.mark.postgres
def test_init_against_a_read_only_database_writes_no_file(
    tmp_path: Path, postgres_database: str
) -> None:
    primary = tmp_path / "primary"
    assert sealtrail("init", home=primary).returncode == 0  # a SQLite store, for its public key
    home = auditor_home(tmp_path, primary)
    before = files_of(home)
    set_read_only(postgres_database)

    done = sealtrail("init", home=home, url=postgres_database)

    assert files_of(home) == before
    stderr = one_line_exit_2(done)
    assert "read-only" in stderr
    assert "nothing was written" in stderr


@pytest.mark.postgres
def test_init_against_a_read_only_database_with_a_fresh_home_creates_nothing(
    tmp_path: Path, postgres_database: str
) -> None:
    set_read_only(postgres_database)
    home = tmp_path / "fresh"

    done = sealtrail("init", home=home, url=postgres_database)

    assert "read-only" in one_line_exit_2(done)
    assert not home.exists()


def test_init_against_a_read_only_sqlite_file_writes_no_file(tmp_path: Path) -> None:
    primary = tmp_path / "primary"
    assert sealtrail("init", home=primary).returncode == 0
    with shared_directory() as shared:
        # The store's file and folder belong to another account: the service account may read
        # the file but neither write it nor make a journal beside it.
        database = shared / "database"
        database.mkdir(mode=0o755)
        store = database / "store.sqlite3"
        with sqlite3.connect(primary / "store.sqlite3") as source, sqlite3.connect(store) as copy:
            source.backup(copy)
        store.chmod(0o644)
        home = owned_by_service_account(shared / "home")

        done = run_as_service_account("init", home=home, url=f"sqlite:///{store}")

        assert files_of(home) == {}
        assert "read-only" in one_line_exit_2(done)


def test_init_with_a_home_of_another_store_refuses_before_writing(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue("postgres_database") if backend == "postgres" else None
    primary = tmp_path / "primary"
    if url is None:
        url = f"sqlite:///{primary / 'store.sqlite3'}"
    assert sealtrail("init", home=primary, url=url).returncode == 0
    home = tmp_path / "elsewhere"

    done = sealtrail("init", home=home, url=url)

    stderr = one_line_exit_2(done)
    assert "already initialised" in stderr
    assert "server key" in stderr
    assert not home.exists()
    assert sealtrail("verify", home=primary, url=url).returncode == 0


def test_init_never_overwrites_a_public_key_already_in_the_home(tmp_path: Path) -> None:
    primary = tmp_path / "primary"
    assert sealtrail("init", home=primary).returncode == 0
    home = auditor_home(tmp_path, primary)
    before = files_of(home)

    done = sealtrail("init", home=home)  # a new, empty SQLite store: writable

    stderr = one_line_exit_2(done)
    assert "server-ed25519.pub.pem" in stderr
    assert "overwrite" in stderr
    assert files_of(home) == before


def test_init_on_a_fresh_home_still_creates_the_store(tmp_path: Path) -> None:
    done = sealtrail("init", home=tmp_path)

    assert done.returncode == 0, done.stderr
    assert (tmp_path / "keys" / "server-ed25519.pem").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "keys" / "server-ed25519.pub.pem").exists()
