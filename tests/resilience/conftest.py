"""A store on each backend served by real gunicorn workers, shared by the resilience tests.

One server per backend per test process (xdist worker): starting gunicorn costs a few seconds,
and every test writes to subjects of its own (``fresh_subject``), so they do not see each other.
The crash test and the backup test make stores of their own, because they kill or copy them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from infrastructure.bootstrap import Store, open_store
from infrastructure.settings import Settings
from tests.conftest import make_settings, require_postgres
from tests.resilience.harness import (
    Author,
    HttpSite,
    Server,
    prepare_store,
    scratch_postgres_database,
    server_environment,
)

WORKERS = 2
"""Two worker processes: each has its own chain-head cache and connections, which is what the
concurrency tests need to race; each more costs an import of the app (a second and a half of CPU)
on every test process that serves a store."""


@dataclass
class Live:
    """A served store: its settings, the server, two coordinators of site RP, and the store
    opened in the test's own process to check what the server did."""

    backend: str
    settings: Settings
    server: Server
    authors: list[Author]
    store: Store

    def site(self, author: int = 0) -> HttpSite:
        """A new HTTP session for one of the coordinators."""
        return HttpSite(self.server.url, self.authors[author])


def fresh_subject() -> str:
    """A subject code no other test uses."""
    return f"RP-{uuid.uuid4().hex[:10]}"


@pytest.fixture(
    scope="session", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Live]:
    """gunicorn with two workers over a fresh store, once on SQLite and once on PostgreSQL."""
    yield from served(request, tmp_path_factory)


def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, threads: int = 1
) -> Iterator[Live]:
    """The ``live`` fixture's server, on its parameter's backend, with ``threads`` per worker
    (above 1: gunicorn's gthread worker)."""
    backend = str(request.param)
    home = tmp_path_factory.mktemp(f"live-{backend}")
    if backend == "postgres":
        with scratch_postgres_database(require_postgres(), "sealtrail_test_live") as url:
            yield from _serve(backend, home, url, threads)
    else:
        yield from _serve(backend, home, None, threads)


def _serve(backend: str, home: Path, database_url: str | None, threads: int = 1) -> Iterator[Live]:
    settings = make_settings(home, database_url)
    authors = prepare_store(settings, ["coord1", "coord2"])
    # Every test of the process shares this server, and the fuzz test's generated sign-ins
    # fail by the dozen: the failed sign-ins of one address (SEALTRAIL_SIGN_IN_RATE_LIMIT,
    # counted per worker) would soon answer every later test's sign-in 429.
    # tests/e2e/test_sign_in_rate_limit.py tests the limit itself.
    environment = server_environment(settings, SEALTRAIL_SIGN_IN_RATE_LIMIT="10000 per minute")
    server = Server(environment, home / "gunicorn.log", workers=WORKERS, threads=threads)
    server.start()
    store = open_store(settings)
    try:
        yield Live(backend, settings, server, authors, store)
    finally:
        store.close()
        server.stop()
