"""``sealtrail check-install``, the installation qualification, as a user runs it: a line per
check, exit 1 on a failure, and a record of the run signed with the server's key."""

from __future__ import annotations

import json
import re
import socket
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy.engine import make_url

from infrastructure.errors import ConfigurationError
from infrastructure.installation.bounds import Bounds, NtpServer, ntp_server
from infrastructure.installation.host import check_clock, check_free_disk
from infrastructure.installation.lock import Lock, check_dependencies, check_python, read_lock
from infrastructure.installation.results import CheckResult, Status
from infrastructure.settings import Settings
from signatures.errors import SignatureInvalid
from signatures.keys import public_key_from_pem
from signatures.receipts import verify_receipt
from tests.cli_stores import sealtrail
from tests.homes import database_of
from tests.postgres import conninfo
from tests.sntp import sntp_server

CHECKS = [
    "python",
    "dependencies",
    "database",
    "append-only triggers",
    "key files",
    "time zones",
    "clock",
    "free disk",
]


@pytest.fixture(autouse=True)
def private_homes(request: pytest.FixtureRequest) -> None:
    """The tests' homes made private, as ``sealtrail init`` makes a home it creates (0700):
    pytest made these folders first, with its own mode, and init keeps an existing folder's."""
    for name in ("home", "home_on_each_backend"):
        if name in request.fixturenames:
            Path(request.getfixturevalue(name)).chmod(0o700)


def lines(done: subprocess.CompletedProcess[str]) -> dict[str, tuple[str, str]]:
    """Each check's status and detail, by name, from the command's output."""
    found = {}
    for line in done.stdout.splitlines():
        for name in CHECKS:
            if line.startswith(f"{name}  "):
                status, _, detail = line[len(name) :].strip().partition("  ")
                found[name] = (status, detail.strip())
    return found


def offset_in(detail: str) -> float:
    """The offset a clock line names, in seconds (the responder's skew, give or take the time
    its answer took on a loaded machine)."""
    found = re.search(r"([+-]\d+\.\d+) s from the NTP server", detail)
    assert found is not None, detail
    return float(found.group(1))


def record_of(done: subprocess.CompletedProcess[str]) -> dict[str, object]:
    path = done.stdout.splitlines()[-1].split(": ", 1)[1]
    document: dict[str, object] = json.loads(Path(path).read_text(encoding="utf-8"))
    return document


def failing(done: subprocess.CompletedProcess[str]) -> dict[str, str]:
    return {name: detail for name, (status, detail) in lines(done).items() if status != "PASS"}


def server_public_key(home: Path) -> object:
    return public_key_from_pem((home / "keys" / "server-ed25519.pub.pem").read_bytes())


@pytest.mark.requirement("URS-validation-2", "P11-11.10c-1", "P11-11.300e-1")
def test_a_fresh_store_passes_every_check_and_keeps_a_signed_record(
    home_on_each_backend: Path,
) -> None:
    home = home_on_each_backend
    with sntp_server(skew=0.0) as ntp:
        done = sealtrail("check-install", home=home, extra_env={"SEALTRAIL_NTP_SERVER": ntp})

    assert done.returncode == 0, done.stdout + done.stderr
    found = lines(done)
    assert list(found) == CHECKS
    assert {status for status, _ in found.values()} == {"PASS"}, done.stdout
    assert "UPDATE and DELETE" in found["append-only triggers"][1]
    assert found["clock"][1].startswith("within bounds: ")
    assert abs(offset_in(found["clock"][1])) < 0.5
    assert done.stdout.splitlines()[-1].startswith("record (signed): ")
    record = record_of(done)
    assert record["passed"] is True
    assert [check["name"] for check in record["checks"]] == CHECKS  # type: ignore[attr-defined]
    assert record["database"] == database_of(home)
    verify_receipt(server_public_key(home), record)  # type: ignore[arg-type]
    with pytest.raises(SignatureInvalid):
        verify_receipt(server_public_key(home), {**record, "passed": False})  # type: ignore[arg-type]


@pytest.mark.requirement("URS-validation-2")
def test_a_dropped_trigger_fails_its_line_and_the_run(home_on_each_backend: Path) -> None:
    home = home_on_each_backend
    url = make_url(database_of(home))
    if url.get_backend_name() == "sqlite":
        with sqlite3.connect(str(url.database)) as connection:
            connection.execute("DROP TRIGGER stored_events_refuse_update")
        dropped = "stored_events_refuse_update"
    else:
        with psycopg.connect(conninfo(url), autocommit=True) as connection:
            connection.execute("DROP TRIGGER merkle_leaves_refuse_update_delete ON merkle_leaves")
        dropped = "merkle_leaves_refuse_update_delete"

    done = sealtrail("check-install", home=home)

    assert done.returncode == 1
    assert list(failing(done)) == ["append-only triggers", "clock"]
    detail = failing(done)["append-only triggers"]
    assert f"trigger {dropped} missing" in detail
    assert "UPDATE on" in detail and "accepted (rolled back)" in detail
    assert "the installation failed 1 of 8 checks" in done.stderr
    assert record_of(done)["passed"] is False
    # The check changed nothing: the trigger is still missing (opening the store would put it
    # back), and no row was changed.
    again = sealtrail("check-install", home=home)
    assert f"trigger {dropped} missing" in failing(again)["append-only triggers"]


@pytest.mark.requirement("URS-validation-2")
def test_a_key_file_others_may_read_fails_the_key_files_line(home: Path) -> None:
    (home / "keys" / "server-ed25519.pem").chmod(0o644)

    done = sealtrail("check-install", home=home)

    assert done.returncode == 1
    assert failing(done)["key files"] == (
        f"{home / 'keys' / 'server-ed25519.pem'} is 0644: open to others "
        "(a private file is 0600 or stricter)"
    )


def test_a_missing_key_file_and_an_open_keys_folder_fail_the_key_files_line(home: Path) -> None:
    (home / "keys" / "view-seal-key").unlink()
    (home / "keys").chmod(0o755)

    detail = failing(sealtrail("check-install", home=home))["key files"]

    assert f"{home / 'keys' / 'view-seal-key'} missing" in detail
    assert f"{home / 'keys'} is 0755: open to others (a private folder is 0700" in detail


@pytest.mark.requirement("URS-validation-2")
def test_a_database_that_does_not_answer_fails_and_its_triggers_are_not_checked(
    home: Path,
) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/sealtrail"

    done = sealtrail("check-install", home=home, url=url)

    assert done.returncode == 1
    found = lines(done)
    assert found["database"][0] == "FAIL"
    assert found["database"][1].startswith(f"postgresql+psycopg://postgres@127.0.0.1:{port}/")
    assert "does not answer" in found["database"][1]
    assert found["append-only triggers"] == ("SKIP", "not checked: no database answered")
    assert found["key files"][0] == "PASS"
    assert "Traceback" not in done.stderr


def test_a_missing_sqlite_file_is_not_made_but_reported(home: Path) -> None:
    missing = home / "elsewhere.sqlite3"

    done = sealtrail("check-install", home=home, url=f"sqlite:///{missing}")

    assert lines(done)["database"] == (
        "FAIL",
        f"no database at sqlite:///{missing}: run 'sealtrail init'",
    )
    assert not missing.exists()


@pytest.mark.requirement("URS-validation-2")
def test_a_clock_out_of_bounds_fails_the_clock_line_and_the_run(home: Path) -> None:
    with sntp_server(skew=90.0) as ntp:
        done = sealtrail(
            "check-install",
            home=home,
            extra_env={"SEALTRAIL_NTP_SERVER": ntp, "SEALTRAIL_CLOCK_TOLERANCE_SECONDS": "60"},
        )

    assert done.returncode == 1
    assert list(failing(done)) == ["clock"]
    assert failing(done)["clock"].startswith("off by +")
    assert failing(done)["clock"].endswith("(stratum 2; bound ±60 s)")
    assert abs(offset_in(failing(done)["clock"]) - 90.0) < 0.5


@pytest.mark.parametrize(
    ("server", "said"),
    [
        ({"skew": -90.0}, "off by -"),
        ({"stratum": 0, "leap": 3}, "is not synchronised itself (stratum 0, leap indicator 3)"),
        ({"silent": True}, "no answer from the NTP server 127.0.0.1:"),
    ],
)
def test_a_clock_behind_or_unconfirmed_fails(server: dict[str, Any], said: str) -> None:
    with sntp_server(**server) as ntp:
        result = check_clock(Bounds(ntp_server(ntp), clock_tolerance_seconds=60))

    assert result.status is Status.FAIL
    assert said in result.detail
    if "skew" in server:
        assert abs(offset_in(result.detail) - server["skew"]) < 0.5


def test_a_clock_within_a_wider_tolerance_passes() -> None:
    with sntp_server(skew=30.0) as ntp:
        result = check_clock(Bounds(ntp_server(ntp), clock_tolerance_seconds=60))

    assert result.status is Status.PASS
    assert result.detail.startswith("within bounds: +")
    assert abs(offset_in(result.detail) - 30.0) < 0.5


def test_without_an_ntp_server_the_clock_is_a_warning_not_a_failure(home: Path) -> None:
    done = sealtrail("check-install", home=home)

    assert done.returncode == 0
    assert lines(done)["clock"] == (
        "WARN",
        "no NTP server configured (SEALTRAIL_NTP_SERVER): the clock's offset was not checked",
    )


def test_too_little_free_disk_fails_the_free_disk_line(tmp_path: Path) -> None:
    settings = Settings.from_environ({"SEALTRAIL_HOME": str(tmp_path)})

    result = check_free_disk(settings, Bounds(min_free_disk_mb=999_999_999))

    assert result.status is Status.FAIL
    assert result.detail.endswith(f"under {tmp_path}, less than the 999999999 MB required")


def test_a_home_that_is_not_there_fails_the_free_disk_line(tmp_path: Path) -> None:
    settings = Settings.from_environ(
        {"SEALTRAIL_HOME": str(tmp_path / "none"), "SEALTRAIL_DATABASE_URL": "postgresql://h/db"}
    )

    result = check_free_disk(settings, Bounds())

    assert result == CheckResult(
        "free disk", Status.FAIL, f"{tmp_path / 'none'} does not exist: run 'sealtrail init'"
    )


@pytest.mark.parametrize(
    ("raw", "server"),
    [
        ("ntp.example", NtpServer("ntp.example", 123)),
        ("ntp.example:1123", NtpServer("ntp.example", 1123)),
        ("[::1]:1123", NtpServer("::1", 1123)),
        ("[::1]", NtpServer("::1", 123)),
    ],
)
def test_an_ntp_server_is_a_host_and_perhaps_a_port(raw: str, server: NtpServer) -> None:
    assert ntp_server(raw) == server


@pytest.mark.parametrize(
    ("variable", "value", "said"),
    [
        ("SEALTRAIL_NTP_SERVER", "ntp.example:port", "SEALTRAIL_NTP_SERVER is HOST, HOST:PORT"),
        ("SEALTRAIL_CLOCK_TOLERANCE_SECONDS", "0", "SEALTRAIL_CLOCK_TOLERANCE_SECONDS is a whole"),
    ],
)
def test_a_malformed_bound_is_one_line_and_exit_2_with_no_record(
    home: Path, variable: str, value: str, said: str
) -> None:
    done = sealtrail("check-install", home=home, extra_env={variable: value})

    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith(f"sealtrail: {said}")
    assert len(done.stderr.splitlines()) == 1
    assert not (home / "check-install").exists()


@pytest.mark.parametrize(
    ("environ", "said"),
    [
        ({"SEALTRAIL_NTP_SERVER": "ntp.example:70000"}, "SEALTRAIL_NTP_SERVER is HOST"),
        ({"SEALTRAIL_NTP_SERVER": "[::1"}, "SEALTRAIL_NTP_SERVER is HOST"),
        ({"SEALTRAIL_NTP_SERVER": "[::1]123"}, "SEALTRAIL_NTP_SERVER is HOST"),
        ({"SEALTRAIL_NTP_SERVER": "a b"}, "SEALTRAIL_NTP_SERVER is HOST"),
        ({"SEALTRAIL_MIN_FREE_DISK_MB": "lots"}, "SEALTRAIL_MIN_FREE_DISK_MB is a whole number"),
    ],
)
def test_a_malformed_bound_is_refused(environ: dict[str, str], said: str) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(said)):
        Bounds.from_environ(environ)


def test_out_names_the_record_and_json_prints_it_alone(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "iq" / "record.json"

    done = sealtrail("check-install", "--json", "--out", str(out), home=home)

    assert done.returncode == 0
    printed = json.loads(done.stdout)
    assert printed == json.loads(out.read_text(encoding="utf-8"))
    verify_receipt(server_public_key(home), printed)  # type: ignore[arg-type]


def test_a_record_that_cannot_be_written_fails_the_run(home: Path) -> None:
    (home / "blocker").write_text("a file where a folder is asked for")

    done = sealtrail("check-install", "--out", str(home / "blocker" / "r.json"), home=home)

    assert done.returncode == 1
    assert done.stderr.startswith(f"sealtrail: cannot write the record to {home / 'blocker'}")


def test_a_home_that_is_not_there_is_not_made_and_every_line_says_what_is_missing(
    tmp_path: Path,
) -> None:
    home = tmp_path / "never-initialised"

    done = sealtrail("check-install", home=home)

    assert done.returncode == 1
    assert set(failing(done)) == {
        "database",
        "append-only triggers",
        "key files",
        "free disk",
        "clock",
    }
    assert failing(done)["key files"].startswith(f"{home / 'keys' / 'server-ed25519.pem'} missing")
    assert done.stderr.startswith(f"sealtrail: cannot write the record to {home / 'check-install'}")
    assert not home.exists()


def test_a_database_sealtrail_never_made_fails_the_triggers_line(home: Path) -> None:
    empty = home / "empty.sqlite3"
    empty.touch(mode=0o600)

    done = sealtrail("check-install", home=home, url=f"sqlite:///{empty}")

    assert lines(done)["database"][0] == "PASS"
    detail = failing(done)["append-only triggers"]
    assert "trigger stored_events_refuse_update missing" in detail
    assert "table stored_events missing" in detail
    assert "table cosignatures missing" in detail


def test_without_the_server_key_the_record_says_why_it_is_unsigned(home: Path) -> None:
    (home / "keys" / "server-ed25519.pem").unlink()

    done = sealtrail("check-install", home=home)

    assert done.returncode == 1
    assert done.stdout.splitlines()[-1].startswith("record (UNSIGNED): ")
    record = record_of(done)
    assert "server_signature" not in record
    assert "no server key at" in str(record["unsigned_because"])


# -- the lock ----------------------------------------------------------------------------------


def test_the_lock_names_its_python_and_pins_what_is_installed() -> None:
    lock = read_lock()

    assert check_python(lock).status is Status.PASS
    assert check_dependencies(lock).status is Status.PASS
    assert lock.pins["ntplib"] and lock.pins["sqlalchemy"]


@pytest.mark.requirement("URS-validation-2")
def test_a_version_the_lock_does_not_pin_fails_the_dependencies_line() -> None:
    lock = read_lock()
    pins = {**lock.pins, "flask": "0.1"}
    del pins["ntplib"]

    result = check_dependencies(Lock(lock.path, lock.python, pins))

    assert result.status is Status.FAIL
    assert "flask " in result.detail and "installed, the lock pins 0.1" in result.detail
    assert "ntplib 0.4.0 is not in the lock" in result.detail


def test_another_python_than_the_locks_fails_the_python_line() -> None:
    lock = read_lock()

    result = check_python(Lock(lock.path, "3.99", lock.pins))

    assert result.status is Status.FAIL
    assert "constraints.txt was made with 3.99" in result.detail


def test_no_lock_fails_both_lines(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        read_lock(tmp_path / "constraints.txt")

    assert check_python(None).status is Status.FAIL
    assert check_dependencies(None, "constraints.txt: No such file").detail == (
        "no lock: constraints.txt: No such file"
    )
