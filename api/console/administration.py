"""What the ``user`` and ``key`` commands share: who administers, who reads accounts, and how
an instant or a date is typed on the command line.

Every change is signed by the administrator who makes it (``--as ADMIN --key FILE``), after
the administrator's password (``SEALTRAIL_PASSWORD``, or asked on a terminal) has been checked
like any login: recorded, counted toward a lockout, refused when expired. Reading accounts
(``list``, ``show``, ``attempts``) needs ``--as`` and the password of an administrator or an
auditor. Only ``sealtrail init`` is signed by the server.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from api.console.command import one_line_errors, private_key_option, store_command
from api.console.handing_out import personnel_data, print_copy
from api.console.people import console_person, person_option, signatory
from domain.account import STAFF_ROLES, Account
from domain.wire import instant_from_wire

if TYPE_CHECKING:
    from infrastructure.application.commands import Signatory
    from infrastructure.bootstrap import Store

F = TypeVar("F", bound=Callable[..., Any])

ROLE_CHOICE = click.Choice([role.value for role in STAFF_ROLES])


@dataclass(frozen=True)
class Administrator:
    """Who signs a change of an account (``--as``), with which private key (``--key``)."""

    user_id: str
    signing_key: Path

    def signatory(self, store: Store) -> Signatory:
        """The administrator, authenticated by password now, with the key that will sign."""
        return signatory(store, self.user_id, self.signing_key)


def signer_options(who: str) -> Callable[[F], F]:
    """``--as`` and ``--key``: who signs the change (``who`` names the roles that may), with
    which private key."""

    def options(command: F) -> F:
        command = private_key_option(
            "signing_key", "Your Ed25519 private key (PEM); the change is signed with it"
        )(command)
        return person_option(f"Your user id ({who}; default: $SEALTRAIL_USER)")(command)

    return options


administrator_options = signer_options("administrator")


def administered_change(command: Callable[..., Any]) -> Callable[..., Any]:
    """A command that records a signed change of an account: who signs it and with which key
    (passed as one ``administrator``), its errors in one line, the store opened around it."""

    @wraps(command)
    def by_administrator(*args: Any, acting_as: str, signing_key: Path, **kwargs: Any) -> Any:
        return command(*args, administrator=Administrator(acting_as, signing_key), **kwargs)

    return administrator_options(one_line_errors(store_command(by_administrator)))


def reader(store: Store, acting_as: str) -> Account:
    """An administrator or auditor, authenticated by password."""
    # Here, not at the top: the permission matrix brings the whole protocol, which ``key
    # generate`` (in the same group as the changes this module declares) does without.
    from domain.permissions import check_may_read_accounts

    account = console_person(store, acting_as)
    check_may_read_accounts(account)
    return account


def read_by_reader(what: str) -> Callable[[Callable[..., str]], Callable[..., Any]]:
    """A command that reads accounts and returns what it prints, a copy of personnel data
    named ``what``: ``--json`` (passed as ``as_json``) and ``--as`` an administrator or auditor,
    checked by password (:func:`reader`) before it runs; what it returns is recorded as handed
    to them, then printed; its errors in one line, the store opened around it."""

    def declare(command: Callable[..., str]) -> Callable[..., Any]:
        @wraps(command)
        def by_reader(store: Store, *args: Any, acting_as: str, **kwargs: Any) -> None:
            account = reader(store, acting_as)
            text = command(store, *args, **kwargs)
            print_copy(store, account, what, personnel_data(), text)

        declared = store_command(by_reader)
        declared = one_line_errors(declared)
        declared = person_option()(declared)
        return click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")(
            declared
        )

    return declare


def instant(text: str | None) -> datetime | None:
    """A ``--at`` value: a UTC instant ``YYYY-MM-DDTHH:MM:SSZ``."""
    if text is None:
        return None
    try:
        return instant_from_wire(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not YYYY-MM-DDTHH:MM:SSZ") from None


def role_end(text: str | None) -> datetime | None:
    """A ``--until`` value: ``YYYY-MM-DD``, the last day the role is in force (it lapses as the
    next day begins, UTC), or the instant it lapses, ``YYYY-MM-DDTHH:MM:SSZ``."""
    if text is None:
        return None
    if "T" in text:
        return instant(text)
    last_day = calendar_date(text)
    if last_day == date.max:
        raise click.BadParameter(f"{text!r} is the last day a date can hold; give no --until")
    return datetime.combine(last_day + timedelta(days=1), time(), tzinfo=UTC)


def calendar_date(text: str) -> date:
    """A ``--completed-on`` value: ``YYYY-MM-DD``."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not YYYY-MM-DD") from None
