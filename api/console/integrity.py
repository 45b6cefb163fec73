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
from api.console.exits import REFUSED, UsageError
from api.console.progress import progress
from api.console.witness_options import witness_options, witness_policy
from infrastructure.bootstrap import Store, log_verifier
from infrastructure.verification.last_run import record_verification
from infrastructure.verification.since import (
    MAX_NOTE_BYTES,
    KeptCheckpointUnusable,
    SinceCheck,
    read_kept_checkpoint,
)
from infrastructure.verification.verifier import ExternalCheckpoint
from infrastructure.verification.witness_checks import WitnessPolicy


@click.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
@click.option(
    "--from-checkpoint",
    "checkpoint_file",
    type=click.File("r"),
    help="A checkpoint note kept outside the store: the log must still extend it.",
)
@click.option(
    "--since",
    "since_file",
    type=click.File("rb"),
    help="A checkpoint kept from an earlier verify: check only what came after it.",
)
@click.option("--workers", type=click.IntRange(1, 256), help="Processes (default: every core).")
@witness_options
@one_line_errors
def verify(
    as_json: bool,
    checkpoint_file: Any,
    since_file: Any,
    workers: int | None,
    witness_keys: tuple[str, ...],
    quorum: int | None,
    witness_max_age: int,
) -> None:
    """Check every signature, every subject's chain, the Merkle log and every checkpoint.

    Reads only: it needs the server's public key and a connection that may read, so it runs on
    a read replica too. With --since, only what came after a kept checkpoint (and what that
    relies on), through a consistency proof from it; it prints the checkpoint to keep next.
    With --witness (with or without --since), the latest checkpoint must also be vouched for by
    the --quorum of those witnesses (docs/witnesses.md).
    """
    witnesses = witness_policy(witness_keys, quorum, witness_max_age)
    if since_file is not None:
        if checkpoint_file is not None:
            raise UsageError("--since and --from-checkpoint are not given together")
        verify_since(since_file.read(MAX_NOTE_BYTES + 1), as_json, workers, witnesses)
        return
    external = (
        ExternalCheckpoint(checkpoint_file.read(), checkpoint_file.name)
        if checkpoint_file is not None
        else None
    )
    with (
        log_verifier(workers=workers) as verifier,
        progress("verify", verifier.approximate_count()) as shown,
    ):
        report = verifier.verify(progress=shown.advance, external=external, witnesses=witnesses)
        # What the pages show as the last verification (nothing in the store changes).
        record_verification(verifier.settings, report)
    if not _shown_as_json(report, as_json):
        verdict = "OK" if report.ok else "FAILED"
        click.echo(f"{verdict}: {report.events} events checked, {len(report.findings)} findings")
    if not report.ok:
        sys.exit(REFUSED)


def _shown_as_json(
    report: Any,
    as_json: bool,
    head: dict[str, Any] | None = None,
    tail: dict[str, Any] | None = None,
) -> bool:
    """With ``--json``, the report as one JSON document (``head`` before its fields, ``tail``
    after them); without, its notes on stderr and its findings on stdout, a line each, the
    verdict left to the caller. Whether the JSON was what was shown."""
    if as_json:
        document = {
            **(head or {}),
            "events": report.events,
            "ok": report.ok,
            "findings": [finding.as_dict() for finding in report.findings],
            "notes": list(report.notes),
            **(tail or {}),
        }
        click.echo(json.dumps(document, indent=2))
        return True
    # Notes say what was not checked; on stderr, so that stdout stays the findings and verdict.
    for note in report.notes:
        click.echo(f"note: {note}", err=True)
    for finding in report.findings:
        click.echo(str(finding))
    return False


def verify_since(
    note: bytes, as_json: bool, workers: int | None, witnesses: WitnessPolicy | None
) -> None:
    """``verify --since``: the kept checkpoint, the consistency proof from it, the events after,
    and with ``witnesses`` the quorum vouching for the latest checkpoint."""
    with log_verifier(workers=workers) as verifier:
        try:
            kept = read_kept_checkpoint(note, verifier.origin, verifier.anchor_key)
        except KeptCheckpointUnusable as error:
            raise UsageError(f"--since: {error}") from None
        with progress("verify", None) as shown:
            report = SinceCheck(verifier, kept, witnesses).run(progress=shown.advance)
    head = {"since": kept.size, "tree_size": report.tree_size}
    if not _shown_as_json(report, as_json, head, {"checkpoint": report.keep_next}):
        if not report.ok:
            click.echo(
                f"FAILED: {report.events} events checked after the kept checkpoint of size "
                f"{kept.size}, {len(report.findings)} findings; keep the old checkpoint"
            )
        elif report.nothing_new:
            click.echo(f"OK: nothing new since the kept checkpoint of size {kept.size}")
        else:
            click.echo(
                f"OK: {report.events} events checked after the kept checkpoint of size "
                f"{kept.size} (the log holds {report.tree_size}), 0 findings"
            )
        if report.keep_next is not None:
            click.echo("Keep this checkpoint for the next check:")
            click.echo(report.keep_next, nl=False)
    if not report.ok:
        sys.exit(REFUSED)


@click.command()
@one_line_errors
@store_command
def checkpoint(store: Store) -> None:
    """Seal and print a signed checkpoint of the whole log (C2SP tlog-checkpoint)."""
    click.echo(store.app.checkpoints.seal().note, nl=False)
