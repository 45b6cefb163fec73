"""PostgreSQL clusters of a test's own: a primary, a hot standby, a server to stop and start.

The shared server on 127.0.0.1:5432 must stay up for everyone else, so what takes a database
down (an outage, a restart) or replicates one (a hot standby) runs on clusters made here with
PostgreSQL's own tools, as docs/deployment.md makes them: ``initdb``, ``pg_ctl``,
``pg_basebackup -R -X stream``. Each listens on a free port of 127.0.0.1 and lives in a
temporary directory that is removed afterwards. PostgreSQL refuses to run as root; as root the
tools run as the ``postgres`` account.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import psycopg

from tests.resilience.harness import free_port

PASSWORD_HBA = """\
# TYPE  DATABASE     USER      ADDRESS        METHOD
local   all          all                      trust
host    all          postgres  127.0.0.1/32   trust
host    replication  postgres  127.0.0.1/32   trust
host    all          all       127.0.0.1/32   scram-sha-256
"""
"""The superuser connects without a password (the tests' own administration); every other role,
sealtrail's included, with its password, so that a wrong one is refused as in production."""


def postgres_bin() -> Path:
    """Where ``initdb`` and ``pg_ctl`` are."""
    found = shutil.which("initdb") or shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
    if not candidates:
        raise RuntimeError("PostgreSQL's server tools (initdb, pg_ctl) are not installed")
    return candidates[-1]


def _as_owner(command: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


@dataclass
class Cluster:
    """One PostgreSQL server in ``directory``, listening on 127.0.0.1:``port``."""

    directory: Path
    port: int

    @property
    def data(self) -> Path:
        return self.directory / "data"

    @property
    def log(self) -> Path:
        return self.directory / "server.log"

    def admin_url(self, database: str = "postgres") -> str:
        """The superuser's SQLAlchemy URL."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def run(self, *command: str) -> subprocess.CompletedProcess[str]:
        """A server tool run as the cluster's owner."""
        tool = str(postgres_bin() / command[0])
        return subprocess.run(
            _as_owner([tool, *command[1:]]),
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
            cwd=self.directory,
        )

    def start(self) -> None:
        self.run(
            "pg_ctl",
            "--pgdata",
            str(self.data),
            "--log",
            str(self.log),
            "--wait",
            "--options",
            f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1",
            "start",
        )

    def stop(self) -> None:
        self.run("pg_ctl", "--pgdata", str(self.data), "--mode", "fast", "--wait", "stop")

    def execute(self, statement: str, database: str = "postgres") -> list[tuple[object, ...]]:
        """One statement as the superuser, in autocommit; its rows, if any."""
        with psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname=database, autocommit=True
        ) as connection:
            cursor = connection.execute(statement)  # type: ignore[arg-type]
            return list(cursor.fetchall()) if cursor.description else []


def _new_directory() -> Path:
    directory = Path(tempfile.mkdtemp(prefix="sealtrail-pg-"))
    directory.chmod(0o755)
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        os.chown(directory, owner.pw_uid, owner.pw_gid)
    return directory


def _remove(cluster: Cluster) -> None:
    with suppress(subprocess.CalledProcessError):
        cluster.run("pg_ctl", "--pgdata", str(cluster.data), "--mode", "immediate", "stop")
    shutil.rmtree(cluster.directory, ignore_errors=True)


@contextmanager
def primary_cluster() -> Iterator[Cluster]:
    """A new cluster, started, with password authentication for every role but the superuser;
    stopped and removed afterwards."""
    cluster = Cluster(_new_directory(), free_port())
    try:
        cluster.run(
            "initdb",
            "--pgdata",
            str(cluster.data),
            "--username",
            "postgres",
            "--auth",
            "trust",
            "--encoding",
            "UTF8",
            "--no-sync",
        )
        (cluster.data / "pg_hba.conf").write_text(PASSWORD_HBA, encoding="utf-8")
        with (cluster.data / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write("\nshared_buffers = 16MB\nfsync = off\nmax_connections = 100\n")
        cluster.start()
        yield cluster
    finally:
        _remove(cluster)


@contextmanager
def standby_of(primary: Cluster) -> Iterator[Cluster]:
    """A hot standby streaming from ``primary`` (``pg_basebackup -R -X stream``), started."""
    standby = Cluster(_new_directory(), free_port())
    try:
        standby.run(
            "pg_basebackup",
            "--host",
            "127.0.0.1",
            "--port",
            str(primary.port),
            "--username",
            "postgres",
            "--pgdata",
            str(standby.data),
            "--write-recovery-conf",
            "--wal-method",
            "stream",
        )
        standby.start()
        yield standby
    finally:
        _remove(standby)
