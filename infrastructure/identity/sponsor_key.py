"""The sponsor's packet-signing key: it signs the manifest of every submission packet.

A packet leaves the sponsor's hands for a regulator's, so its manifest is signed by the sponsor,
not by the log: the log's own key (the server's) signs checkpoints, receipts and the store's
console administration. The key is kept in ``$SEALTRAIL_HOME/keys`` with mode 0600 and is the key
of the account ``sponsor`` in the log, opened by ``sealtrail init`` with its public half
registered as a signed event, so a packet's verifier finds it, with its period of validity,
among the packet's own events. From then on only a sponsor data manager in force rotates or
revokes it (``sealtrail key ... --user sponsor --as DM``; the key custody of docs/deployment.md,
:func:`domain.permissions.check_key_custody`), never an administrator.
A sponsor data manager may sign a packet with a personal key instead (``--as``, ``--key``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from domain.account import SPONSOR_ACCOUNT
from domain.protocol import PROTOCOLS
from infrastructure.application.commands import OpenAccount
from infrastructure.identity.key_files import read_key, write_private_once
from infrastructure.settings import Settings
from signatures.keys import (
    generate_private_key,
    key_id,
    private_key_from_pem,
    private_key_to_pem,
    public_key_to_text,
)

if TYPE_CHECKING:
    from infrastructure.application.administration import Administration

PRIVATE_KEY_FILE = "sponsor-packets-ed25519.pem"


def sponsor_printed_name() -> str:
    """The printed name the sponsor's packet signature shows."""
    sponsors = sorted({protocol.sponsor for protocol in PROTOCOLS.values()})
    return f"{' / '.join(sponsors)} (submission packet key)"


def sponsor_key_exists(settings: Settings) -> bool:
    """True once the sponsor's packet-signing key has been made."""
    return (settings.keys_dir / PRIVATE_KEY_FILE).exists()


def create_sponsor_key(settings: Settings) -> Ed25519PrivateKey:
    """Make the key, or read the one that exists (two processes making it at once agree)."""
    path = settings.keys_dir / PRIVATE_KEY_FILE
    if not path.exists():
        settings.ensure_directories()
        write_private_once(path, lambda: private_key_to_pem(generate_private_key()))
    return load_sponsor_key(settings)


def load_sponsor_key(settings: Settings) -> Ed25519PrivateKey:
    """Read the sponsor's packet-signing key.

    Raises:
        StoreNotInitialised: there is none yet (``sealtrail init`` makes it), or it is unreadable.
    """
    path = settings.keys_dir / PRIVATE_KEY_FILE
    return read_key(
        path,
        private_key_from_pem,
        name="sponsor packet key",
        missing=(
            f"no sponsor packet key at {path}: on a new store run 'sealtrail init'; if it was "
            "lost, restore it from a backup or have a sponsor data manager register a new key "
            "for the account sponsor ('sealtrail key register' and 'sealtrail key revoke')"
        ),
    )


def open_sponsor_account(administration: Administration, settings: Settings) -> str | None:
    """Make the sponsor's key and open its account, if not yet done; returns the key id made.

    The server signs the opening, as it does the store's other console administration.
    """
    if administration.app.find_account(SPONSOR_ACCOUNT) is not None:
        return None
    private_key = create_sponsor_key(settings)
    administration.open_account(
        OpenAccount(
            user_id=SPONSOR_ACCOUNT,
            printed_name=sponsor_printed_name(),
            public_key=public_key_to_text(private_key.public_key()),
        )
    )
    return key_id(private_key.public_key())
