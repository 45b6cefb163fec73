"""``sealtrail verify`` and ``sealtrail checkpoint``: the log's integrity, checked and sealed.

Both run as the server (they need the database and the server's key, and show no clinical
value): ``verify`` checks every signature, every subject's chain, the Merkle log and every
checkpoint; ``checkpoint`` seals and prints a signed checkpoint of the whole log.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from api.console.command import one_line_errors, store_command
from api.console.exits import REFUSED
from api.console.progress import progress
from infrastructure.bootstrap import Store, log_verifier
from infrastructure.verification.last_run import record_verification
from infrastructure.verification.verifier import ExternalCheckpoint


@click.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
@click.option(
    "--from-checkpoint",
    "checkpoint_file",
    type=click.File("r"),
    help="A checkpoint note kept outside the store: the log must still extend it.",
)
@click.option("--workers", type=click.IntRange(1, 256), help="Processes (default: every core).")
@one_line_errors
def verify(as_json: bool, checkpoint_file: Any, workers: int | None) -> None:
    """Check every signature, every subject's chain, the Merkle log and every checkpoint.

    Reads only: it needs the server's public key and a connection that may read, so it runs on
    a read replica too.
    """
    external = (
        ExternalCheckpoint(checkpoint_file.read(), checkpoint_file.name)
        if checkpoint_file is not None
        else None
    )
    with (
        log_verifier(workers=workers) as verifier,
        progress("verify", verifier.approximate_count()) as shown,
    ):
        report = verifier.verify(progress=shown.advance, external=external)
        # What the pages show as the last verification (nothing in the store changes).
        record_verification(verifier.settings, report)
    if as_json:
        document = {
            "events": report.events,
            "ok": report.ok,
            "findings": [finding.as_dict() for finding in report.findings],
        }
        click.echo(json.dumps(document, indent=2))
    else:
        for finding in report.findings:
            click.echo(str(finding))
        verdict = "OK" if report.ok else "FAILED"
        click.echo(f"{verdict}: {report.events} events checked, {len(report.findings)} findings")
    if not report.ok:
        sys.exit(REFUSED)


@click.command()
@one_line_errors
@store_command
def checkpoint(store: Store) -> None:
    """Seal and print a signed checkpoint of the whole log (C2SP tlog-checkpoint)."""
    click.echo(store.app.checkpoints.seal().note, nl=False)
