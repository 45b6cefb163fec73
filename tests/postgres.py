"""The PostgreSQL server the tests create their databases on.

``SEALTRAIL_TEST_POSTGRES_URL`` names it; left unset, the local server at 127.0.0.1:5432 is used
when it answers, so `make test` on a machine with PostgreSQL runs the PostgreSQL tests without
any setting. Set empty, it turns them off. The test session resolves this once (conftest's
``pytest_configure``), says which in the report's header, and hands the answer to its workers and
to ``require_postgres`` through the same variable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import psycopg
from sqlalchemy.engine import URL, make_url

VARIABLE = "SEALTRAIL_TEST_POSTGRES_URL"
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
CONNECT_TIMEOUT_SECONDS = 3
"""Long enough for a loaded machine's local server, short enough that no server costs little."""


@dataclass(frozen=True)
class TestServer:
    """Which server the PostgreSQL tests use, and the line that says so."""

    __test__ = False  # not a test class, whatever pytest's name rules say

    url: str | None
    """The admin URL the tests create databases with; None: no PostgreSQL tests."""
    problem: str | None
    """Why the server does not answer (one line), or None."""
    state: str
    """Which server, or why none, in words."""

    @property
    def header(self) -> str:
        """The line of the test report's header."""
        return f"PostgreSQL tests: {self.state}"


def conninfo(url: URL) -> str:
    """libpq's connection string for a SQLAlchemy URL."""
    parts = {
        "host": url.host or "127.0.0.1",
        "port": url.port or 5432,
        "user": url.username or "postgres",
        "dbname": url.database or "postgres",
    }
    if url.password:
        parts["password"] = url.password
    return " ".join(f"{key}={value}" for key, value in parts.items())


def why_silent(url: str) -> str | None:
    """None when the server at ``url`` accepts a connection; otherwise why not, in one line."""
    try:
        with psycopg.connect(
            conninfo(make_url(url)), connect_timeout=CONNECT_TIMEOUT_SECONDS, autocommit=True
        ):
            return None
    except psycopg.Error as error:
        # libpq's first line names the host and the cause; the rest are hints.
        lines = [line.strip() for line in str(error).splitlines() if line.strip()]
        return lines[0] if lines else type(error).__name__


def shown(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def find_test_server(environ: Mapping[str, str], default: str = DEFAULT_URL) -> TestServer:
    """The server named by ``SEALTRAIL_TEST_POSTGRES_URL`` in ``environ``, else ``default`` if
    it answers; a named server is used even when silent (its ``problem`` says why), because
    the one who named it asked for PostgreSQL tests."""
    named = environ.get(VARIABLE)
    if named == "":
        return TestServer(None, None, f"skipped ({VARIABLE} is set empty)")
    if named:
        problem = why_silent(named)
        state = f"does not answer: {problem}" if problem else f"from {VARIABLE}"
        return TestServer(named, problem, f"{shown(named)} ({state})")
    problem = why_silent(default)
    if problem is None:
        return TestServer(
            default,
            None,
            f"{shown(default)} (found by default; {VARIABLE} names another)",
        )
    return TestServer(
        None,
        problem,
        f"skipped (nothing answers at {shown(default)}: {problem}; "
        f"set {VARIABLE} to a server the tests may create databases on)",
    )
