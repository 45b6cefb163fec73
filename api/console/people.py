"""Who runs a console command: a person, authenticated as at the API, or the store's operator.

A command that reads or hands out clinical data or accounts, or changes an account, acts as a
person: ``--as USER`` (or ``SEALTRAIL_USER``) with that person's password (``SEALTRAIL_PASSWORD``,
or asked on a terminal, never an argument: ``ps`` shows those). The password is checked like any
login (recorded in the authentication log, counted toward a lockout, refused when expired), and
the person's role in force is checked against :mod:`domain.permissions`, the same matrix every
endpoint checks.

The operator's commands (``init``, ``demo``, ``serve``, ``verify``, ``checkpoint``, ``rebuild``,
``project``) keep the server running and show no clinical value; they need what the server
itself needs (the database and ``SEALTRAIL_HOME``), so whoever can run them can run the server.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from api.console.exits import UsageError
from signatures.errors import KeyFormatError
from signatures.keys import private_key_from_pem

if TYPE_CHECKING:
    from domain.account import Account
    from infrastructure.application.commands import Signatory
    from infrastructure.bootstrap import Store

F = TypeVar("F", bound=Callable[..., Any])

CONSOLE = "console"
"""The channel console authentications are recorded under (the API's is ``api``)."""


def person_option(help_text: str = "Your user id (default: $SEALTRAIL_USER)") -> Callable[[F], F]:
    """``--as USER``, required, or taken from ``SEALTRAIL_USER``."""
    return click.option(
        "--as",
        "acting_as",
        required=True,
        envvar="SEALTRAIL_USER",
        metavar="USER",
        help=help_text,
    )


def password_from_environment(
    variable: str = "SEALTRAIL_PASSWORD", prompt: str = "password"
) -> str:
    """A password from ``variable``, or asked on a terminal."""
    password = os.environ.get(variable)
    if password:
        return password
    if not sys.stdin.isatty():
        raise UsageError(f"set {variable} or run on a terminal to be asked")
    return str(click.prompt(prompt, hide_input=True))


def console_person(store: Store, acting_as: str) -> Account:
    """The person at the console, authenticated by password (roles are checked by the caller).

    Raises:
        UsageError: no password given and no terminal to ask on.
        AuthenticationFailed, AccountLockedOut, PasswordExpired: as at ``POST /v1/auth/token``.
    """
    return store.access.authenticate(acting_as, password_from_environment(), channel=CONSOLE)


def signatory(store: Store, acting_as: str, signing_key: Path) -> Signatory:
    """The person, authenticated by password, with the private key that will sign."""
    return signing_person(store, acting_as, signing_key)[1]


def signing_person(store: Store, acting_as: str, signing_key: Path) -> tuple[Account, Signatory]:
    """The person's account (roles are checked by the caller) and their :func:`signatory`."""
    # Here, not at the top: the application's commands bring the subject's aggregate, which
    # the commands that import this module to name their options (``--as``) do without.
    from infrastructure.application.commands import Signatory

    try:
        private_key = private_key_from_pem(signing_key.read_bytes())
    except KeyFormatError as error:
        raise UsageError(f"{signing_key}: {error}") from None
    account = console_person(store, acting_as)
    return account, Signatory(account.user_id, account.printed_name, private_key)
