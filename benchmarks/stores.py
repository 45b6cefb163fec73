"""What the benchmarks share: fresh stores on SQLite or in a PostgreSQL database of their own, the
site coordinator who signs their events, and a line saying which machine measured.

A PostgreSQL store gets a database made for it (``sealtrail_bench_<random>``), dropped when the
benchmark's :func:`backend_for` block ends; a SQLite store lives in the benchmark's temporary
directory and goes with it.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.engine import URL, make_url

from infrastructure.bootstrap import Store, open_store
from infrastructure.identity.server_key import create_server_key
from infrastructure.settings import Settings
from tests.conftest import open_person

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
COORDINATOR = "bench.coordinator"
PRINTED_NAME = "Bench Coordinator (synthetic)"


@dataclass
class Backend:
    """Makes fresh stores of one kind; drops the PostgreSQL databases it made at the end."""

    name: str
    workdir: Path
    admin_url: URL | None = None
    created: list[str] = field(default_factory=list)

    def fresh_settings(self, label: str = "store") -> Settings:
        """Settings of a store in a database nothing else has used."""
        home = self.workdir / f"{self.name}-{label}-{uuid.uuid4().hex[:8]}"
        if self.name == "sqlite":
            url = f"sqlite:///{home / 'store.sqlite3'}"
        else:
            assert self.admin_url is not None
            database = f"sealtrail_bench_{uuid.uuid4().hex[:16]}"
            with psycopg.connect(conninfo(self.admin_url), autocommit=True) as connection:
                connection.execute(f'CREATE DATABASE "{database}"')
            self.created.append(database)
            url = self.admin_url.set(database=database).render_as_string(hide_password=False)
        return Settings.from_environ({"SEALTRAIL_HOME": str(home), "SEALTRAIL_DATABASE_URL": url})

    def drop_all(self) -> None:
        """Drop every database made here (PostgreSQL); the temporary directory goes by itself."""
        if not self.created:
            return
        assert self.admin_url is not None
        with psycopg.connect(conninfo(self.admin_url), autocommit=True) as connection:
            for database in self.created:
                connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        self.created.clear()


@contextmanager
def backend_for(name: str, workdir: Path, postgres_url: URL) -> Iterator[Backend]:
    """The backend ``name`` (``sqlite`` or ``postgres``), its databases dropped at the end."""
    backend = Backend(name, workdir, postgres_url if name == "postgres" else None)
    try:
        yield backend
    finally:
        backend.drop_all()


def conninfo(url: URL, timeout: int = 5) -> str:
    """A libpq connection string for a SQLAlchemy URL."""
    parts: dict[str, Any] = {
        "host": url.host or "127.0.0.1",
        "port": url.port or 5432,
        "user": url.username or "postgres",
        "dbname": url.database or "postgres",
        "connect_timeout": timeout,
    }
    if url.password:
        parts["password"] = url.password
    return " ".join(f"{key}={value}" for key, value in parts.items())


def postgres_unreachable(url: URL) -> str | None:
    """Why PostgreSQL cannot be used, or None if it can."""
    try:
        with psycopg.connect(conninfo(url, timeout=3), autocommit=True) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as error:
        return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return None


def open_new_store(settings: Settings) -> Store:
    """A new store: its server key made, opened and initialised."""
    create_server_key(settings)
    store = open_store(settings)
    store.administration.initialise()
    return store


def open_coordinator(
    store: Store,
    private_key: Ed25519PrivateKey,
    *,
    user_id: str = COORDINATOR,
    sites: tuple[str, ...] = ("RP",),
) -> None:
    """Open the site coordinator who signs the benchmark's events, with ``private_key``'s public
    key registered: as the tests open a person in force (role, training, sites, key, password)."""
    open_person(store, user_id, printed_name=PRINTED_NAME, sites=sites, private_key=private_key)


def add_backend_options(parser: argparse.ArgumentParser) -> None:
    """``--backend sqlite|postgres|both`` (sqlite) and ``--postgres-url`` (or
    ``SEALTRAIL_BENCH_POSTGRES_URL``), for a benchmark that runs on each backend in turn."""
    parser.add_argument(
        "--backend", choices=("sqlite", "postgres", "both"), default="sqlite", help="(sqlite)"
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("SEALTRAIL_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL),
    )


def each_backend(args: argparse.Namespace, title: str) -> Iterator[Backend]:
    """Each backend ``args`` asks for, in a temporary directory, its databases dropped after it:
    the machine and the load average said first and last, PostgreSQL left out (with a note)
    when it cannot be reached."""
    names = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    postgres_url = make_url(args.postgres_url)
    print(f"{title}, {machine()}")
    print(f"load average at the start: {load_average()}")
    if "postgres" in names and (why := postgres_unreachable(postgres_url)) is not None:
        print(f"NOTE: PostgreSQL skipped: {why}")
        names.remove("postgres")
    with tempfile.TemporaryDirectory(prefix="sealtrail-bench-") as tmp:
        for name in names:
            with backend_for(name, Path(tmp), postgres_url) as backend:
                yield backend
    print(f"load average at the end: {load_average()}")


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def machine() -> str:
    """The interpreter, the cores (and how many this process may use) and the architecture."""
    return (
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} cores ({len(os.sched_getaffinity(0))} usable), {platform.machine()}"
    )
