"""``sealtrail demo``: the demonstration cohort (:mod:`api.demonstration`), loaded through the
signed write path."""

from __future__ import annotations

import click

from api.console.command import one_line_errors, store_command
from api.console.progress import progress
from infrastructure.bootstrap import Store


@click.command()
@one_line_errors
@store_command
def demo(store: Store) -> None:
    """Load the demonstration cohort through the signed write path (a rerun adds nothing)."""
    # Imported here, not at the top: every sealtrail command imports this module, and the
    # cohort (its plans parsed from cohort.toml, its record builders) cost ~85 ms to import.
    from api.demonstration.closing import SiteCopyUnverified
    from api.demonstration.loading import DemoCohortDiverged, load

    try:
        with progress("demo") as shown:
            added = load(store, progress=shown)
    except (DemoCohortDiverged, SiteCopyUnverified) as error:
        # click's own way of saying it: "Error: ..." on stderr, exit 1 (the check failed).
        raise click.ClickException(str(error)) from None
    click.echo(f"demonstration cohort loaded: {added} new events (synthetic data)")
