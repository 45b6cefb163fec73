"""``sealtrail packet build`` and ``verify`` as a sponsor and a regulator run them.

The regulator's side runs in another folder, with no ``SEALTRAIL_*`` variable and the store
deleted: nothing but the zip and the installed project.
"""

from __future__ import annotations

import gc
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from datetime import datetime
from pathlib import Path

import pytest

from infrastructure.garbage_collector import YOUNG_GENERATION_THRESHOLD
from infrastructure.packets.archive import write_zip
from infrastructure.packets.verify import verify_packet
from tests.cli_stores import (
    ADMIN_PASSWORD,
    DATA_MANAGER_EVENTS,
    DEMO_EVENTS,
    DEMO_STAFF_EVENTS,
    INITIALISED_EVENTS,
    SEALTRAIL,
    data_manager_at,
    sealtrail,
)
from tests.homes import database_of
from tests.packets.conftest import build

AUDIT_CSV = "audit-trail/audit-trail.csv"


def offline(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The command on a machine that has never seen the store: no settings, another folder."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("SEALTRAIL_")}
    return subprocess.run(
        [SEALTRAIL, *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def rezip_with_one_byte_changed(data: bytes, path: str) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
        dated = archive.getinfo(path).date_time
    content = bytearray(files[path])
    content[len(content) // 2] ^= 0x01
    files[path] = bytes(content)
    return write_zip(files, datetime(*dated))


@pytest.mark.requirement("P11-11.10c-2")
def test_a_packet_built_on_the_console_verifies_elsewhere_with_the_store_gone(
    demo_home: Path,
) -> None:
    # Without its PDFs: the demonstration's are drawn, built and verified elsewhere, by the
    # README's tour (tests/e2e/test_readme_tour.py), in half a minute each way.
    # Built twice, the packets differ: each build authenticates its data manager, and the
    # attempt is an event of the log the second packet covers. A packet of the same log is
    # byte-identical (tests/packets/test_packet_store.py).
    first = build(demo_home, "--no-documents")

    elsewhere = demo_home.parent / f"{demo_home.name}-regulator"
    elsewhere.mkdir()
    (elsewhere / "packet.zip").write_bytes(first)
    shutil.rmtree(demo_home)

    verified = offline("packet", "verify", "packet.zip", cwd=elsewhere)

    assert verified.returncode == 0, verified.stdout + verified.stderr
    # the log: init, the demonstration, the data manager who built the packet, and the start
    # of the data manager's authentication log with the attempt that opened the build
    events = INITIALISED_EVENTS + DEMO_STAFF_EVENTS + DEMO_EVENTS + DATA_MANAGER_EVENTS + 2
    assert verified.stdout.startswith(f"packet verified: {events} events")

    (elsewhere / "changed.zip").write_bytes(rezip_with_one_byte_changed(first, AUDIT_CSV))
    failed = offline("packet", "verify", "changed.zip", cwd=elsewhere)

    assert failed.returncode == 1
    assert f"{AUDIT_CSV}: file-altered:" in failed.stdout
    assert f"{AUDIT_CSV}: derived-mismatch:" not in failed.stdout.split("file-altered")[0]
    assert failed.stdout.splitlines()[-1].startswith("packet FAILED")


def test_verify_json_is_one_document_naming_each_finding(demo_home: Path) -> None:
    data = build(demo_home, "--no-documents")
    (demo_home / "changed.zip").write_bytes(rezip_with_one_byte_changed(data, "datasets/LB.csv"))

    done = offline("packet", "verify", "--json", "changed.zip", cwd=demo_home)

    assert done.returncode == 1
    report = json.loads(done.stdout)
    assert report["ok"] is False
    assert {(f["kind"], f["file"]) for f in report["findings"]} >= {
        ("file-altered", "datasets/LB.csv"),
        ("derived-mismatch", "datasets/LB.csv"),
    }
    assert report["documents_in_packet"] is False


def test_build_prints_the_path_and_the_digest(demo_home: Path) -> None:
    out = demo_home / "sub" / "p.zip"

    done = sealtrail(
        *("packet", "build", "--no-documents", "--out", str(out)),
        home=demo_home,
        extra_env=data_manager_at(demo_home),
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{out}\tsha256:{hashlib.sha256(out.read_bytes()).hexdigest()}\n"


def test_verify_of_a_missing_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    done = offline("packet", "verify", "nowhere.zip", cwd=tmp_path)

    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith("sealtrail: cannot read nowhere.zip")
    assert len(done.stderr.splitlines()) == 1


def test_verify_of_what_is_not_a_zip_fails_naming_it(tmp_path: Path) -> None:
    (tmp_path / "notes.zip").write_text("not a zip")

    done = offline("packet", "verify", "notes.zip", cwd=tmp_path)

    assert done.returncode == 1
    assert "packet-unreadable" in done.stdout


def test_build_without_a_person_is_a_usage_error_and_builds_nothing(home: Path) -> None:
    done = sealtrail("packet", "build", "--out", str(home / "p.zip"), home=home)

    assert done.returncode == 2
    assert "Missing option '--as'" in done.stderr
    assert not (home / "p.zip").exists()


def test_an_administrator_may_not_build_a_packet_with_the_sponsors_key(home: Path) -> None:
    done = sealtrail(
        *("packet", "build", "--out", str(home / "p.zip"), "--as", "admin"),
        home=home,
        extra_env={"SEALTRAIL_PASSWORD": ADMIN_PASSWORD},
    )

    assert done.returncode == 1
    assert done.stderr == (
        "sealtrail: Not permitted: an administrator does not build reports and packets\n"
    )
    assert not (home / "p.zip").exists()


def test_a_data_manager_named_by_sealtrail_user_builds_with_the_sponsors_key(home: Path) -> None:
    person = data_manager_at(home)

    done = sealtrail(
        "packet",
        "build",
        "--no-documents",
        "--out",
        str(home / "p.zip"),
        home=home,
        extra_env=person,
    )

    assert done.returncode == 0, done.stderr
    attempts = sealtrail(
        *("user", "attempts", "dm1", "--json", "--as", "admin"),
        home=home,
        extra_env={"SEALTRAIL_PASSWORD": ADMIN_PASSWORD},
    )
    newest = json.loads(attempts.stdout)[0]
    assert (newest["channel"], newest["outcome"]) == ("console", "succeeded")


def build_as_admin(home: Path, password: str) -> subprocess.CompletedProcess[str]:
    out = str(home / "p.zip")
    return sealtrail(
        *("packet", "build", "--out", out, "--as", "admin", "--key", str(home / "admin.pem")),
        home=home,
        extra_env={"SEALTRAIL_PASSWORD": password},
    )


def test_an_administrator_may_not_sign_a_packet(home: Path) -> None:
    done = build_as_admin(home, ADMIN_PASSWORD)

    assert done.returncode == 1
    assert done.stderr.startswith("sealtrail: Packet signer not accepted: admin is not")
    assert not (home / "p.zip").exists()


def test_a_wrong_password_for_the_signer_is_refused(home: Path) -> None:
    done = build_as_admin(home, "not the password")

    assert done.returncode == 1
    assert len(done.stderr.splitlines()) == 1
    assert not (home / "p.zip").exists()


def test_build_on_a_store_never_initialised_is_one_line_and_exit_2(tmp_path: Path) -> None:
    done = sealtrail(
        *("packet", "build", "--out", str(tmp_path / "p.zip"), "--as", "dm1"),
        home=tmp_path,
        extra_env={"SEALTRAIL_PASSWORD": "whatever"},
    )

    assert done.returncode == 2
    assert len(done.stderr.splitlines()) == 1
    assert not (tmp_path / "p.zip").exists()


def test_a_lost_sponsor_key_is_named_and_init_does_not_replace_it(home: Path) -> None:
    (home / "keys" / "sponsor-packets-ed25519.pem").unlink()
    # The account and its key are in the log: a new key must be registered, not made silently.
    again = sealtrail("init", home=home)
    done = sealtrail(
        "packet", "build", "--out", str(home / "p.zip"), home=home, extra_env=data_manager_at(home)
    )

    assert again.returncode == 0
    assert "sponsor's packet-signing key" not in again.stdout
    assert done.returncode == 2
    assert "no sponsor packet key at" in done.stderr
    assert "register a new key for the account sponsor" in done.stderr


@pytest.mark.parametrize(
    "command",
    [
        ("packet", "build", "--no-documents", "--out", "p.zip", "--as", "nobody"),
        ("packet", "verify", "notes.zip"),
        ("packet", "receive", "notes.zip", "--as", "nobody", "--key", "notes.zip"),
    ],
)
def test_the_packet_commands_collect_the_young_generation_less_often(
    home: Path, command: tuple[str, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A packet's events are held until the command ends: CPython's thresholds had the
    # collector walk them again and again (docs/benchmarks-packet.md, the collector). Each
    # command here stops at its first check; the collector is set before it.
    (home / "notes.zip").write_text("not a zip")
    monkeypatch.chdir(home)
    before = gc.get_threshold()
    gc.set_threshold(700, *before[1:])
    try:
        done = sealtrail(*command, home=home, extra_env={"SEALTRAIL_PASSWORD": "not it"})
        young = gc.get_threshold()[0]
    finally:
        gc.set_threshold(*before)

    assert done.returncode != 0
    assert young == YOUNG_GENERATION_THRESHOLD, done.stderr


BUILD = ("packet", "build", "--no-documents")
OPEN_FILES = 24
"""A limit on open files that leaves a build room for its own (it builds the demonstration's
packet under 16: Python, the store's connections, the spooled events and proofs, the ODM
schema's files), far under a service's usual 1,024."""


def test_a_build_holds_no_open_file_for_each_file_of_the_packet(demo_home: Path) -> None:
    # A file a serious adverse event (its CONEP notification, JSON and PDF) stays in memory:
    # spooled to disk, each held a descriptor open until the zip was written, so a study with
    # a few hundred such events could not be packed under a service's limit. The
    # demonstration's packet has 34 files; spooling each failed under 31.
    out = demo_home / "limited.zip"
    env = {key: value for key, value in os.environ.items() if not key.startswith("SEALTRAIL_")}
    env |= {"SEALTRAIL_HOME": str(demo_home), "SEALTRAIL_DATABASE_URL": database_of(demo_home)}
    env |= data_manager_at(demo_home)

    # The limit set in the process that becomes the command (not between fork and exec: this
    # test process may run threads).
    limited = (
        "import os, resource, sys; "
        f"resource.setrlimit(resource.RLIMIT_NOFILE, ({OPEN_FILES}, {OPEN_FILES})); "
        "os.execv(sys.argv[1], sys.argv[1:])"
    )
    done = subprocess.run(
        [sys.executable, "-c", limited, SEALTRAIL, *BUILD, "--out", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert verify_packet(out.read_bytes(), redraw_documents=False).ok
