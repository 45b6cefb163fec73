"""Which Chromium the browser tests drive: Debian's by default, said once, never a silent skip
under CI (as for PostgreSQL, tests/unit/test_test_database.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.chromium import DEFAULT_EXECUTABLE, VARIABLE, find_chromium
from tests.conftest import postgres_admin_url
from tests.nested_runs import pytest_in_subprocess
from tests.postgres import VARIABLE as POSTGRES_VARIABLE

NOWHERE = "/nonexistent/chromium"
A_BROWSER_TEST = "tests/browser/test_harness.py::test_axe_passes_a_page_without_one"


def test_the_default_is_debians_chromium() -> None:
    assert DEFAULT_EXECUTABLE == "/usr/bin/chromium"


def test_a_named_chromium_that_is_not_there_means_none_and_says_which() -> None:
    found = find_chromium({VARIABLE: NOWHERE})

    assert found.executable is None
    assert found.header == (
        f"Browser tests: skipped (no Chromium at {NOWHERE}: {VARIABLE} names {NOWHERE})"
    )


def test_a_named_chromium_that_is_there_is_used(tmp_path: Path) -> None:
    executable = tmp_path / "chromium"
    executable.write_text("#!/bin/sh\n")
    executable.chmod(0o755)

    found = find_chromium({VARIABLE: str(executable)})

    assert found.executable == str(executable)
    assert found.header == f"Browser tests: {executable}"


def test_without_chromium_a_browser_test_skips_saying_why() -> None:
    done = pytest_in_subprocess("-rs", A_BROWSER_TEST, **{VARIABLE: NOWHERE})

    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 skipped" in done.stdout
    assert f"no Chromium at {NOWHERE}" in done.stdout
    header = [line for line in done.stdout.splitlines() if line.startswith("Browser tests:")]
    assert len(header) == 1, done.stdout  # said once, in the report's header


def test_under_ci_no_chromium_stops_the_run_in_one_line() -> None:
    postgres = postgres_admin_url()
    if not postgres:
        pytest.skip("under CI=true a run with no PostgreSQL stops for PostgreSQL first")

    done = pytest_in_subprocess(
        "--collect-only",
        "-q",
        "tests/unit/test_canonical.py",
        CI="true",
        **{VARIABLE: NOWHERE, POSTGRES_VARIABLE: postgres},
    )

    assert done.returncode != 0, done.stdout
    assert "CI=true, so the browser tests must run" in done.stderr, done.stderr
    assert NOWHERE in done.stderr
    assert "Traceback" not in done.stderr
