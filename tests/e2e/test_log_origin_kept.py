"""The log's origin is kept with the store: every command finds it without the variable.

Checkpoints are signed under the log's origin (``SEALTRAIL_LOG_ORIGIN`` at init, or a name
derived from the server key). A command run without the variable (deployment section 7's
block, a restore in a fresh shell) used to sign and check under the derived name, so every
checkpoint read ``checkpoint-signature-invalid``. A setting that disagrees with the store's is
refused with one line and exit 2, and changes nothing.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.cli_stores import sealtrail

ORIGIN = "trial.example.org/NCT01297972"


@pytest.fixture
def database_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if backend == "postgres":
        return str(request.getfixturevalue("postgres_database"))
    return f"sqlite:///{tmp_path / 'home' / 'store.sqlite3'}"


def test_every_command_finds_the_origin_set_at_init(tmp_path: Path, database_url: str) -> None:
    home = tmp_path / "home"
    named = {"SEALTRAIL_LOG_ORIGIN": ORIGIN}
    assert sealtrail("init", home=home, url=database_url, extra_env=named).returncode == 0
    kept = sealtrail("checkpoint", home=home, url=database_url, extra_env=named)
    note = tmp_path / "kept.note"
    note.write_text(kept.stdout, encoding="utf-8")

    sealed = sealtrail("checkpoint", home=home, url=database_url)  # no variable
    verified = sealtrail("verify", "--from-checkpoint", str(note), home=home, url=database_url)

    assert kept.stdout.splitlines()[0] == ORIGIN
    assert sealed.returncode == 0, sealed.stderr
    assert sealed.stdout.splitlines()[0] == ORIGIN
    assert sealed.stdout.splitlines()[-1].startswith(f"\u2014 {ORIGIN} ")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout.strip().endswith("0 findings")


def test_a_conflicting_origin_is_one_line_and_exit_2(tmp_path: Path, database_url: str) -> None:
    home = tmp_path / "home"
    named = {"SEALTRAIL_LOG_ORIGIN": ORIGIN}
    assert sealtrail("init", home=home, url=database_url, extra_env=named).returncode == 0
    other = {"SEALTRAIL_LOG_ORIGIN": "elsewhere.example.org/log"}

    for command in ("checkpoint", "verify"):
        done = sealtrail(command, home=home, url=database_url, extra_env=other)

        assert done.returncode == 2, (command, done.stdout, done.stderr)
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert ORIGIN in done.stderr and "elsewhere.example.org/log" in done.stderr
    assert sealtrail("verify", home=home, url=database_url).returncode == 0


def test_a_restored_sqlite_store_in_a_fresh_shell_verifies(tmp_path: Path) -> None:
    home = tmp_path / "home"
    named = {"SEALTRAIL_LOG_ORIGIN": ORIGIN}
    assert sealtrail("init", home=home, extra_env=named).returncode == 0
    note = tmp_path / "backup.note"
    note.write_text(sealtrail("checkpoint", home=home, extra_env=named).stdout)
    restored = tmp_path / "restored"
    restored.mkdir()
    (restored / "keys").mkdir()
    for key in (home / "keys").iterdir():
        (restored / "keys" / key.name).write_bytes(key.read_bytes())
    with (
        sqlite3.connect(home / "store.sqlite3") as source,
        sqlite3.connect(restored / "store.sqlite3") as copy,
    ):
        source.backup(copy)

    done = sealtrail("verify", "--from-checkpoint", str(note), home=restored)

    assert done.returncode == 0, done.stdout + done.stderr
