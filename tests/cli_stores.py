"""Stores made by the command line, for tests that drive it as a user does.

``sealtrail init`` and ``sealtrail demo`` take seconds, so the test run makes one of each
(:func:`tests.shared_templates.made_once`) and every test gets a copy of its own in its
``tmp_path`` (a SQLite file and the keys beside it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import traceback
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from click.testing import CliRunner

from api.console import main
from domain.account import Role
from infrastructure.bootstrap import open_store
from tests.homes import DATABASE_FILE, database_of
from tests.shared_templates import made_once

INIT_EVENTS = 10
"""``sealtrail init`` alone: the server's account (3 events), the administrator's (5) and the
sponsor's packet key (2)."""
INITIALISED_EVENTS = 13
"""init: the server's account (3 events), the administrator's (5) and the sponsor's packet key
(2); then the administrator's password (1), after the administrator authenticated with the
one-time password (2: the start of the administrator's authentication log, and the attempt)."""
DEMO_STAFF_EVENTS = 10 + 9 + 4
"""The demonstration's synthetic staff: accounts, roles, sites, training, keys; the coordinator's
and the investigator's (10), then the monitor's (5) and the data manager's (4, no site); last,
a one-time password for each of the four (4)."""
DEMO_RECORDS = 1345
"""The nine synthetic subjects' records."""
DEMO_CLOSING_EVENTS = 40 + 18 + 18 + 1 + 3
"""What closes site RP's data: 40 source verifications (9 eligibility assessments, 31
infusions), 18 casebook signatures (month 6 and end of study), 9 freezes and 9 locks, one
audit-trail review, and the investigator's copy (their disclosure log's start, the copy, the
receipt)."""
DEMO_EVENTS = DEMO_RECORDS + 2 + DEMO_CLOSING_EVENTS
"""What ``sealtrail demo`` adds: the records, site RP's two delegations, then the closing."""
DATA_MANAGER_EVENTS = 4
"""A person opened by :func:`person_at` with no site: account, role, training, key."""


SEALTRAIL = str(Path(sys.executable).parent / "sealtrail")


def sealtrail(
    *args: str,
    home: Path,
    url: str | None = None,
    stdin: str | None = None,
    extra_env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """``sealtrail ARGS`` with the store under ``home`` (on the database ``url``), as a user
    runs it: only the ``SEALTRAIL_*`` variables given, the output and exit status it gives.

    Run in this process by click's test runner (the same command, with its own environment,
    standard streams and exit status): a new Python process spent over a second importing
    before each command. Tests that need a process boundary (a server, a kill, concurrent
    writers, the regulator's machine) start ``SEALTRAIL`` themselves.
    """
    # The tests' own SEALTRAIL_TEST_* stay: other threads of this process read them meanwhile.
    env: dict[str, str | None] = {
        key: None
        for key in os.environ
        if key.startswith("SEALTRAIL_") and not key.startswith("SEALTRAIL_TEST_")
    }
    env.update(extra_env or {})
    env["SEALTRAIL_HOME"] = str(home)
    env["SEALTRAIL_DATABASE_URL"] = url or database_of(home)
    done = CliRunner().invoke(main, list(args), env=env, input=stdin)
    stderr = done.stderr
    if done.exception is not None and not isinstance(done.exception, SystemExit):
        stderr += "".join(traceback.format_exception(done.exception))
    return subprocess.CompletedProcess([SEALTRAIL, *args], done.exit_code, done.stdout, stderr)


ADMIN_PASSWORD = "the store keeper's own passphrase"


def person_at(
    home: Path,
    role: Role = Role.AUDITOR,
    user_id: str = "audit1",
    *,
    sites: tuple[str, ...] = (),
    url: str | None = None,
) -> dict[str, str]:
    """A new person of ``role`` in the store under ``home``: the environment they run in.

    Opened at the console as the other tests' people are (role, training, key, password).
    """
    from tests.conftest import make_settings, reader_env

    store = open_store(make_settings(home, url))
    try:
        return reader_env(store, role, user_id, sites)
    finally:
        store.close()


@cache
def data_manager_at(home: Path, url: str | None = None) -> dict[str, str]:
    """The store's sponsor data manager ``dm1`` (opened the first time it is asked for)."""
    return person_at(home, Role.SPONSOR_DATA_MANAGER, "dm1", url=url)


@pytest.fixture(scope="session")
def initialised_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One store made by init per test run; tests get copies (init costs seconds)."""
    return made_once(tmp_path_factory, "initialised", initialised)


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory, initialised_template: Path) -> Path:
    """The same with the demonstration cohort loaded, once per test run."""

    def load(folder: Path) -> None:
        shutil.copytree(initialised_template, folder, dirs_exist_ok=True)
        loaded = sealtrail("demo", home=folder)
        assert loaded.returncode == 0, loaded.stderr
        (folder / DEMO_OUTPUT).write_text(loaded.stdout, encoding="utf-8")

    return made_once(tmp_path_factory, "demo", load)


INIT_OUTPUT = "sealtrail-init.out"
DEMO_OUTPUT = "sealtrail-demo.out"
"""What ``sealtrail init`` and ``sealtrail demo`` printed when they made a template's store, kept
in its home: the one-time passwords among it (:func:`demo_output`, :func:`init_output`)."""


def demo_output(home: Path) -> str:
    """What ``sealtrail demo`` printed when it loaded the store under ``home`` (a copy of
    ``demo_template``): what a person who ran it read, one-time passwords included."""
    return (home / DEMO_OUTPUT).read_text(encoding="utf-8")


def init_output(home: Path) -> str:
    """What ``sealtrail init`` printed when it made the store under ``home`` (a copy of
    ``initialised_template`` or ``demo_template``); its administrator has since changed the
    one-time password it shows (to ``ADMIN_PASSWORD``)."""
    return (home / INIT_OUTPUT).read_text(encoding="utf-8")


@dataclass(frozen=True)
class PrintedPassword:
    """A row of the table of one-time passwords ``sealtrail demo`` prints on its first run."""

    user_id: str
    role: str
    password: str


def printed_one_time_passwords(printed: str) -> list[PrintedPassword]:
    """The rows of the table of one-time passwords in ``sealtrail demo``'s output, in order;
    none if it printed no table."""
    lines = printed.splitlines()
    header = next((n for n, line in enumerate(lines) if line.split()[:2] == ["user", "id"]), None)
    if header is None:
        return []
    rows = []
    for line in lines[header + 1 :]:
        if line.startswith("shown only this once"):
            return rows
        user_id, role, password = line.split()
        rows.append(PrintedPassword(user_id, role, password))
    raise AssertionError(f"the table of one-time passwords does not end:\n{printed}")


@pytest.fixture
def home(tmp_path: Path, initialised_template: Path) -> Path:
    """A store of this test's own, as ``sealtrail init`` left it (administrator password set)."""
    shutil.copytree(initialised_template, tmp_path, dirs_exist_ok=True)
    return tmp_path


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def home_on_each_backend(
    request: pytest.FixtureRequest, tmp_path: Path, initialised_template: Path
) -> Path:
    """The same as ``home``, once on SQLite and once on a PostgreSQL database of its own (made
    by ``sealtrail init``, a few seconds: for a representative console test of a feature)."""
    if request.param == "sqlite":
        shutil.copytree(initialised_template, tmp_path, dirs_exist_ok=True)
        return tmp_path
    return initialised(tmp_path, request.getfixturevalue("postgres_database"))


@pytest.fixture
def demo_home(tmp_path: Path, demo_template: Path) -> Path:
    """A store of this test's own holding the demonstration cohort."""
    shutil.copytree(demo_template, tmp_path, dirs_exist_ok=True)
    return tmp_path


def initialised(tmp_path: Path, url: str | None = None) -> Path:
    """A store made by ``sealtrail init`` (on the database ``url``, which the home then names;
    SQLite under ``tmp_path`` by default) whose administrator has chosen a password."""
    if url is not None:
        (tmp_path / DATABASE_FILE).write_text(url)
    done = sealtrail("init", home=tmp_path, url=url)
    assert done.returncode == 0, done.stderr
    (tmp_path / INIT_OUTPUT).write_text(done.stdout, encoding="utf-8")
    # The one-time password printed by init opens nothing but its own change.
    one_time = done.stdout.split("one-time password: ")[1].split()[0]
    changed = sealtrail(
        "user",
        "password",
        "admin",
        home=tmp_path,
        url=url,
        extra_env={"SEALTRAIL_PASSWORD": one_time, "SEALTRAIL_NEW_PASSWORD": ADMIN_PASSWORD},
    )
    assert changed.returncode == 0, changed.stderr
    return tmp_path
