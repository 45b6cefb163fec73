"""What every console command shares: the typed errors of the layers below turned into one line
and an exit code (never a traceback), and the store opened around the command and closed after.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar, cast

import click

from api.console.client import ClientError
from api.console.exits import REFUSED, USAGE, UsageError, fail
from domain.errors import DomainError
from infrastructure.errors import (
    ConfigurationError,
    StoreNotInitialised,
    StoreUnavailable,
    ViewNotVerified,
)
from signatures.errors import VerificationError

F = TypeVar("F", bound=Callable[..., Any])

EXISTING_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
"""An option naming a file that must already be there (a key, a packet, a document)."""


def private_key_option(parameter: str, help_text: str) -> Callable[[F], F]:
    """``--key FILE``, required: the private key (PEM) the command signs with, as ``parameter``."""
    return click.option("--key", parameter, required=True, type=EXISTING_FILE, help=help_text)


def one_line_errors(command: F) -> F:
    """Turn the typed errors of the layers below into one line and an exit code."""

    @wraps(command)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (ConfigurationError, StoreUnavailable, StoreNotInitialised, UsageError) as error:
            fail(str(error), USAGE)
        except (DomainError, VerificationError, ViewNotVerified) as error:
            fail(f"{getattr(error, 'title', type(error).__name__)}: {error}", REFUSED)
        except ClientError as error:
            fail(str(error), error.exit_code)
        except Exception as error:
            if not _refused_by_the_database(error):
                raise
            # The database refused what the command needed (read-only, permissions, gone).
            cause = getattr(error, "orig", None) or error
            fail(f"the store refused: {str(cause).splitlines()[0]}", USAGE)

    return cast(F, wrapped)


def _refused_by_the_database(error: Exception) -> bool:
    """Whether ``error`` is the database's (SQLAlchemy's DBAPIError, eventsourcing's
    PersistenceError).

    Their classes are looked up among the modules already imported, not imported here: only a
    command that opened the store imported them, and can have raised them, while importing
    them costs every command a third of a second (``key generate``, ``submit``).
    """
    kinds = [
        getattr(module, name)
        for module, name in (
            (sys.modules.get("sqlalchemy.exc"), "DBAPIError"),
            (sys.modules.get("eventsourcing.persistence"), "PersistenceError"),
        )
        if module is not None
    ]
    return isinstance(error, tuple(kinds))


def store_command(command: Callable[..., Any]) -> Callable[..., Any]:
    """Open the store for the command, pass it as ``store``, close it after."""

    @wraps(command)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        # Imported when a command opens the store, not when its module is loaded: the store
        # brings SQLAlchemy, the domain and the verifier, which other commands do without.
        from infrastructure.bootstrap import open_store

        store = open_store()
        try:
            return command(store, *args, **kwargs)
        finally:
            store.close()

    return wrapped
