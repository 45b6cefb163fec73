"""``sealtrail backup``: the store, its keys and a checkpoint of exactly the copied state."""

from __future__ import annotations

from pathlib import Path

import click

from api.console.command import one_line_errors, store_command
from infrastructure.bootstrap import Store
from infrastructure.store.backup import back_up


@click.command()
@click.option(
    "--to",
    "folder",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="A new folder for the backup (made with mode 0700)",
)
@one_line_errors
@store_command
def backup(store: Store, folder: Path) -> None:
    """Copy the store while it serves (pg_dump under one snapshot, or SQLite's online
    backup), archive its keys (mode 0600), and seal a checkpoint of exactly that copy.

    After a restore, 'sealtrail verify --from-checkpoint FOLDER/sealtrail-backup.note'
    exits 0. Encrypt the key archive and keep it apart from the database's copy.
    """
    made = back_up(store, folder)
    click.echo(f"database: {made.database}")
    click.echo(f"keys:     {made.keys} (mode 0600: encrypt it, keep it apart)")
    click.echo(f"note:     {made.note} (a checkpoint of the {made.tree_size} events copied)")
