"""The command line as a user runs it: exit codes, one-line errors, idempotent set-up."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.cli_stores import (
    ADMIN_PASSWORD,
    DEMO_EVENTS,
    DEMO_STAFF_EVENTS,
    INIT_EVENTS,
    INITIALISED_EVENTS,
    SEALTRAIL,
    database_of,
    printed_one_time_passwords,
    sealtrail,
)
from tests.resilience.harness import READY_PATH, free_port


def as_admin(home: Path) -> tuple[str, ...]:
    """The options that sign a change as the administrator made by init."""
    return ("--as", "admin", "--key", str(home / "admin.pem"))


ADMIN_ENV = {"SEALTRAIL_PASSWORD": ADMIN_PASSWORD}


def test_init_prints_a_one_time_password_and_a_second_run_changes_nothing(tmp_path: Path) -> None:
    first = sealtrail("init", home=tmp_path)
    second = sealtrail("init", home=tmp_path)

    assert first.returncode == 0
    assert "administrator: admin, one-time password: " in first.stdout
    assert second.returncode == 0
    assert "already initialised" in second.stdout
    assert (tmp_path / "keys" / "server-ed25519.pem").stat().st_mode & 0o777 == 0o600


def test_demo_loads_once_and_verifies_clean(home: Path) -> None:
    first = sealtrail("demo", home=home)
    second = sealtrail("demo", home=home)
    verified = sealtrail("verify", "--json", home=home)

    assert f"{DEMO_EVENTS} new events" in first.stdout
    assert "0 new events" in second.stdout
    # The staff's one-time passwords, each once: the first run's, and none on a rerun.
    printed = printed_one_time_passwords(first.stdout)
    assert [(row.user_id, row.role) for row in printed] == [
        ("demo.coordinator", "site_coordinator"),
        ("demo.investigator", "investigator"),
        ("demo.monitor", "monitor"),
        ("demo.data_manager", "sponsor_data_manager"),
    ]
    assert len({row.password for row in printed}) == 4
    assert "password" not in second.stdout
    report = json.loads(verified.stdout)
    assert verified.returncode == 0
    notes = report.pop("notes")
    assert report == {
        "events": INITIALISED_EVENTS + DEMO_STAFF_EVENTS + DEMO_EVENTS,
        "ok": True,
        "findings": [],
    }
    # What verify could not check is said, not found: no time-stamping authority is configured.
    assert all("time-stamp" in note for note in notes), notes


def test_rebuild_prints_the_same_digest_run_after_run(demo_home: Path) -> None:
    digests = {sealtrail("rebuild", home=demo_home).stdout.strip() for _ in range(2)}

    assert len(digests) == 1
    assert len(digests.pop()) == 64


def test_verify_exits_1_and_names_each_finding_in_json(demo_home: Path) -> None:
    home = demo_home
    database = home / "store.sqlite3"
    with sqlite3.connect(database) as connection:
        connection.execute("DROP TRIGGER stored_events_refuse_delete")
        connection.execute(
            "DELETE FROM stored_events WHERE rowid = "
            "(SELECT rowid FROM stored_events WHERE topic LIKE '%Enrolled')"
        )

    done = sealtrail("verify", "--json", home=home)

    report = json.loads(done.stdout)
    assert done.returncode == 1
    assert report["ok"] is False
    assert {(f["stream"], f["version"], f["kind"]) for f in report["findings"]} == {
        (None, None, "event-missing"),
        # RP-01's Enrolled is its entry 6: the next event, 7, finds a gap and a broken link
        ("NCT01297972/RP-01", 7, "version-gap"),
        ("NCT01297972/RP-01", 7, "chain-broken"),
        # RP-01's casebook signatures (month 6, end of study) each name the deleted record
        ("NCT01297972/RP-01", 153, "signature-not-linked"),
        ("NCT01297972/RP-01", 154, "signature-not-linked"),
        # the checkpoints sealed while the demo loaded no longer match the log's tree
        (None, None, "checkpoint-mismatch"),
    }


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://root@localhost/db", "must be sqlite:///PATH or postgresql"),
        ("not a url", "is not a database URL"),
        ("postgresql+psycopg://nobody@127.0.0.1:1/none", "cannot open the store"),
    ],
    ids=["wrong-backend", "malformed", "unreachable"],
)
def test_a_bad_database_url_is_one_line_and_exit_2(home: Path, url: str, message: str) -> None:
    done = sealtrail("verify", home=home, url=url)

    assert done.returncode == 2
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr


def events_in(home: Path) -> int:
    """How many events the store under ``home`` holds, as ``sealtrail verify`` counts them."""
    report: int = json.loads(sealtrail("verify", "--json", home=home).stdout)["events"]
    return report


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("verify", "--bogus"), "sealtrail verify: No such option '--bogus'"),
        (("nosuch",), "sealtrail: No such command 'nosuch'"),
        (("user", "grant", "x", "--role", "monitor", "--until", "10000-01-01"),
         "sealtrail user grant: Invalid value for '--until'"),
        (("user", "grant", "x", "--role", "monitor", "--until", "9999-12-31"),
         "sealtrail user grant: Invalid value for '--until'"),
        (("user", "grant", "x"), "sealtrail user grant: Missing option '--role'"),
        (("user", "add", "x", "--name", "X", "--role", "king"),
         "sealtrail user add: Invalid value for '--role'"),
        (("delegation", "delegate", "x", "--site", "SP\n", "--task", "consent",
          "--from", "2026-01-01"), "sealtrail delegation delegate: Invalid value for '--site'"),
        (("delegation", "delegate", "x", "--site", "SP", "--task", "consent",
          "--from", "tomorrow"), "sealtrail delegation delegate: Invalid value for '--from'"),
        (("key", "revoke", "--user", "admin", "--key-id", "ed25519:00", "--reason", "lost",
          "--at", "yesterday"), "sealtrail key revoke: Invalid value"),
    ],
    ids=["unknown-option", "unknown-command", "bad-value", "last-date", "missing-option",
         "bad-choice", "bad-site", "bad-date", "bad-instant"],
)  # fmt: skip
def test_bad_usage_is_one_line_exit_2_and_records_nothing(
    home: Path, args: tuple[str, ...], said: str
) -> None:
    before = events_in(home)

    done = sealtrail(*args, *as_admin(home), home=home, extra_env=ADMIN_ENV)

    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and done.stderr.endswith("(see --help)\n"), done.stderr
    assert done.stderr.startswith(said)
    assert events_in(home) == before


@pytest.mark.parametrize("threads", ["0", "5"], ids=["no-threads", "beyond-the-pools"])
def test_serve_refuses_threads_beyond_a_worker_s_pools_in_one_line(
    home: Path, threads: str
) -> None:
    done = sealtrail("serve", "--threads", threads, "--port", "1", home=home)

    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("sealtrail serve: Invalid value for '--threads'")
    assert "1<=x<=4" in done.stderr


def test_serve_with_threads_runs_gunicorn_s_threaded_workers(home: Path) -> None:
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("SEALTRAIL_")}
    env.update(SEALTRAIL_HOME=str(home), SEALTRAIL_DATABASE_URL=database_of(home))
    log = home / "serve.log"
    with log.open("wb") as written:
        server = subprocess.Popen(
            [SEALTRAIL, "serve", "--workers", "1", "--threads", "2", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=written,
        )
    try:
        deadline, answered = time.monotonic() + 60, None
        while answered is None and time.monotonic() < deadline and server.poll() is None:
            try:
                answered = requests.get(f"http://127.0.0.1:{port}{READY_PATH}", timeout=5)
            except requests.ConnectionError:
                time.sleep(0.1)
    finally:
        server.terminate()
        server.wait(timeout=60)

    assert answered is not None and answered.status_code == 200, log.read_text()
    assert "Using worker: gthread" in log.read_text()


def test_help_and_version_still_print_in_full(home: Path) -> None:
    helped = sealtrail("user", "grant", "--help", home=home)
    version = sealtrail("--version", home=home)

    assert helped.returncode == version.returncode == 0
    assert helped.stdout.startswith("Usage: ") and "user grant [OPTIONS] USER_ID" in helped.stdout
    assert "--until" in helped.stdout and helped.stderr == ""
    assert ", version " in version.stdout


def test_a_store_without_a_server_key_is_one_line_and_exit_2(tmp_path: Path) -> None:
    done = sealtrail("verify", home=tmp_path)

    assert done.returncode == 2
    assert "run 'sealtrail init' first" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


@pytest.mark.requirement("P11-11.100a-1")
def test_a_user_id_is_never_reused(home: Path) -> None:
    first = sealtrail(
        *("user", "add", "coord1", "--name", "Ana", "--role", "site_coordinator"),
        *as_admin(home),
        home=home,
        extra_env=ADMIN_ENV,
    )
    again = sealtrail(
        *("user", "add", "coord1", "--name", "Bia", "--role", "monitor"),
        *as_admin(home),
        home=home,
        extra_env=ADMIN_ENV,
    )

    assert first.returncode == 0
    assert again.returncode == 1
    assert "exists and is never reused" in again.stderr


def test_an_unknown_role_is_a_usage_error(home: Path) -> None:
    done = sealtrail(
        *("user", "add", "x", "--name", "X", "--role", "king"), *as_admin(home), home=home
    )

    assert done.returncode == 2
    assert "Invalid value for '--role'" in done.stderr


def test_keys_are_generated_registered_and_revoked(home: Path) -> None:
    sealtrail(
        *("user", "add", "coord1", "--name", "Ana", "--role", "site_coordinator"),
        *as_admin(home),
        home=home,
        extra_env=ADMIN_ENV,
    )
    generated = sealtrail("key", "generate", "--out", str(home / "coord1.pem"), home=home)
    key_id = generated.stdout.split()[0]
    register = ("key", "register", "--user", "coord1", "--public-key", str(home / "coord1.pub.pem"))
    registered = sealtrail(*register, *as_admin(home), home=home, extra_env=ADMIN_ENV)
    again = sealtrail(*register, *as_admin(home), home=home, extra_env=ADMIN_ENV)
    revoked = sealtrail(
        *("key", "revoke", "--user", "coord1", "--key-id", key_id, "--reason", "lost"),
        *as_admin(home),
        home=home,
        extra_env=ADMIN_ENV,
    )

    assert generated.returncode == 0 and key_id.startswith("ed25519:")
    assert (home / "coord1.pem").stat().st_mode & 0o777 == 0o600
    assert registered.returncode == 0 and key_id in registered.stdout
    assert again.returncode == 1 and "already registered" in again.stderr
    assert revoked.returncode == 0
    assert sealtrail("verify", home=home).returncode == 0


def test_key_generate_refuses_to_overwrite_a_key(home: Path) -> None:
    sealtrail("key", "generate", "--out", str(home / "k.pem"), home=home)
    done = sealtrail("key", "generate", "--out", str(home / "k.pem"), home=home)

    assert done.returncode == 2
    assert "exists" in done.stderr


def test_a_public_key_that_is_not_a_key_is_refused_in_one_line(home: Path) -> None:
    sealtrail(
        *("user", "add", "coord1", "--name", "Ana", "--role", "site_coordinator"),
        *as_admin(home),
        home=home,
        extra_env=ADMIN_ENV,
    )
    bogus = home / "bogus.pub"
    bogus.write_text("hello")

    done = sealtrail(
        *("key", "register", "--user", "coord1", "--public-key", str(bogus)),
        *as_admin(home),
        home=home,
        extra_env=ADMIN_ENV,
    )

    assert done.returncode == 1
    assert "neither base64 nor PEM" in done.stderr


def submit_file(
    home: Path, content: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """``sealtrail submit`` of a file with ``content``, to a server that is not there."""
    sealtrail("key", "generate", "--out", str(home / "k.pem"), home=home)
    event = home / "event.json"
    event.write_text(content)
    return sealtrail(
        *("submit", "--url", "http://127.0.0.1:9", "--user", "u", "--key", str(home / "k.pem")),
        str(event),
        home=home,
        stdin=stdin,
    )


def test_submit_without_a_password_off_a_terminal_is_a_usage_error(home: Path) -> None:
    done = submit_file(
        home,
        '{"study": "NCT01297972", "subject": "RP-1", "kind": "Screened", "data": {}}',
        stdin="",
    )

    assert done.returncode == 2
    assert "SEALTRAIL_PASSWORD" in done.stderr


def test_submit_of_a_file_that_is_not_an_event_is_a_usage_error(home: Path) -> None:
    done = submit_file(home, "[1, 2")

    assert done.returncode == 2
    assert "is not JSON" in done.stderr


def test_the_commands_also_run_under_flask(home: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("SEALTRAIL_")}
    env["SEALTRAIL_HOME"] = str(home)
    env["SEALTRAIL_DATABASE_URL"] = f"sqlite:///{home / 'store.sqlite3'}"
    done = subprocess.run(
        [str(Path(sys.executable).parent / "flask"), "--app", "wsgi", "verify"],
        env=env,
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    # init: the server's account (3 events) and the administrator's (5); then the password (1)
    assert f"OK: {INITIALISED_EVENTS} events checked, 0 findings" in done.stdout


@pytest.mark.postgres
def test_init_demo_and_verify_run_on_postgresql(tmp_path: Path, postgres_database: str) -> None:
    for command in (("init",), ("init",), ("demo",), ("verify",), ("rebuild",)):
        done = sealtrail(*command, home=tmp_path, url=postgres_database)
        assert done.returncode == 0, done.stderr

    # init without the administrator's password change
    total = INIT_EVENTS + DEMO_STAFF_EVENTS + DEMO_EVENTS
    assert (
        f"OK: {total} events checked, 0 findings"
        in sealtrail("verify", home=tmp_path, url=postgres_database).stdout
    )


def test_checkpoint_prints_a_signed_note_that_verify_accepts_from_outside(
    demo_home: Path,
) -> None:
    home = demo_home
    sealed = sealtrail("checkpoint", home=home)
    note = home / "outside.note"
    note.write_text(sealed.stdout)

    done = sealtrail("verify", "--from-checkpoint", str(note), home=home)

    assert sealed.returncode == 0
    lines = sealed.stdout.splitlines()
    total = INITIALISED_EVENTS + DEMO_STAFF_EVENTS + DEMO_EVENTS
    assert lines[1] == str(total) and lines[3] == ""
    assert lines[4].startswith("\u2014 sealtrail.invalid/")
    assert done.returncode == 0, done.stdout
    assert f"OK: {total} events checked, 0 findings" in done.stdout


def test_a_checkpoint_file_that_is_not_a_note_is_a_finding(home: Path) -> None:
    note = home / "outside.note"
    note.write_text("hello\n")

    done = sealtrail("verify", "--from-checkpoint", str(note), home=home)

    assert done.returncode == 1
    assert done.stdout.startswith("log: checkpoint-malformed: ")
    assert f"FAILED: {INITIALISED_EVENTS} events checked, 1 findings" in done.stdout


@pytest.mark.parametrize(
    ("url", "refusal"),
    [
        (
            "sqlite:///file:{home}/sealtrail.sqlite3?mode=ro&uri=true",
            "a SQLite URL is sqlite:///PATH",
        ),
        ("sqlite:///{home}/sealtrail.sqlite3?mode=ro", "a SQLite URL is sqlite:///PATH"),
        (
            "postgresql+psycopg://postgres@127.0.0.1:5432/test?sslmode=require",
            "a PostgreSQL URL takes no query but options=..., not sslmode",
        ),
    ],
)
def test_a_database_url_the_event_store_would_read_otherwise_is_refused_and_writes_nothing(
    home: Path, url: str, refusal: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The event store and the views would each read the URL their own way: two databases.
    monkeypatch.chdir(tmp_path)
    before = sorted(path.name for path in tmp_path.iterdir())
    done = sealtrail(
        *TRAIN_ADMIN, *as_admin(home), home=home, url=url.format(home=home), extra_env=ADMIN_ENV
    )

    assert done.returncode == 2
    assert f"SEALTRAIL_DATABASE_URL: {refusal}" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert sorted(path.name for path in tmp_path.iterdir()) == before


TRAIN_ADMIN = (
    "user",
    "train",
    "admin",
    "--role",
    "administrator",
    "--course",
    "GCP",
    "--completed-on",
    "2026-01-10",
)


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("SEALTRAIL_CHECKPOINT_EVERY", "0", "SEALTRAIL_CHECKPOINT_EVERY is a whole number"),
        ("SEALTRAIL_CHECKPOINT_SECONDS", "soon", "SEALTRAIL_CHECKPOINT_SECONDS is a whole number"),
        ("SEALTRAIL_LOG_ORIGIN", "my log", "SEALTRAIL_LOG_ORIGIN is a schema-less URL"),
    ],
)
def test_a_bad_checkpoint_setting_is_one_line_and_exit_2(
    home: Path, variable: str, value: str, message: str
) -> None:
    done = sealtrail("verify", home=home, extra_env={variable: value})

    assert done.returncode == 2
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_a_revocation_time_that_is_not_an_instant_is_a_usage_error(home: Path) -> None:
    done = sealtrail(
        *("key", "revoke", "--user", "admin", "--key-id", "ed25519:00", "--reason", "lost"),
        *("--at", "yesterday"),
        *as_admin(home),
        home=home,
    )

    assert done.returncode == 2
    assert "is not YYYY-MM-DDTHH:MM:SSZ" in done.stderr


def test_serve_against_an_unreachable_store_is_one_line_and_exit_2(home: Path) -> None:
    done = sealtrail(
        "serve", "--port", "1", home=home, url="postgresql+psycopg://nobody@127.0.0.1:1/none"
    )

    assert done.returncode == 2
    assert "cannot open the store" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


@pytest.mark.postgres
def test_verify_runs_read_only_with_the_server_public_key_alone(
    tmp_path: Path, postgres_database: str
) -> None:
    primary, auditor = tmp_path / "primary", tmp_path / "auditor"
    # init's events are enough to read: the demonstration cohort verified on PostgreSQL is
    # test_init_demo_and_verify_run_on_postgresql's (loading it here cost 7 s of CPU).
    done = sealtrail("init", home=primary, url=postgres_database)
    assert done.returncode == 0, done.stderr
    (auditor / "keys").mkdir(parents=True)
    shutil.copy(primary / "keys" / "server-ed25519.pub.pem", auditor / "keys")
    # As on a hot standby: every transaction read-only, so any write or DDL would fail.
    read_only = postgres_database + "?options=-c%20default_transaction_read_only%3Don"

    done = sealtrail("verify", home=auditor, url=read_only)
    without_key = sealtrail("verify", home=tmp_path / "nobody", url=read_only)
    writes = sealtrail("checkpoint", home=primary, url=read_only)  # the connection refuses writes
    # An event goes through the event store's own pool: its sessions are read-only too.
    events = sealtrail(
        *TRAIN_ADMIN, *as_admin(primary), home=primary, url=read_only, extra_env=ADMIN_ENV
    )

    total = INIT_EVENTS
    assert done.returncode == 0, done.stderr
    assert f"OK: {total} events checked, 0 findings" in done.stdout
    assert sorted(p.name for p in auditor.rglob("*")) == ["keys", "server-ed25519.pub.pem"]
    assert without_key.returncode == 2
    assert without_key.stderr.startswith("sealtrail: no server key at ")
    assert "copy the store's keys/server-ed25519.pub.pem there" in without_key.stderr
    assert len(without_key.stderr.splitlines()) == 1
    assert writes.returncode == 2 and "read-only transaction" in writes.stderr
    assert len(writes.stderr.splitlines()) == 1  # one line, not a traceback
    assert events.returncode == 2 and "read-only transaction" in events.stderr
    assert len(events.stderr.splitlines()) == 1
    recounted = sealtrail("verify", home=auditor, url=read_only)
    assert f"OK: {total} events checked, 0 findings" in recounted.stdout  # nothing was written


def test_verify_with_an_unreadable_server_public_key_is_one_line_and_exit_2(home: Path) -> None:
    (home / "keys" / "server-ed25519.pub.pem").write_text("not a key\n")

    done = sealtrail("verify", home=home)

    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith("sealtrail: the server public key at ")
    assert "is unreadable: not a readable public key" in done.stderr
    assert len(done.stderr.splitlines()) == 1
