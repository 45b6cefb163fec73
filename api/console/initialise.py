"""``sealtrail init``: the store, the server's signing key, a first administrator (signed by the
server: the one administration nobody else can sign) and the sponsor's packet-signing key.

Everything that could refuse is asked before a file is written, and a second run changes
nothing that the first made.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import click

from api.console.command import EXISTING_FILE, one_line_errors
from api.console.exits import USAGE, fail
from api.console.keys import write_key_pair
from domain.account import SPONSOR_ACCOUNT, Role
from infrastructure.application.commands import OpenAccount, Training
from infrastructure.bootstrap import Store, open_store
from infrastructure.identity.server_key import (
    check_no_key_to_overwrite,
    create_server_key,
    server_key_exists,
)
from infrastructure.identity.sponsor_key import open_sponsor_account
from infrastructure.settings import Settings
from infrastructure.store.init_checks import check_writable
from signatures.keys import private_key_from_pem, public_key_to_pem

FIRST_ADMINISTRATOR = "admin"
FIRST_ADMINISTRATOR_NAME = "Store administrator"
INITIAL_TRAINING = "sealtrail administration (attested by whoever ran sealtrail init)"


@click.command()
@click.option(
    "--admin-public-key",
    type=EXISTING_FILE,
    help="The first administrator's public key, made on their machine "
    "(default: a key pair written to $SEALTRAIL_HOME/admin.pem)",
)
@one_line_errors
def init(admin_public_key: Path | None) -> None:
    """Create the store, the server's signing key and a first administrator."""
    settings = Settings.from_environ()
    # Everything that could refuse is asked before a file is written (a read-only standby,
    # a store that another home's key anchors, a key already in this home).
    initialised = check_writable(settings)
    check_no_key_to_overwrite(settings)
    if not server_key_exists(settings):
        if initialised:
            fail(
                f"the store at {_where(settings)} is already initialised, and its server key "
                f"is not in {settings.keys_dir}: run sealtrail with the store's own "
                "SEALTRAIL_HOME (or restore its keys from the backup); nothing was written",
                USAGE,
            )
        create_server_key(settings)
    store = open_store(settings)
    try:
        app = store.app
        if store.administration.is_initialised():
            registered = app.account("system").keys
            if app.server_key.key_id not in registered:
                fail(
                    "this store was initialised with another server key "
                    f"({', '.join(registered)}); SEALTRAIL_HOME holds {app.server_key.key_id}",
                    USAGE,
                )
        if app.find_account(FIRST_ADMINISTRATOR) is not None:
            click.echo(f"sealtrail: the store at {_where(settings)} is already initialised")
            _open_sponsor_account(store, settings)
            return
        store.administration.initialise()
        password, key_file = open_first_administrator(store, admin_public_key)
        click.echo(f"initialised the store at {_where(settings)}")
        click.echo(f"server key: {app.server_key.key_id} (public key in {settings.keys_dir})")
        click.echo(f"administrator's signing key: {key_file}")
        _open_sponsor_account(store, settings)
        # Last, and set apart: the one thing a person must copy from this output.
        click.echo(one_time_password_block(password))
    finally:
        store.close()


def one_time_password_block(password: str) -> str:
    """The administrator's one-time password, framed so that it cannot be missed."""
    return framed(
        f"administrator: admin, one-time password: {password}",
        "shown only this once: keep it until you choose your own with "
        "'sealtrail user password admin'",
    )


def framed(*lines: str) -> str:
    """``lines`` between two rules, after an empty line: what a person must copy from a
    command's output (one-time passwords), set apart from the rest."""
    rule = "=" * 72
    return "\n".join(("", rule, *lines, rule))


def _open_sponsor_account(store: Store, settings: Settings) -> None:
    made = open_sponsor_account(store.administration, settings)
    if made is not None:
        click.echo(f"sponsor's packet-signing key: {made} (account {SPONSOR_ACCOUNT})")


def today() -> date:
    """Today in UTC."""
    return datetime.now(UTC).date()


def initial_training() -> Training:
    """The first administrator's training, attested by the server at initialisation."""
    return Training(INITIAL_TRAINING, today())


def open_first_administrator(store: Store, public_key_file: Path | None) -> tuple[str, Path]:
    """Open ``admin``, signed by the server: the one administration nobody else can sign.

    Its role, training and key come with it, so it can sign every later change itself. Without
    ``public_key_file`` a key pair is made at ``$SEALTRAIL_HOME/admin.pem`` (kept if a run was
    interrupted after making it). Returns the one-time password and the key file.
    """
    if public_key_file is None:
        key_file = store.settings.home / "admin.pem"
        if not key_file.exists():
            write_key_pair(key_file)
        public_key = private_key_from_pem(key_file.read_bytes()).public_key()
        public_key_text = public_key_to_pem(public_key).decode("ascii")
    else:
        key_file = public_key_file
        public_key_text = public_key_file.read_text(encoding="ascii")
    password = store.administration.open_account(
        OpenAccount(
            user_id=FIRST_ADMINISTRATOR,
            printed_name=FIRST_ADMINISTRATOR_NAME,
            role=Role.ADMINISTRATOR,
            training=initial_training(),
            public_key=public_key_text,
            one_time_password=True,
        ),
        by=None,
    )
    assert password is not None  # the command issues one
    return password, key_file


def _where(settings: Settings) -> str:
    return settings.database_url.render_as_string(hide_password=True)
