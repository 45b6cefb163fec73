"""``sealtrail user ...``: accounts administered in person (roles, sites, training, passwords,
locks), each change signed by the administrator who makes it (see
:mod:`api.console.administration`); reading accounts is :mod:`api.console.user_reads`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

import click

from api.console.access_review import user_review
from api.console.administration import (
    ROLE_CHOICE,
    Administrator,
    administered_change,
    calendar_date,
    role_end,
)
from api.console.command import one_line_errors, store_command
from api.console.people import password_from_environment
from api.console.user_reads import user_attempts, user_copies, user_list, user_show
from domain.account import Role
from infrastructure.application.administration import Administration
from infrastructure.application.commands import (
    AccountCommand,
    AssignSite,
    AttestTraining,
    GrantRole,
    LockAccount,
    OpenAccount,
    ResetPassword,
    RevokeRole,
    UnassignSite,
    UnlockAccount,
)
from infrastructure.bootstrap import Store


@click.group()
def user() -> None:
    """Accounts: roles, sites, training, passwords, locks."""


def opening(command: Callable[..., Any]) -> Callable[..., Any]:
    """Pass ``add``'s USER_ID, ``--name``, ``--role`` and ``--site`` as one ``account``: the
    account to open, with a one-time password (changed at first use)."""

    @wraps(command)
    def with_account(
        *args: Any,
        user_id: str,
        printed_name: str,
        role: str | None,
        sites: tuple[str, ...],
        **kwargs: Any,
    ) -> Any:
        account = OpenAccount(
            user_id=user_id,
            printed_name=printed_name,
            role=Role(role) if role else None,
            sites=sites,
            one_time_password=True,
        )
        return command(*args, account=account, **kwargs)

    return with_account


@user.command("add")
@click.argument("user_id")
@click.option("--name", "printed_name", required=True, help="Printed name shown with signatures")
@click.option("--role", type=ROLE_CHOICE, help="The role (in force once training is attested)")
@click.option("--site", "sites", multiple=True, help="A site the person acts for (repeatable)")
@administered_change
@opening
def user_add(store: Store, account: OpenAccount, administrator: Administrator) -> None:
    """Create an account; prints its one-time password (changed at first use)."""
    password = store.administration.open_account(account, by=administrator.signatory(store))
    role = account.role.value if account.role else "no role"
    click.echo(f"created {account.user_id} ({role}); one-time password: {password}")


@user.command("train")
@click.argument("user_id")
@click.option("--role", type=ROLE_CHOICE, required=True, help="The role trained for")
@click.option("--course", required=True, help="The course or curriculum completed")
@click.option("--completed-on", "completed_on", required=True, help="YYYY-MM-DD")
@administered_change
def user_train(
    store: Store,
    user_id: str,
    role: str,
    course: str,
    completed_on: str,
    administrator: Administrator,
) -> None:
    """Attest that a person completed training for a role (21 CFR 11.10(i))."""
    store.administration.attest_training(
        AttestTraining(
            user_id=user_id,
            role=Role(role),
            course=course,
            completed_on=calendar_date(completed_on),
        ),
        by=administrator.signatory(store),
    )
    click.echo(f"attested {user_id}'s training for {role}")


@user.command("reset-password")
@click.argument("user_id")
@administered_change
def user_reset_password(store: Store, user_id: str, administrator: Administrator) -> None:
    """Issue a one-time password (the person chooses their own at first use)."""
    password = store.administration.reset_password(
        ResetPassword(user_id), by=administrator.signatory(store)
    )
    click.echo(f"one-time password for {user_id}: {password}")


@user.command("password")
@click.argument("user_id")
@one_line_errors
@store_command
def user_password(store: Store, user_id: str) -> None:
    """Change your own password: the current one from SEALTRAIL_PASSWORD, the new one from
    SEALTRAIL_NEW_PASSWORD (or both asked on a terminal)."""
    current = password_from_environment()
    new = password_from_environment("SEALTRAIL_NEW_PASSWORD", "new password")
    store.access.change_password(user_id, current, new)
    click.echo(f"changed the password of {user_id}")


ROLE = click.option("--role", type=ROLE_CHOICE, required=True, callback=lambda _c, _p, v: Role(v))
"""The role granted or taken away, passed as a :class:`Role`."""
UNTIL = click.option(
    "--until",
    callback=lambda _c, _p, v: role_end(v),
    help="The last day the role is in force, YYYY-MM-DD (UTC), or the instant it lapses, "
    "YYYY-MM-DDTHH:MM:SSZ (default: no end)",
)
"""When a granted role lapses, passed as a UTC instant (or None)."""
SITE = click.option("--site", required=True)
"""The site a person starts or stops acting for."""
REASON = click.option("--reason", required=True)
"""Why, recorded in the signed change."""


@dataclass(frozen=True)
class AccountChange:
    """A ``user`` command that records one signed change of one account, ``USER_ID``."""

    name: str
    command: type[AccountCommand]
    """The application's command, made of ``user_id`` and the options by name."""
    change: Callable[..., None]
    """The :class:`Administration` method that records the command."""
    done: str
    """What it prints once recorded, formatted with ``user_id`` and the options."""
    options: tuple[Callable[[Any], Any], ...]
    """Its options besides ``--as`` and ``--key``, in the order ``--help`` lists them."""

    def declare(self, summary: str) -> None:
        """Add the command to ``sealtrail user``, with ``summary`` as its help."""

        def command(store: Store, user_id: str, administrator: Administrator, **given: Any) -> None:
            change = self.command(user_id=user_id, **given)
            self.change(store.administration, change, by=administrator.signatory(store))
            click.echo(self.done.format(user_id=user_id, **given))

        declared = administered_change(command)
        for option in reversed(self.options):
            declared = option(declared)
        user.command(self.name, help=summary)(click.argument("user_id")(declared))


AccountChange(
    "grant",
    GrantRole,
    Administration.grant_role,
    "granted {role.value} to {user_id}",
    (ROLE, UNTIL),
).declare("Grant a role (in force once training for it is attested, until --until if given).")
AccountChange(
    "revoke-role",
    RevokeRole,
    Administration.revoke_role,
    "revoked {role.value} from {user_id}",
    (ROLE, REASON),
).declare("Take a role away.")
AccountChange(
    "assign-site", AssignSite, Administration.assign_site, "{user_id} acts for {site}", (SITE,)
).declare("Let a person act for a site.")
AccountChange(
    "unassign-site",
    UnassignSite,
    Administration.unassign_site,
    "{user_id} no longer acts for {site}",
    (SITE, REASON),
).declare("Stop a person acting for a site.")
AccountChange(
    "lock", LockAccount, Administration.lock_account, "locked {user_id}", (REASON,)
).declare("Lock an account: it authenticates nowhere until unlocked.")
AccountChange(
    "unlock", UnlockAccount, Administration.unlock_account, "unlocked {user_id}", (REASON,)
).declare("Unlock an account (earlier failed attempts no longer count).")

for reading in (user_list, user_show, user_attempts, user_review, user_copies):
    user.add_command(reading)
