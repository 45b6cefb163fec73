"""``sealtrail user ...``: accounts administered in person (roles, sites, training, passwords,
locks), each change signed by the administrator who makes it (see
:mod:`api.console.administration`); reading accounts is :mod:`api.console.user_reads`.
"""

from __future__ import annotations

from pathlib import Path

import click

from api.console.administration import ROLE_CHOICE, administered_change, calendar_date
from api.console.command import one_line_errors, store_command
from api.console.people import password_from_environment, signatory
from api.console.user_reads import user_attempts, user_list, user_show
from domain.account import Role
from infrastructure.application.commands import (
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


@user.command("add")
@click.argument("user_id")
@click.option("--name", "printed_name", required=True, help="Printed name shown with signatures")
@click.option("--role", type=ROLE_CHOICE, help="The role (in force once training is attested)")
@click.option("--site", "sites", multiple=True, help="A site the person acts for (repeatable)")
@administered_change
def user_add(
    store: Store,
    user_id: str,
    printed_name: str,
    role: str | None,
    sites: tuple[str, ...],
    acting_as: str,
    signing_key: Path,
) -> None:
    """Create an account; prints its one-time password (changed at first use)."""
    password = store.administration.open_account(
        OpenAccount(
            user_id=user_id,
            printed_name=printed_name,
            role=Role(role) if role else None,
            sites=sites,
            one_time_password=True,
        ),
        by=signatory(store, acting_as, signing_key),
    )
    click.echo(f"created {user_id} ({role or 'no role'}); one-time password: {password}")


@user.command("grant")
@click.argument("user_id")
@click.option("--role", type=ROLE_CHOICE, required=True)
@administered_change
def user_grant(store: Store, user_id: str, role: str, acting_as: str, signing_key: Path) -> None:
    """Grant a role (in force once training for it is attested)."""
    store.administration.grant_role(
        GrantRole(user_id=user_id, role=Role(role)), by=signatory(store, acting_as, signing_key)
    )
    click.echo(f"granted {role} to {user_id}")


@user.command("revoke-role")
@click.argument("user_id")
@click.option("--role", type=ROLE_CHOICE, required=True)
@click.option("--reason", required=True)
@administered_change
def user_revoke_role(
    store: Store, user_id: str, role: str, reason: str, acting_as: str, signing_key: Path
) -> None:
    """Take a role away."""
    store.administration.revoke_role(
        RevokeRole(user_id=user_id, role=Role(role), reason=reason),
        by=signatory(store, acting_as, signing_key),
    )
    click.echo(f"revoked {role} from {user_id}")


@user.command("assign-site")
@click.argument("user_id")
@click.option("--site", required=True)
@administered_change
def user_assign_site(
    store: Store, user_id: str, site: str, acting_as: str, signing_key: Path
) -> None:
    """Let a person act for a site."""
    store.administration.assign_site(
        AssignSite(user_id=user_id, site=site), by=signatory(store, acting_as, signing_key)
    )
    click.echo(f"{user_id} acts for {site}")


@user.command("unassign-site")
@click.argument("user_id")
@click.option("--site", required=True)
@click.option("--reason", required=True)
@administered_change
def user_unassign_site(
    store: Store, user_id: str, site: str, reason: str, acting_as: str, signing_key: Path
) -> None:
    """Stop a person acting for a site."""
    store.administration.unassign_site(
        UnassignSite(user_id=user_id, site=site, reason=reason),
        by=signatory(store, acting_as, signing_key),
    )
    click.echo(f"{user_id} no longer acts for {site}")


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
    acting_as: str,
    signing_key: Path,
) -> None:
    """Attest that a person completed training for a role (21 CFR 11.10(i))."""
    completed = calendar_date(completed_on)
    store.administration.attest_training(
        AttestTraining(user_id=user_id, role=Role(role), course=course, completed_on=completed),
        by=signatory(store, acting_as, signing_key),
    )
    click.echo(f"attested {user_id}'s training for {role}")


@user.command("lock")
@click.argument("user_id")
@click.option("--reason", required=True)
@administered_change
def user_lock(store: Store, user_id: str, reason: str, acting_as: str, signing_key: Path) -> None:
    """Lock an account: it authenticates nowhere until unlocked."""
    store.administration.lock_account(
        LockAccount(user_id=user_id, reason=reason), by=signatory(store, acting_as, signing_key)
    )
    click.echo(f"locked {user_id}")


@user.command("unlock")
@click.argument("user_id")
@click.option("--reason", required=True)
@administered_change
def user_unlock(store: Store, user_id: str, reason: str, acting_as: str, signing_key: Path) -> None:
    """Unlock an account (earlier failed attempts no longer count)."""
    store.administration.unlock_account(
        UnlockAccount(user_id=user_id, reason=reason), by=signatory(store, acting_as, signing_key)
    )
    click.echo(f"unlocked {user_id}")


@user.command("reset-password")
@click.argument("user_id")
@administered_change
def user_reset_password(store: Store, user_id: str, acting_as: str, signing_key: Path) -> None:
    """Issue a one-time password (the person chooses their own at first use)."""
    password = store.administration.reset_password(
        ResetPassword(user_id=user_id), by=signatory(store, acting_as, signing_key)
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


for reading in (user_list, user_show, user_attempts):
    user.add_command(reading)
