"""``sealtrail demo``: the demonstration cohort (:mod:`api.demonstration`), loaded through the
signed write path, and a one-time password for each of its synthetic staff, printed once."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from api.console.command import one_line_errors, store_command
from api.console.initialise import framed
from api.console.progress import progress
from infrastructure.bootstrap import Store

if TYPE_CHECKING:
    from api.demonstration.staff import OneTimePassword


@click.command()
@one_line_errors
@store_command
def demo(store: Store) -> None:
    """Load the demonstration cohort through the signed write path (a rerun adds nothing),
    and print a one-time password for each of its staff, the first time only."""
    # Imported here, not at the top: every sealtrail command imports this module, and the
    # cohort (its plans parsed from cohort.toml, its record builders) cost ~85 ms to import.
    from api.demonstration.closing import SiteCopyUnverified
    from api.demonstration.loading import DemoCohortDiverged, load
    from api.demonstration.staff import issue_one_time_passwords

    try:
        with progress("demo") as shown:
            added = load(store, progress=shown)
            shown.stage("issuing the staff's one-time passwords")
            issued = issue_one_time_passwords(store)
    except (DemoCohortDiverged, SiteCopyUnverified) as error:
        # click's own way of saying it: "Error: ..." on stderr, exit 1 (the check failed).
        raise click.ClickException(str(error)) from None
    click.echo(f"demonstration cohort loaded: {added} new events (synthetic data)")
    if issued:
        # Last, and set apart, as init's for the administrator: what a person must copy.
        click.echo(one_time_passwords_block(issued))


def one_time_passwords_block(issued: list[OneTimePassword]) -> str:
    """The staff's one-time passwords, one row each, framed so that they cannot be missed."""
    rows = [("user id", "role", "one-time password")] + [
        (each.staff.user_id, each.staff.role.value, each.password) for each in issued
    ]
    user_ids = max(len(user_id) for user_id, _, _ in rows)
    roles = max(len(role) for _, role, _ in rows)
    table = [
        f"{user_id:<{user_ids}}  {role:<{roles}}  {password}" for user_id, role, password in rows
    ]
    return framed(
        "the demonstration's staff (synthetic), each with a one-time password:",
        *table,
        "shown only this once: each opens only its own change; sign in on the pages (/login)",
        "or run 'sealtrail user password USER_ID' to choose your own",
    )
