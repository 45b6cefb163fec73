"""What a new user sees: the package builds without a warning, and `make run` prints a few lines
that end with the one-time passwords: the administrator's, then the demonstration staff's."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from tests.e2e.test_readme_tour import free_port

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
SOURCES = ("pyproject.toml", "README.md", "LICENSE", "wsgi.py")
PACKAGES = ("domain", "signatures", "projections", "infrastructure", "api")


def project_copy(into: Path) -> Path:
    """The files the build reads, copied, so that building leaves the repository untouched."""
    into.mkdir()
    for name in SOURCES:
        shutil.copy2(ROOT / name, into / name)
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, into / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    return into


def test_the_package_builds_and_installs_editable_without_a_warning(tmp_path: Path) -> None:
    project = project_copy(tmp_path / "project")
    (tmp_path / "metadata").mkdir()
    (tmp_path / "wheel").mkdir()
    built = tmp_path / "built"
    script = (
        "import pathlib, setuptools.build_meta as backend\n"
        f"metadata = backend.prepare_metadata_for_build_wheel({str(tmp_path / 'metadata')!r})\n"
        f"wheel = backend.build_editable({str(tmp_path / 'wheel')!r})\n"
        f"pathlib.Path({str(built)!r}).write_text(metadata + '\\n' + wheel)\n"
    )

    # -W error: any warning the backend raises (what pip shows a user) fails the build.
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", script],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 0, done.stderr[-3000:]
    metadata_dir, wheel_name = built.read_text().splitlines()
    metadata = (tmp_path / "metadata" / metadata_dir / "METADATA").read_text(encoding="utf-8")
    assert "License-Expression: LicenseRef-Proprietary" in metadata
    assert "License-File: LICENSE" in metadata
    with zipfile.ZipFile(tmp_path / "wheel" / wheel_name) as wheel:
        (pth,) = [name for name in wheel.namelist() if name.endswith(".pth")]
        # one line naming the repository: every tool imports the packages from where they are
        assert wheel.read(pth).decode().strip() == str(project.resolve())


def wait_until_listening(port: int, make: subprocess.Popen[bytes]) -> None:
    """A bare TCP connection, so the server's access log stays empty."""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if make.poll() is not None:
            raise AssertionError(f"make run exited with {make.returncode} before serving")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"nothing listened on port {port} within 180 s")


@pytest.mark.slow
def test_make_run_prints_a_few_lines_ending_with_the_one_time_passwords(tmp_path: Path) -> None:
    shutil.copy2(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / ".venv").symlink_to(VENV_BIN.parent)
    # A new user's shell: no store of the tests' and no outer make (under `make test` the
    # inherited MAKELEVEL makes make print "Entering/Leaving directory" around run's output).
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("SEALTRAIL_") and key not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS")
    }
    port = free_port()
    stdout, stderr = tmp_path / "stdout", tmp_path / "stderr"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        # -o: the test's own installation stands for the one `make run` would make.
        make = subprocess.Popen(
            ["make", "-f", str(ROOT / "Makefile"), "-o", ".venv/.installed", "run", f"PORT={port}"],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
        try:
            wait_until_listening(port, make)
            time.sleep(1)  # what gunicorn would say once it listens
        finally:
            os.killpg(make.pid, signal.SIGINT)  # Ctrl-C
            make.wait(timeout=60)

    printed = stdout.read_text(encoding="utf-8")
    complained = stderr.read_text(encoding="utf-8")
    lines = [line for line in printed.splitlines() if line.strip()]
    assert "warning" not in (printed + complained).lower()
    assert "deprecat" not in (printed + complained).lower()
    assert len(lines) <= 24, printed
    rule = "=" * 72
    # The demonstration staff's table, framed, and nothing after it ...
    staff = lines[-10:]
    assert staff[0] == staff[-1] == rule, printed
    assert staff[2].split() == ["user", "id", "role", "one-time", "password"]
    assert [row.split()[:2] for row in staff[3:7]] == [
        ["demo.coordinator", "site_coordinator"],
        ["demo.investigator", "investigator"],
        ["demo.monitor", "monitor"],
        ["demo.data_manager", "sponsor_data_manager"],
    ]
    assert staff[7].startswith("shown only this once")
    # ... just after the administrator's, framed too (the demo's one line between them).
    assert lines[-11].startswith("demonstration cohort loaded: ")
    assert lines[-14].startswith("administrator: admin, one-time password: "), printed
    assert lines[-13].startswith("shown only this once")
    assert lines[-12] == lines[-15] == rule
    assert f"serving http://127.0.0.1:{port}" in printed
    assert "OK: " in printed and "0 findings" in printed
