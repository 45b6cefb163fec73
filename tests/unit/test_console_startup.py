"""A ``sealtrail`` call imports the command it runs and what that command needs, nothing more.

Each case runs in a new Python process, as a user's call does (this one has imported
everything), and names the modules of the store, the HTTP API and the validation pack that
the process loaded. The database's refusals are still told in one line, though the console
no longer imports SQLAlchemy to recognise them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from api.console import COMMANDS, LazyGroup, main
from tests.homes import database_of

STORE = ("infrastructure.bootstrap", "sqlalchemy", "eventsourcing.persistence", "domain.subject")
"""The store and the subject's aggregate: over half a second of CPU to import."""
SERVING = ("flask", "werkzeug", "jinja2", "marshmallow", "api.schemas", "gunicorn")
"""The HTTP API's and the pages' frameworks, and the API's wire schemas."""
VALIDATION_PACK = ("infrastructure.validation.matrix", "ntplib")
"""What only ``sealtrail validation`` and ``sealtrail check-install`` use."""
POSTGRESQL = ("psycopg", "psycopg_pool", "eventsourcing.postgres")
"""What only a store on PostgreSQL uses: ~0.1 s of CPU to import."""

LOADED = """
import sys
from api.console import main
try:
    main(sys.argv[1:], prog_name="sealtrail")
except SystemExit as end:
    if end.code:
        raise
print(" ".join(sorted(sys.modules)))
"""


def modules_loaded_by(*args: str, cwd: Path, env: dict[str, str] | None = None) -> set[str]:
    """The modules a new process holds after ``sealtrail ARGS`` ended well."""
    done = subprocess.run(
        [sys.executable, "-c", LOADED, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return set(done.stdout.split("\n")[-2].split())


def among(loaded: set[str], families: tuple[str, ...]) -> set[str]:
    """The modules of ``loaded`` that are one of ``families`` or inside one of them."""
    return {m for m in loaded if any(m == f or m.startswith(f"{f}.") for f in families)}


def test_the_version_imports_no_command(tmp_path: Path) -> None:
    loaded = modules_loaded_by("--version", cwd=tmp_path)

    assert {m for m in loaded if m.startswith("api.console.")} == {"api.console.exits"}
    assert among(loaded, STORE + SERVING + VALIDATION_PACK) == set()


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("key", "generate", "--out", "person.pem"), id="key generate"),
        pytest.param(("submit", "--help"), id="submit"),
        pytest.param(("sign-casebook", "--help"), id="sign-casebook"),
    ],
)
def test_a_command_on_a_persons_own_machine_imports_no_store(
    args: tuple[str, ...], tmp_path: Path
) -> None:
    loaded = modules_loaded_by(*args, cwd=tmp_path)

    assert among(loaded, STORE + SERVING + VALIDATION_PACK) == set()


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("user", "train", "--help"), id="user train"),
        pytest.param(("report", "outcomes", "--help"), id="report outcomes"),
        pytest.param(("verify", "--help"), id="verify"),
    ],
)
def test_a_store_command_imports_neither_the_api_nor_the_validation_pack(
    args: tuple[str, ...], tmp_path: Path
) -> None:
    loaded = modules_loaded_by(*args, cwd=tmp_path)

    assert among(loaded, SERVING + VALIDATION_PACK + POSTGRESQL) == set()


def test_a_command_on_a_sqlite_store_imports_nothing_of_postgresql(home: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEALTRAIL_")}
    env |= {"SEALTRAIL_HOME": str(home), "SEALTRAIL_DATABASE_URL": database_of(home)}

    loaded = modules_loaded_by("verify", cwd=home, env=env)

    assert "infrastructure.verification.verifier" in loaded  # the store was opened and verified
    assert among(loaded, POSTGRESQL) == set()


def test_every_command_is_found_by_name_and_an_unknown_one_is_not() -> None:
    context = main.make_context("sealtrail", ["--help"], resilient_parsing=True)

    assert isinstance(main, LazyGroup)
    assert main.list_commands(context) == sorted(COMMANDS)
    assert all(main.get_command(context, name) is not None for name in COMMANDS)
    assert main.get_command(context, "nosuch") is None


REFUSED_BY_SQLITE = """
import click
import sqlalchemy
from api.console.command import one_line_errors

@click.command()
@one_line_errors
def reads_a_table_that_is_not_there() -> None:
    with sqlalchemy.create_engine("sqlite://").connect() as connection:
        connection.execute(sqlalchemy.text("SELECT * FROM events_that_are_not_there"))

reads_a_table_that_is_not_there(prog_name="sealtrail")
"""


def test_the_databases_refusal_is_one_line_and_exit_2_though_the_console_never_imported_it(
    tmp_path: Path,
) -> None:
    # A new process: SQLAlchemy is imported by the command, not by api.console.command.
    done = subprocess.run(
        [sys.executable, "-c", REFUSED_BY_SQLITE],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )

    assert done.returncode == 2
    assert done.stderr == "sealtrail: the store refused: no such table: events_that_are_not_there\n"


def test_an_error_that_is_not_the_databases_is_not_taken_for_a_refusal(tmp_path: Path) -> None:
    program = REFUSED_BY_SQLITE.replace(
        "    with sqlalchemy", "    raise LookupError('not the database')\n    with sqlalchemy"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], cwd=tmp_path, capture_output=True, text=True, check=False
    )

    assert done.returncode == 1
    assert "LookupError: not the database" in done.stderr
    assert "the store refused" not in done.stderr
