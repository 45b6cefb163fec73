"""``sealtrail validation report``: the traceability matrix of a real run (issue 22, points 3, 6).

The run is real: pytest, in a process of its own with the requirement plugin, runs three marked
tests, one passing, one failing and one skipped, and writes its JUnit XML; the report reads it.
One test lets the report run the marked tests of a file of the suite itself.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

import pypdfium2
import pytest

from infrastructure.documents.certificate import document_signer
from infrastructure.documents.signing import check_pdf_signature
from infrastructure.settings import Settings
from infrastructure.validation.environment import checkout_commit
from infrastructure.validation.requirements import CHECKOUT, load_requirements
from infrastructure.validation.runs import Outcome, read_run
from tests.cli_stores import sealtrail

MARKED = """
import pytest


@pytest.mark.requirement("P11-11.50-2")
def test_the_manifestation_is_printed():
    assert "Rita Lima" in "signed by Rita Lima (approval)"


@pytest.mark.requirement("P11-11.10e-1")
def test_the_trail_keeps_every_row():
    rows = ["created", "corrected"]
    assert len(rows) == 3, "the trail lost a row"


@pytest.mark.requirement("P11-11.200a-1")
def test_a_signing_needs_an_authority():
    pytest.skip("no authority here")


@pytest.mark.requirement("P11-11.300b-1")
@pytest.mark.parametrize("password", ["long enough passphrase", "short", "another long one"])
def test_a_password_is_long_enough(password):
    assert len(password) >= 12, "too short"
"""

UNKNOWN = """
import pytest


@pytest.mark.requirement("P11-11.10e-99")
def test_of_nothing_declared():
    pass
"""


def pytest_run(folder: Path, source: str) -> subprocess.CompletedProcess[str]:
    """pytest on one test module of ``source``, with the requirement plugin, in a new process."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "test_marked.py").write_text(source, encoding="utf-8")
    (folder / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    return subprocess.run(
        [
            *(sys.executable, "-m", "pytest", "-p", "tests.traceability", "-p", "no:cacheprovider"),
            *("-c", str(folder / "pytest.ini"), "--rootdir", str(folder)),
            f"--junitxml={folder / 'junit.xml'}",
            str(folder / "test_marked.py"),
        ],
        cwd=CHECKOUT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


@pytest.fixture(scope="module")
def junit(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("run")
    done = pytest_run(folder, MARKED)
    assert done.returncode == 1, done.stdout + done.stderr  # a test failed
    return folder / "junit.xml"


def report(junit: Path, out: Path, home: Path) -> subprocess.CompletedProcess[str]:
    return sealtrail("validation", "report", "--junit", str(junit), "--out", str(out), home=home)


def pdf_text(pdf: bytes) -> str:
    document = pypdfium2.PdfDocument(pdf)
    return "\n".join(page.get_textpage().get_text_range() for page in document)


@pytest.mark.requirement("URS-validation-1")
def test_the_run_names_the_requirements_each_test_proved(junit: Path) -> None:
    run = read_run(junit)

    ended = {case.name: (case.outcome, case.requirements) for case in run.cases}
    assert ended == {
        "test_the_manifestation_is_printed": (Outcome.PASSED, ("P11-11.50-2",)),
        "test_the_trail_keeps_every_row": (Outcome.FAILED, ("P11-11.10e-1",)),
        "test_a_signing_needs_an_authority": (Outcome.SKIPPED, ("P11-11.200a-1",)),
        "test_a_password_is_long_enough[long enough passphrase]": (
            Outcome.PASSED,
            ("P11-11.300b-1",),
        ),
        "test_a_password_is_long_enough[short]": (Outcome.FAILED, ("P11-11.300b-1",)),
        "test_a_password_is_long_enough[another long one]": (Outcome.PASSED, ("P11-11.300b-1",)),
    }
    assert run.hostname == platform.node()
    assert len(run.sha256) == 64


@pytest.mark.requirement("URS-validation-1")
def test_the_report_shows_clause_requirement_tests_and_result_with_the_failure(
    junit: Path, tmp_path: Path
) -> None:
    out = tmp_path / "oq"

    done = report(junit, out, tmp_path / "home")

    assert done.returncode == 1, done.stderr  # a requirement failed: the OQ did not pass
    html, pdf, verdict = done.stdout.splitlines()
    assert (html, pdf) == (str(out / "traceability.html"), str(out / "traceability.pdf"))
    declared = len(load_requirements().requirements)
    assert verdict.startswith(f"OQ NOT PASSED: {declared} requirements (1 passed, 2 failed, ")
    page = (out / "traceability.html").read_text(encoding="utf-8")
    failed = "failed: test_marked::test_the_trail_keeps_every_row (AssertionError: the trail"
    assert failed in page
    assert "passed: test_marked::test_the_manifestation_is_printed" in page
    assert "skipped: test_marked::test_a_signing_needs_an_authority (no authority here)" in page
    # A parametrised test is one line: its cases counted, the failures named.
    assert (
        "failed: test_marked::test_a_password_is_long_enough [3 cases] (1 failed, 2 passed; "
        "[short] AssertionError: too short" in page
    )
    # The checkout's other tests of those requirements were not in this run, and say so.
    assert "not run: tests/access/test_signing_ceremony.py::test_later_signings" in page
    assert "21 CFR 11.10(e) [failed]" in page
    assert "21 CFR 11.10(j) [procedural]" in page
    assert "21 CFR 11.200(b) [not applicable]" in page
    assert checkout_commit().split()[0] in page
    assert f"<td>{platform.node()}</td>" in page
    reportlab_version = __import__("reportlab").Version
    assert f"<td>reportlab</td><td>{reportlab_version}</td>" in page

    document = (out / "traceability.pdf").read_bytes()
    signer = document_signer(Settings.from_environ({"SEALTRAIL_HOME": str(tmp_path / "home")}))
    assert check_pdf_signature(document, signer).ok
    text = pdf_text(document)
    assert "test_the_trail_keeps_every_row" in text
    assert "OQ NOT PASSED" in text
    assert "P11-11.100c-1" in text  # the procedural requirements, with their evidence


@pytest.mark.requirement("URS-validation-1")
def test_the_report_lists_the_unreleased_changes_and_the_tests_re_run_for_them(
    junit: Path, tmp_path: Path
) -> None:
    changelog = tmp_path / "CHANGELOG.md"
    changelog.write_text(
        "# Changelog\n\n## [Unreleased]\n\n### Fixed\n"
        "- **The audit trail** keeps the row of a correction [P11-11.10e-1].\n"
        "- Nothing a requirement names (see [Keep a Changelog]).\n\n"
        "### Changed\n- Printed signatures name their meaning [P11-11.50-2].\n\n"
        "## [0.1.0] - 2026-01-01\n\n### Added\n- The first release [P11-11.200a-1].\n",
        encoding="utf-8",
    )
    out = tmp_path / "oq"

    done = sealtrail(
        *("validation", "report", "--junit", str(junit), "--out", str(out)),
        *("--changelog", str(changelog)),
        home=tmp_path / "home",
    )

    assert done.returncode == 1, done.stderr
    page = (out / "traceability.html").read_text(encoding="utf-8")
    changes = page.split("<h2>Change control", 1)[1].split("<h2>", 1)[0]
    rows = changes.split("<tr>")[2:]
    assert len(rows) == 2  # the released entry and the one naming no requirement are not listed
    fixed, changed = rows
    assert "Fixed: The audit trail keeps the row of a correction [P11-11.10e-1]." in fixed
    assert "failed: test_marked::test_the_trail_keeps_every_row" in fixed
    assert "Changed: Printed signatures name their meaning [P11-11.50-2]." in changed
    assert "passed: test_marked::test_the_manifestation_is_printed" in changed


def test_a_changelog_naming_an_unknown_requirement_is_one_line_and_writes_nothing(
    junit: Path, tmp_path: Path
) -> None:
    changelog = tmp_path / "CHANGELOG.md"
    changelog.write_text(
        "## [Unreleased]\n\n### Fixed\n- A fix [P11-11.10e-42].\n", encoding="utf-8"
    )

    done = sealtrail(
        *("validation", "report", "--junit", str(junit), "--out", str(tmp_path / "oq")),
        *("--changelog", str(changelog)),
        home=tmp_path / "home",
    )

    assert done.returncode == 2
    assert "names [P11-11.10e-42], which docs/validation/requirements.toml" in done.stderr
    assert done.stderr.count("\n") == 1
    assert not (tmp_path / "oq").exists()


@pytest.mark.requirement("URS-validation-1")
def test_the_report_runs_the_marked_tests_itself_without_a_junit_file(tmp_path: Path) -> None:
    out = tmp_path / "oq"

    done = sealtrail(
        *(
            "validation",
            "report",
            "--out",
            str(out),
            "--tests",
            "tests/unit/test_signing_vector.py",
        ),
        home=tmp_path / "home",
    )

    assert done.returncode == 1, done.stderr  # only some requirements ran
    assert (out / "junit.xml").is_file()
    page = (out / "traceability.html").read_text(encoding="utf-8")
    assert (
        "passed: tests.unit.test_signing_vector::test_the_fixed_key_has_the_documented_public_"
        "key_and_id" in page
    )
    assert "2 passed" in done.stderr  # pytest's own lines


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ("not xml at all", "is not XML"),
        ("<report><test/></report>", "holds no JUnit test suite"),
        (None, "proved requirement P11-11.10e-99, which docs/validation/requirements.toml"),
    ],
    ids=["not-xml", "not-junit", "unknown-requirement"],
)
def test_a_run_the_report_cannot_read_is_one_line_and_writes_nothing(
    junit: Path, tmp_path: Path, content: str | None, says: str
) -> None:
    bad = tmp_path / "junit.xml"
    bad.write_text(
        content
        if content is not None
        else junit.read_text(encoding="utf-8").replace('"P11-11.10e-1"', '"P11-11.10e-99"'),
        encoding="utf-8",
    )
    out = tmp_path / "oq"

    done = report(bad, out, tmp_path / "home")

    assert done.returncode == 2
    assert done.stderr.startswith("sealtrail: ") and says in done.stderr, done.stderr
    assert done.stderr.count("\n") == 1
    assert not (out / "traceability.html").exists()
    assert not (out / "traceability.pdf").exists()


def test_reading_a_run_and_running_one_at_once_is_wrong_usage(junit: Path, tmp_path: Path) -> None:
    done = sealtrail(
        *("validation", "report", "--junit", str(junit), "--out", str(tmp_path / "oq")),
        *("--tests", "tests/unit"),
        home=tmp_path / "home",
    )

    assert done.returncode == 2
    assert "--junit reads a run" in done.stderr
    assert not (tmp_path / "oq").exists()


def test_a_test_marked_with_an_undeclared_requirement_stops_the_run(tmp_path: Path) -> None:
    done = pytest_run(tmp_path / "run", UNKNOWN)

    assert done.returncode == pytest.ExitCode.USAGE_ERROR
    assert "'P11-11.10e-99', which docs/validation/requirements.toml does not declare" in (
        done.stderr
    )
