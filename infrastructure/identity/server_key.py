"""The server's own Ed25519 key: it signs receipts and console administration.

Kept in ``$SEALTRAIL_HOME/keys`` with mode 0600, created once by ``sealtrail init``. It is the
trust anchor verification starts from, so its public half is printed at init for people to
keep outside the store.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from functools import cached_property

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from infrastructure.errors import ConfigurationError
from infrastructure.identity.key_files import (
    read_key,
    read_secret,
    write_private,
    write_private_once,
)
from infrastructure.settings import Settings
from signatures.keys import (
    generate_private_key,
    key_id,
    private_key_from_pem,
    private_key_to_pem,
    public_key_from_pem,
    public_key_to_pem,
)

PRIVATE_KEY_FILE = "server-ed25519.pem"
PUBLIC_KEY_FILE = "server-ed25519.pub.pem"
TOKEN_SECRET_FILE = "token-secret"  # noqa: S105 - a file name, not a secret
VIEW_SEAL_KEY_FILE = "view-seal-key"
PAGE_SECRET_FILE = "page-secret"  # noqa: S105 - a file name, not a secret


@dataclass(frozen=True)
class ServerKey:
    """The server's signing key and its id."""

    private_key: Ed25519PrivateKey

    # Derived once: deriving the public half is a scalar multiplication, and every receipt
    # names the key's id.
    @cached_property
    def public_key(self) -> Ed25519PublicKey:
        """The public half, the anchor verifiers trust."""
        return self.private_key.public_key()

    @cached_property
    def key_id(self) -> str:
        """The key's id (see :func:`signatures.keys.key_id`)."""
        return key_id(self.public_key)


def server_key_exists(settings: Settings) -> bool:
    """True once ``sealtrail init`` has made the server's key."""
    return (settings.keys_dir / PRIVATE_KEY_FILE).exists()


def check_no_key_to_overwrite(settings: Settings) -> None:
    """Refuse to make a server key where either half of one is already kept.

    A home that holds the public half alone is an auditor's (docs/deployment.md, section 7),
    or one whose private key was lost: a new key pair would replace the key the log is
    anchored on.

    Raises:
        ConfigurationError: the public key file is there without its private half.
    """
    public = settings.keys_dir / PUBLIC_KEY_FILE
    if public.exists() and not server_key_exists(settings):
        raise ConfigurationError(
            "%(public)s exists without its private key: sealtrail never "
            "overwrites a key file (this home verifies a store; a store of its "
            "own needs a home of its own); nothing was written",
            public=public,
        )


def create_server_key(settings: Settings) -> ServerKey:
    """Make and write the server's key; refuses to overwrite either half of an existing one.

    Raises:
        ConfigurationError: a key file is already there.
    """
    check_no_key_to_overwrite(settings)
    settings.ensure_directories()
    private_key = generate_private_key()
    try:
        write_private(settings.keys_dir / PRIVATE_KEY_FILE, private_key_to_pem(private_key))
    except FileExistsError:
        raise ConfigurationError(
            "%(value)s exists: sealtrail never overwrites a key file",
            value=settings.keys_dir / PRIVATE_KEY_FILE,
        ) from None
    write_private(
        settings.keys_dir / PUBLIC_KEY_FILE,
        public_key_to_pem(private_key.public_key()),
        mode=0o644,  # the public half: auditors copy it
    )
    token_secret(settings)
    view_seal_key(settings)
    return ServerKey(private_key)


def load_server_key(settings: Settings) -> ServerKey:
    """Read the server's key.

    Raises:
        StoreNotInitialised: there is no key yet, or it cannot be read.
    """
    path = settings.keys_dir / PRIVATE_KEY_FILE
    private_key = read_key(
        path,
        private_key_from_pem,
        name="server key",
        missing=f"no server key at {path}: run 'sealtrail init' first",
    )
    return ServerKey(private_key)


def load_server_public_key(settings: Settings) -> Ed25519PublicKey:
    """The server's public key (``keys/server-ed25519.pub.pem``, written by ``init`` beside the
    private key): all a verifier needs, and all an auditor's home holds.

    Raises:
        StoreNotInitialised: the file is not there, or is not a public key.
    """
    path = settings.keys_dir / PUBLIC_KEY_FILE
    return read_key(
        path,
        public_key_from_pem,
        name="server public key",
        missing=(
            f"no server key at {path}: run 'sealtrail init' first, or copy the store's "
            f"keys/{PUBLIC_KEY_FILE} there to verify it from elsewhere"
        ),
    )


def token_secret(settings: Settings) -> bytes:
    """The secret that signs bearer tokens, made once and kept beside the key.

    Several server workers may start at once: every one of them reads the secret the first of
    them wrote (:func:`~infrastructure.identity.key_files.write_private_once`).
    """
    return _secret(settings, TOKEN_SECRET_FILE)


def page_secret(settings: Settings) -> bytes:
    """The secret that signs the pages' session cookies and their forms' CSRF tokens, made once
    and kept beside the key, as the token secret is: a cookie of one store opens nothing in
    another, and neither secret can stand for the other."""
    return _secret(settings, PAGE_SECRET_FILE)


def view_seal_key(settings: Settings) -> bytes:
    """The key that seals each stored view row (:mod:`infrastructure.views.tables`), made once and
    kept beside the server key: only the store's own processes can seal a row."""
    return _secret(settings, VIEW_SEAL_KEY_FILE)


def _secret(settings: Settings, name: str) -> bytes:
    path = settings.keys_dir / name
    if not path.exists():
        settings.ensure_directories()
        write_private_once(path, lambda: secrets.token_hex(32).encode("ascii"))
    return read_secret(path, "token secret").strip()
