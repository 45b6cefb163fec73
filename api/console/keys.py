"""``sealtrail key ...``: a person's Ed25519 signing keys, made on their own machine
(``generate``) and registered, rotated or revoked by an administrator, each change signed by
the administrator who makes it (see :mod:`api.console.administration`).
"""

from __future__ import annotations

from pathlib import Path

import click

from api.console.administration import administered_change, instant
from api.console.command import EXISTING_FILE, one_line_errors
from api.console.exits import USAGE, fail
from api.console.people import signatory
from infrastructure.application.commands import RegisterKey, RevokeKey, RotateKey
from infrastructure.bootstrap import Store
from signatures.keys import (
    generate_private_key,
    key_id,
    private_key_from_pem,
    private_key_to_pem,
    public_key_to_pem,
)

KEY_ENDS_AT = click.option(
    "--at",
    "at",
    default=None,
    help="UTC instant, e.g. 2026-11-23T10:00:00Z (default: the next whole second; a past "
    "instant is recorded as retroactive)",
)
"""When a rotated or revoked key stops being valid."""


@click.group()
def key() -> None:
    """Signing keys: generate, register, rotate, revoke."""


@key.command("generate")
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the private key; the public key goes beside it as .pub.pem",
)
@one_line_errors
def key_generate(out: Path) -> None:
    """Make an Ed25519 key pair for a person (on their own machine)."""
    if out.exists():
        fail(f"{out} exists; choose another file", USAGE)
    public_path = write_key_pair(out)
    click.echo(f"{key_id_of(out)} private: {out} public: {public_path}")


@key.command("register")
@click.option("--user", "user_id", required=True)
@click.option(
    "--public-key",
    "public_key_file",
    required=True,
    type=EXISTING_FILE,
)
@click.option("--valid-from", default=None, help="UTC instant (now)")
@administered_change
def key_register(
    store: Store,
    user_id: str,
    public_key_file: Path,
    valid_from: str | None,
    acting_as: str,
    signing_key: Path,
) -> None:
    """Register a person's public key (PEM or base64)."""
    moment = instant(valid_from)
    registered = store.administration.register_key(
        RegisterKey(
            user_id=user_id,
            public_key=public_key_file.read_text(encoding="ascii"),
            valid_from=moment,
        ),
        by=signatory(store, acting_as, signing_key),
    )
    click.echo(f"registered {registered} for {user_id}")


@key.command("rotate")
@click.option("--user", "user_id", required=True)
@click.option("--key-id", "old_key_id", required=True, help="The key being replaced")
@click.option(
    "--public-key",
    "public_key_file",
    required=True,
    type=EXISTING_FILE,
    help="The new public key",
)
@KEY_ENDS_AT
@administered_change
def key_rotate(
    store: Store,
    user_id: str,
    old_key_id: str,
    public_key_file: Path,
    at: str | None,
    acting_as: str,
    signing_key: Path,
) -> None:
    """Replace a key from a stated instant; events signed before it stay verifiable."""
    moment = instant(at)
    new_key_id = store.administration.rotate_key(
        RotateKey(
            user_id=user_id,
            old_key_id=old_key_id,
            public_key=public_key_file.read_text(encoding="ascii"),
            rotated_at=moment,
        ),
        by=signatory(store, acting_as, signing_key),
    )
    click.echo(f"rotated {old_key_id} of {user_id} to {new_key_id}")


@key.command("revoke")
@click.option("--user", "user_id", required=True)
@click.option("--key-id", "revoked_key_id", required=True)
@click.option("--reason", required=True)
@KEY_ENDS_AT
@administered_change
def key_revoke(
    store: Store,
    user_id: str,
    revoked_key_id: str,
    reason: str,
    at: str | None,
    acting_as: str,
    signing_key: Path,
) -> None:
    """Revoke a key from a stated instant; later writes with it are refused."""
    moment = instant(at)
    store.administration.revoke_key(
        RevokeKey(user_id=user_id, key_id=revoked_key_id, revoked_at=moment, reason=reason),
        by=signatory(store, acting_as, signing_key),
    )
    click.echo(f"revoked {revoked_key_id} of {user_id}")


def write_key_pair(out: Path) -> Path:
    """Write a new private key (0600) to ``out`` and its public key beside it; returns that."""
    private_key = generate_private_key()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.touch(mode=0o600)
    out.write_bytes(private_key_to_pem(private_key))
    public_path = out.with_suffix(".pub.pem")
    public_path.write_bytes(public_key_to_pem(private_key.public_key()))
    return public_path


def key_id_of(private_key_file: Path) -> str:
    """The key id of a private key file."""
    return key_id(private_key_from_pem(private_key_file.read_bytes()).public_key())
