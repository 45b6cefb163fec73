"""``sealtrail validation report``: the operational qualification's traceability report;
``sealtrail validation pq``, the performance qualification run on a served deployment
(:mod:`api.console.performance`); ``sealtrail validation check-record``, a qualification's
record checked against the server's key.

It reads a run of the marked tests (``--junit``, pytest's JUnit XML), or runs them itself in
the checkout, and writes ``traceability.html`` and ``traceability.pdf`` (signed) under
``--out``: clause -> requirement -> tests -> result, with the commit, every installed
distribution and the machine (docs/validation/README.md). It prints the files' paths and the
verdict; exit 1 when a requirement that is not procedural did not pass. It opens no store.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from api.console.command import EXISTING_FILE, one_line_errors
from api.console.exits import REFUSED, UsageError, fail
from api.console.performance import pq
from infrastructure.identity.server_key import load_server_public_key
from infrastructure.settings import Settings
from infrastructure.validation.changes import CHANGELOG, unreleased_changes
from infrastructure.validation.environment import environment_now
from infrastructure.validation.markers import marked_tests
from infrastructure.validation.matrix import trace
from infrastructure.validation.requirements import load_requirements
from infrastructure.validation.runs import read_run, run_marked_tests
from signatures.errors import VerificationError
from signatures.receipts import verify_receipt


@click.group()
def validation() -> None:
    """The validation pack: the operational (OQ) and performance (PQ) qualifications."""


@validation.command("report")
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The folder for traceability.html and traceability.pdf (made if missing).",
)
@click.option(
    "--junit",
    type=EXISTING_FILE,
    help="A run's JUnit XML (pytest --junitxml); without it, the marked tests are run now.",
)
@click.option(
    "--tests",
    "paths",
    multiple=True,
    help="Without --junit: run the marked tests of this file or folder only (repeatable).",
)
@click.option(
    "--changelog",
    type=EXISTING_FILE,
    default=CHANGELOG,
    show_default="the checkout's CHANGELOG.md",
    help="The CHANGELOG whose Unreleased entries the change control section reads.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Without --junit: test processes (pytest-xdist).",
)
@one_line_errors
def report(
    out: Path, junit: Path | None, paths: tuple[str, ...], changelog: Path, workers: int
) -> None:
    """The traceability matrix of a run: clause -> requirement -> tests -> result."""
    # Imported here: the PDF's drawing brings matplotlib and reportlab, which every other
    # command would otherwise load (and matplotlib writes to a home the service account lacks).
    from infrastructure.documents.reports import write_file
    from infrastructure.validation.report import html_report, signed_pdf, verdict_line

    if junit is not None and (paths or workers != 1):
        raise click.UsageError("--tests and --workers run the tests; --junit reads a run")
    requirements = load_requirements()
    marked = marked_tests()
    changes = unreleased_changes(requirements, changelog)
    if junit is None:
        junit = run_marked_tests(out / "junit.xml", paths, workers=workers)
    matrix = trace(requirements, marked, read_run(junit), changes)
    environment = environment_now()
    settings = Settings.from_environ()
    for written in (
        write_file(out / "traceability.html", html_report(matrix, environment)),
        write_file(out / "traceability.pdf", signed_pdf(matrix, environment, settings)),
    ):
        click.echo(written)
    click.echo(verdict_line(matrix))
    if not matrix.passed:
        sys.exit(REFUSED)


@validation.command("check-record")
@click.argument("record_file", type=EXISTING_FILE)
@one_line_errors
def check_record(record_file: Path) -> None:
    """Check a qualification's record (check-install's, the PQ's pq-report.json) against this
    store's server key: exit 1 when it was edited or signed by another key."""
    settings = Settings.from_environ()
    try:
        document = json.loads(record_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise UsageError(f"{record_file} is not a JSON record: {error}") from None
    if not isinstance(document, dict):
        raise UsageError(f"{record_file} is not a JSON record")
    try:
        verify_receipt(load_server_public_key(settings), document)
    except VerificationError as error:
        fail(f"{record_file}: the signature does not hold: {error}", REFUSED)
    click.echo(
        f"{record_file}: the signature holds ({document.get('kind')}, "
        f"{document.get('server_key_id')})"
    )


validation.add_command(pq)
