"""Which PostgreSQL server the tests use: the local one by default, said once, never a silent skip
under CI.

`make test` on a machine where PostgreSQL answers on 127.0.0.1:5432 runs the PostgreSQL tests
without any variable set; with ``CI=true`` and no server answering, the run stops at once with one
line instead of erroring in every PostgreSQL test.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from tests.conftest import open_person, opened_copy, require_postgres
from tests.nested_runs import ROOT, pytest_in_subprocess
from tests.postgres import DEFAULT_URL, VARIABLE, conninfo, find_test_server

NOBODY = "postgresql+psycopg://postgres@127.0.0.1:1/test"
"""A port nothing listens on: the connection is refused at once."""


def test_the_default_is_the_local_server() -> None:
    assert DEFAULT_URL == "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.mark.postgres
def test_a_server_that_answers_at_the_default_is_used_and_named() -> None:
    answering = require_postgres()

    server = find_test_server({}, default=answering)

    assert server.url == answering
    assert server.problem is None
    assert "found" in server.header and "127.0.0.1" in server.header


def test_no_server_at_the_default_means_none_and_says_how_to_name_one() -> None:
    server = find_test_server({}, default=NOBODY)

    assert server.url is None
    assert server.problem is not None
    assert VARIABLE in server.header and "skipped" in server.header


def test_a_named_server_is_used_as_named_and_its_silence_is_a_problem() -> None:
    server = find_test_server({VARIABLE: NOBODY}, default=DEFAULT_URL)

    assert server.url == NOBODY
    assert server.problem is not None and "127.0.0.1" in server.problem
    assert "\n" not in server.problem


def test_an_empty_variable_turns_postgresql_off() -> None:
    server = find_test_server({VARIABLE: ""}, default=DEFAULT_URL)

    assert server.url is None
    assert server.problem is None
    assert "skipped" in server.header


def test_under_ci_a_server_that_does_not_answer_stops_the_run_in_one_line() -> None:
    done = pytest_in_subprocess(
        "--collect-only", "-q", "tests/unit/test_canonical.py", CI="true", **{VARIABLE: NOBODY}
    )

    assert done.returncode != 0, done.stdout
    assert "PostgreSQL" in done.stderr and "127.0.0.1:1" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_under_ci_postgresql_turned_off_stops_the_run() -> None:
    done = pytest_in_subprocess(
        "--collect-only", "-q", "tests/unit/test_canonical.py", CI="true", **{VARIABLE: ""}
    )

    assert done.returncode != 0, done.stdout
    assert "CI=true" in done.stderr, done.stderr


@pytest.mark.postgres
def test_a_database_of_its_own(postgres_database: str) -> None:
    """What the next test runs in a run of its own: a PostgreSQL test that must not skip."""
    with psycopg.connect(conninfo(make_url(postgres_database))) as connection:
        assert connection.execute("SELECT 1").fetchone() == (1,)


@pytest.mark.postgres
def test_without_any_variable_the_local_server_runs_the_postgresql_tests() -> None:
    if require_postgres() != DEFAULT_URL:
        pytest.skip(f"the PostgreSQL in use is not the local default {DEFAULT_URL}")

    done = pytest_in_subprocess(
        "-rs", f"{Path(__file__).relative_to(ROOT)}::test_a_database_of_its_own"
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout and "skipped" not in done.stdout
    header = [line for line in done.stdout.splitlines() if line.startswith("PostgreSQL")]
    assert len(header) == 1, done.stdout  # said once, in the report's header
    assert "127.0.0.1:5432" in header[0] and "found" in header[0]


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_each_store_is_a_copy_of_its_own_of_one_initialised_store(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Tests share one initialised store per process and backend, as copies: what one test
    writes no other sees, and a PostgreSQL copy is dropped once the test ends."""
    template = request.getfixturevalue(f"{backend}_template")
    with (
        opened_copy(template, tmp_path / "one") as one,
        opened_copy(template, tmp_path / "two") as two,
    ):
        initialised = two.app.recorder.max_notification_id()
        open_person(one, "coord1")

        assert initialised is not None and initialised > 0
        assert one.app.recorder.max_notification_id() > initialised
        assert two.app.recorder.max_notification_id() == initialised
        assert one.app.server_key.key_id == two.app.server_key.key_id
        copied = one.settings.database_url.database

    if backend == "postgres":
        assert template.copies is not None
        template.copies.settle()
        admin = conninfo(make_url(require_postgres()))
        with psycopg.connect(admin) as connection:
            found = connection.execute(
                "SELECT count(*) FROM pg_database WHERE datname = %s", (copied,)
            ).fetchone()
        assert found == (0,)
