"""``sealtrail key ...``: a person's Ed25519 signing keys, made on their own machine
(``generate``) and registered, rotated or revoked by an administrator, each change signed by
the administrator who makes it (see :mod:`api.console.administration`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from api.console.administration import Administrator, administered_change, instant
from api.console.command import EXISTING_FILE, one_line_errors
from api.console.exits import USAGE, fail
from signatures.keys import (
    generate_private_key,
    key_id,
    private_key_from_pem,
    private_key_to_pem,
    public_key_to_pem,
)

if TYPE_CHECKING:
    from infrastructure.bootstrap import Store

# The application's commands (RegisterKey, ...) are imported in the commands that record them:
# they bring the subject's aggregate and the protocol, and ``key generate``, which runs on a
# person's own machine with no store, needs none of it.

F = TypeVar("F", bound=Callable[..., Any])

KEY_ENDS_AT = click.option(
    "--at",
    "at",
    default=None,
    help="UTC instant, e.g. 2026-11-23T10:00:00Z (default: the next whole second; a past "
    "instant is recorded as retroactive)",
)
"""When a rotated or revoked key stops being valid."""

KEY_HOLDER = click.option("--user", "user_id", required=True)
"""Whose key it is."""


@dataclass(frozen=True)
class KeyEnding:
    """A key that stops being valid: whose (``--user``), which (``--key-id``), and from when
    (``--at``; none for the next whole second)."""

    user_id: str
    key_id: str
    at: datetime | None


def ends_a_key(key_id_help: str | None, *options: Callable[[Any], Any]) -> Callable[..., Any]:
    """A ``rotate`` or ``revoke`` command: ``--user``, ``--key-id``, its own ``options``, then
    ``--at``, the first three passed as one ``ending`` once ``--at`` is read; signed by the
    administrator who makes the change."""

    def declare(command: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(command)
        def ending(
            *args: Any, user_id: str, ended_key_id: str, at: str | None, **kwargs: Any
        ) -> Any:
            return command(*args, ending=KeyEnding(user_id, ended_key_id, instant(at)), **kwargs)

        declared = KEY_ENDS_AT(administered_change(ending))
        for option in reversed(options):
            declared = option(declared)
        declared = click.option("--key-id", "ended_key_id", required=True, help=key_id_help)(
            declared
        )
        return KEY_HOLDER(declared)

    return declare


def public_key_option(help_text: str | None = None) -> Callable[[F], F]:
    """``--public-key FILE``: a person's public key (PEM or base64), passed as its text."""
    return click.option(
        "--public-key",
        "public_key",
        required=True,
        type=EXISTING_FILE,
        help=help_text,
        callback=lambda _context, _option, path: path.read_text(encoding="ascii"),
    )


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
@KEY_HOLDER
@public_key_option()
@click.option("--valid-from", default=None, help="UTC instant (now)")
@administered_change
def key_register(
    store: Store,
    user_id: str,
    public_key: str,
    valid_from: str | None,
    administrator: Administrator,
) -> None:
    """Register a person's public key (PEM or base64)."""
    from infrastructure.application.commands import RegisterKey

    registered = store.administration.register_key(
        RegisterKey(user_id=user_id, public_key=public_key, valid_from=instant(valid_from)),
        by=administrator.signatory(store),
    )
    click.echo(f"registered {registered} for {user_id}")


@key.command("rotate")
@ends_a_key("The key being replaced", public_key_option("The new public key"))
def key_rotate(
    store: Store, ending: KeyEnding, public_key: str, administrator: Administrator
) -> None:
    """Replace a key from a stated instant; events signed before it stay verifiable."""
    from infrastructure.application.commands import RotateKey

    new_key_id = store.administration.rotate_key(
        RotateKey(
            user_id=ending.user_id,
            old_key_id=ending.key_id,
            public_key=public_key,
            rotated_at=ending.at,
        ),
        by=administrator.signatory(store),
    )
    click.echo(f"rotated {ending.key_id} of {ending.user_id} to {new_key_id}")


@key.command("revoke")
@ends_a_key(None, click.option("--reason", required=True))
def key_revoke(store: Store, ending: KeyEnding, reason: str, administrator: Administrator) -> None:
    """Revoke a key from a stated instant; later writes with it are refused."""
    from infrastructure.application.commands import RevokeKey

    store.administration.revoke_key(
        RevokeKey(
            user_id=ending.user_id, key_id=ending.key_id, revoked_at=ending.at, reason=reason
        ),
        by=administrator.signatory(store),
    )
    click.echo(f"revoked {ending.key_id} of {ending.user_id}")


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
