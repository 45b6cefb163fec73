"""``sealtrail demo``: the demonstration cohort, loaded through the signed write path."""

from __future__ import annotations

import click

from api.console import demo_cohort
from api.console.command import one_line_errors, store_command
from api.console.progress import progress
from infrastructure.bootstrap import Store


@click.command()
@one_line_errors
@store_command
def demo(store: Store) -> None:
    """Load the demonstration cohort through the signed write path (a rerun adds nothing)."""
    with progress("demo") as shown:
        added = demo_cohort.load(store, progress=shown)
    click.echo(f"demonstration cohort loaded: {added} new events (synthetic data)")
