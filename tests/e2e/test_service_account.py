"""Setting up as docs/deployment.md does: a service account, and workers that fit the database.

A key the service account cannot read was a traceback and exit 1 (which means a finding);
it is one line naming the file and exit 2. ``sealtrail serve`` and a plain ``gunicorn`` started
in the repository refuse, in one line and exit 2, to start more workers than PostgreSQL's
``max_connections`` can hold (the guide's 4 workers x 30 connections did not fit 100).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from infrastructure.store.postgres_pool import CONNECTIONS_PER_WORKER
from tests.cli_stores import sealtrail
from tests.resilience.harness import REPOSITORY, free_port
from tests.service_account import (
    is_root,
    owned_by_service_account,
    run_as_service_account,
    service_account_ids,
    shared_directory,
)


@pytest.mark.parametrize(
    ("command", "key"),
    [("checkpoint", "server-ed25519.pem"), ("verify", "server-ed25519.pub.pem")],
)
def test_a_key_the_service_account_cannot_read_is_one_line_and_exit_2(
    tmp_path: Path, command: str, key: str
) -> None:
    made = tmp_path / "made"
    assert sealtrail("init", home=made).returncode == 0
    with shared_directory() as shared:
        home = shared / "home"
        shutil.copytree(made, home)
        owned_by_service_account(home)
        uid, gid = service_account_ids()
        for path in home.rglob("*"):
            os.chown(path, uid, gid)
        unreadable = home / "keys" / key
        if is_root():
            os.chown(unreadable, 0, 0)  # another account's file, mode 0600 (or 0644 made 0600)
        unreadable.chmod(0o600 if is_root() else 0o000)

        done = run_as_service_account(command, home=home, url=f"sqlite:///{home / 'store.sqlite3'}")

        assert done.returncode == 2, done.stdout + done.stderr
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert str(unreadable) in done.stderr
        assert "cannot read" in done.stderr and "Traceback" not in done.stderr


def workers_too_many(database_url: str) -> int:
    """One worker more than the test server's max_connections (less the reserved) holds."""
    url = make_url(database_url)
    with psycopg.connect(
        host=url.host, port=url.port, user=url.username, dbname=url.database
    ) as connection:
        row = connection.execute(
            "SELECT current_setting('max_connections')::int"
            " - current_setting('superuser_reserved_connections')::int"
        ).fetchone()
    assert row is not None
    return int(row[0]) // CONNECTIONS_PER_WORKER + 1


@pytest.mark.postgres
def test_serve_refuses_more_workers_than_max_connections_holds(
    tmp_path: Path, postgres_database: str
) -> None:
    assert sealtrail("init", home=tmp_path, url=postgres_database).returncode == 0
    too_many = workers_too_many(postgres_database)

    done = sealtrail(
        "serve",
        "--workers",
        str(too_many),
        "--port",
        str(free_port()),
        home=tmp_path,
        url=postgres_database,
    )

    assert done.returncode == 2, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "max_connections" in done.stderr
    assert f"{too_many} workers x {CONNECTIONS_PER_WORKER} connections" in done.stderr


@pytest.mark.postgres
def test_gunicorn_in_the_repository_refuses_too_many_workers_too(
    tmp_path: Path, postgres_database: str
) -> None:
    assert sealtrail("init", home=tmp_path, url=postgres_database).returncode == 0
    too_many = workers_too_many(postgres_database)
    env = {key: value for key, value in os.environ.items() if not key.startswith("SEALTRAIL_")}
    env.update(SEALTRAIL_HOME=str(tmp_path), SEALTRAIL_DATABASE_URL=postgres_database)

    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            str(too_many),
            "--bind",
            f"127.0.0.1:{free_port()}",
            "wsgi:app",
        ],
        cwd=REPOSITORY,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 2, done.stderr
    assert "sealtrail: " in done.stderr and "max_connections" in done.stderr
