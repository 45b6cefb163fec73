"""The store's secret files under ``$SEALTRAIL_HOME/keys``: written private, read with one
kind of error.

Every secret the store keeps (the server's key, the sponsor's packet key, the token secret) is
written with mode 0600 and never overwritten. One that several processes may make at the same
moment (server workers starting together) is written to a private draft and linked into place,
so all of them read the same complete file. A key that is missing or unreadable means the store
is not (or no longer) initialised, said with what to do about it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from infrastructure.errors import ConfigurationError, StoreNotInitialised
from infrastructure.whole_files import create_once
from signatures.errors import KeyFormatError

Key = TypeVar("Key")


def write_private(path: Path, content: bytes, mode: int = 0o600) -> None:
    """Create ``path`` readable by its owner only (or with ``mode``); refuses to overwrite an
    existing file (FileExistsError)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(content)


def write_private_once(path: Path, make: Callable[[], bytes]) -> None:
    """Create ``path`` with ``make()``'s content unless it exists; of processes doing so at
    once, the first to link its draft wins and the others keep its file."""
    if path.exists():
        return
    create_once(path, make())


def read_key(path: Path, parse: Callable[[bytes], Key], *, name: str, missing: str) -> Key:
    """The key in ``path``, parsed.

    Raises:
        StoreNotInitialised: the file is not there (``missing`` says what to do), or it does
            not hold the key ``name`` describes.
        ConfigurationError: this account may not read it.
    """
    try:
        return parse(read_secret(path, name))
    except FileNotFoundError:
        raise StoreNotInitialised(missing) from None
    except KeyFormatError as error:
        raise StoreNotInitialised(
            "the %(name)s at %(path)s is unreadable: %(error)s", name=name, path=path, error=error
        ) from None


def read_secret(path: Path, name: str) -> bytes:
    """The bytes of a file under ``keys``.

    Raises:
        FileNotFoundError: it is not there.
        ConfigurationError: it cannot be read (most often: another account owns it).
    """
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise
    except OSError as error:
        raise ConfigurationError(
            "cannot read the %(name)s at %(path)s: %(value)s (run sealtrail as "
            "the account that owns SEALTRAIL_HOME and its keys)",
            name=name,
            path=path,
            value=error.strerror or error,
        ) from None
