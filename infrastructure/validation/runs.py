"""A run of the marked tests, as pytest's JUnit XML records it; or the run itself.

pytest writes one ``<testcase>`` per test (one per parameter of a parametrised test) with its
outcome; ``tests/traceability.py`` adds a ``requirement`` property for each requirement the
test's markers name, so that the file says on its own which requirement each test proved.
The file is read with entities and network access off: it is data from a run, not trusted.
"""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from lxml import etree

from infrastructure.errors import ConfigurationError
from infrastructure.validation.markers import MARKER, TESTS
from infrastructure.validation.requirements import CHECKOUT


class RunUnreadable(ConfigurationError):
    """The JUnit XML is missing, is not XML, or is not a pytest run; or pytest could not run."""


class Outcome(StrEnum):
    """How a test ended."""

    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    """It never ran to its end: its setup or teardown failed."""
    SKIPPED = "skipped"
    NOT_RUN = "not run"
    """Marked in the checkout, but not in the run."""


@dataclass(frozen=True)
class CaseResult:
    """One test case of the run."""

    classname: str
    name: str
    outcome: Outcome
    seconds: float
    message: str
    requirements: tuple[str, ...]

    @property
    def label(self) -> str:
        """``module.Class::test[param]``, as the report prints it."""
        return f"{self.classname}::{self.name}"


@dataclass(frozen=True)
class Run:
    """The test cases of a run, and what the file says of where and when it ran."""

    cases: Sequence[CaseResult]
    hostname: str
    timestamp: str
    sha256: str
    source: str


def read_run(path: Path) -> Run:
    """The run recorded in a JUnit XML file written by pytest.

    Raises:
        RunUnreadable: the file cannot be read, is not XML, or holds no test suite.
    """
    try:
        content = path.read_bytes()
    except OSError as error:
        raise RunUnreadable(
            "the JUnit file %(path)s cannot be read: %(error)s",
            path=path,
            error=error.strerror or error,
        ) from None
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.fromstring(content, parser)
    except etree.XMLSyntaxError as error:
        raise RunUnreadable(
            "%(path)s is not XML: %(error)s", path=path, error=error.msg or error
        ) from None
    suites = [root] if root.tag == "testsuite" else list(root.iterchildren("testsuite"))
    if root.tag not in {"testsuite", "testsuites"} or not suites:
        raise RunUnreadable("%(path)s holds no JUnit test suite", path=path)
    cases = [_case(case) for suite in suites for case in suite.iterchildren("testcase")]
    return Run(
        cases=cases,
        hostname=suites[0].get("hostname", ""),
        timestamp=suites[0].get("timestamp", ""),
        sha256=hashlib.sha256(content).hexdigest(),
        source=str(path),
    )


def _case(case: etree._Element) -> CaseResult:
    outcome = Outcome.PASSED
    message = ""
    for child in case:
        tag = child.tag
        if tag in {"failure", "error"}:
            # A failure beside an error (a test that failed, then its teardown) is a failure.
            if tag == "failure" or outcome is not Outcome.FAILED:
                outcome = Outcome.FAILED if tag == "failure" else Outcome.ERROR
            message = message or _first_line(child.get("message"))
        elif tag == "skipped" and outcome is Outcome.PASSED:
            outcome = Outcome.SKIPPED
            message = _first_line(child.get("message"))
    requirements = tuple(
        prop.get("value", "")
        for prop in case.iterfind("properties/property")
        if prop.get("name") == MARKER
    )
    try:
        seconds = float(case.get("time", "0"))
    except ValueError:
        seconds = 0.0
    return CaseResult(
        classname=case.get("classname", ""),
        name=case.get("name", ""),
        outcome=outcome,
        seconds=seconds,
        message=message,
        requirements=tuple(dict.fromkeys(requirements)),
    )


def _first_line(text: str | None) -> str:
    lines = (text or "").strip().splitlines()
    return lines[0][:300] if lines else ""


def run_marked_tests(junit: Path, paths: Sequence[str] = (), *, workers: int = 1) -> Path:
    """Run the marked tests (of ``paths``, or of the whole suite) with pytest in the checkout,
    writing the JUnit XML to ``junit``; its progress goes to stderr. Failed tests are the
    report's to show, not an error.

    Raises:
        RunUnreadable: the checkout has no tests, pytest could not run, or no marked test was
            among those asked for.
    """
    if not TESTS.is_dir():
        raise RunUnreadable(
            "the tests are not beside sealtrail (%(tests)s): run from a checkout, or give "
            "--junit a run's JUnit XML",
            tests=TESTS,
        )
    junit.parent.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-m",
        MARKER,
        "-p",
        "no:cacheprovider",
        "-q",
        f"--junitxml={junit.resolve()}",
        *(["-n", str(workers)] if workers > 1 else []),
        *(paths or [str(TESTS.relative_to(CHECKOUT))]),
    ]
    try:
        progress: int | None = sys.stderr.fileno()
    except (AttributeError, OSError, io.UnsupportedOperation):
        progress = None  # stderr is no file (a test's runner): printed when pytest ends
    done = subprocess.run(  # noqa: S603 - this interpreter's pytest, arguments from the console
        command,
        cwd=CHECKOUT,
        stdout=progress if progress is not None else subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
    )
    if progress is None:
        sys.stderr.write(done.stdout)
    if done.returncode == 5:
        raise RunUnreadable("no marked test among %(paths)s", paths=" ".join(paths) or "tests")
    if done.returncode not in {0, 1}:
        raise RunUnreadable(
            "pytest could not run the tests (exit %(code)s); its output is above",
            code=done.returncode,
        )
    return junit
