"""``sealtrail check-install``: the installation qualification (IQ) of this machine's store.

One line per check (its name, PASS, WARN, FAIL or SKIP, and what it found), then where the
signed record of the run was written; exit 1 when a check failed (the console's "the check
failed"), 2 on a malformed setting. The checks are :mod:`infrastructure.installation`'s; they
change nothing in the store.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import click

from api.console.command import one_line_errors
from api.console.exits import REFUSED, fail
from infrastructure.installation.bounds import Bounds
from infrastructure.installation.run import (
    default_record_path,
    record,
    run_checks,
    write_record,
)
from infrastructure.settings import Settings


@click.command("check-install")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the signed record here (default: $SEALTRAIL_HOME/check-install/<time>.json)",
)
@click.option("--json", "as_json", is_flag=True, help="The signed record on stdout, alone.")
@one_line_errors
def check_install(out: Path | None, as_json: bool) -> None:
    """Check this installation (IQ): Python and dependencies against the lock, the database
    and its append-only triggers, the key files' modes, time zones, the clock (NTP) and the
    free disk; write a signed record of the run."""
    settings = Settings.from_environ()
    bounds = Bounds.from_environ()
    at = datetime.now(UTC)
    results = run_checks(settings, bounds)
    document = record(settings, results, at)
    path = out or default_record_path(settings, at)
    try:
        write_record(path, document)
        not_written = None
    except OSError as error:
        not_written = f"cannot write the record to {path}: {error.strerror or error}"
    if as_json:
        click.echo(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        width = max(len(result.name) for result in results)
        for result in results:
            click.echo(result.line(width))
        if not_written is None:
            signed = "signed" if "server_signature" in document else "UNSIGNED"
            click.echo(f"record ({signed}): {path}")
    if not_written is not None:
        fail(not_written, REFUSED)
    if not document["passed"]:
        failures = sum(result.failed for result in results)
        fail(f"the installation failed {failures} of {len(results)} checks", REFUSED)
