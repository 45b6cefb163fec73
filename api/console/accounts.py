"""``sealtrail user ...`` and ``sealtrail key ...``: accounts and keys, administered in person.

Every change is signed by the administrator who makes it (``--as ADMIN --key FILE``), after
the administrator's password (``SEALTRAIL_PASSWORD``, or asked on a terminal) has been checked
like any login: recorded, counted toward a lockout, refused when expired. Reading accounts
(``list``, ``show``, ``attempts``) needs ``--as`` and the password of an administrator or an
auditor. Only ``sealtrail init`` is signed by the server.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from api.console.people import console_person, password_from_environment, person_option, signatory
from api.schemas.accounts import account_document
from domain.account import STAFF_ROLES, Account, Role
from domain.attribution import signer_of
from domain.permissions import check_may_read_accounts
from domain.wire import instant_from_wire, instant_to_wire
from infrastructure.application import Training
from infrastructure.bootstrap import Store
from signatures.keys import (
    generate_private_key,
    key_id,
    private_key_from_pem,
    private_key_to_pem,
    public_key_to_pem,
)

F = TypeVar("F", bound=Callable[..., Any])
Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]

USAGE = 2

ROLE_CHOICE = click.Choice([role.value for role in STAFF_ROLES])


def administrator_options(command: F) -> F:
    """``--as`` and ``--key``: who signs the change, with which private key."""
    command = click.option(
        "--key",
        "signing_key",
        required=True,
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="Your Ed25519 private key (PEM); the change is signed with it",
    )(command)
    return person_option("Your user id (administrator; default: $SEALTRAIL_USER)")(command)


def reader(store: Store, acting_as: str) -> Account:
    """An administrator or auditor, authenticated by password."""
    account = console_person(store, acting_as)
    check_may_read_accounts(account)
    return account


def instant(text: str | None) -> datetime | None:
    """A ``--at`` value: a UTC instant ``YYYY-MM-DDTHH:MM:SSZ``."""
    if text is None:
        return None
    try:
        return instant_from_wire(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not YYYY-MM-DDTHH:MM:SSZ") from None


def calendar_date(text: str) -> date:
    """A ``--completed-on`` value: ``YYYY-MM-DD``."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not YYYY-MM-DD") from None


def account_line(account: Account) -> str:
    """One line per account for ``user list``."""
    role = account.role.value if account.role else "no role"
    if account.role is not None and account.effective_role is None:
        role += " (awaiting training)"
    state = " LOCKED" if account.locked else ""
    sites = ",".join(account.sites) or "-"
    return f"{account.user_id}\t{role}\t{sites}\t{account.printed_name}{state}"


KEY_ENDS_AT = click.option(
    "--at",
    "at",
    default=None,
    help="UTC instant, e.g. 2026-11-23T10:00:00Z (default: the next whole second; a past "
    "instant is recorded as retroactive)",
)
"""When a rotated or revoked key stops being valid."""


def register(main: click.Group, wrap: Decorator, with_store: Decorator) -> None:
    """Add the ``user`` and ``key`` groups to ``main``.

    ``wrap`` turns errors into one line and an exit code, ``with_store`` opens the store for a
    command (both from :mod:`api.console`, passed in so this module does not import its parent).
    """

    def command(group: click.Group, name: str) -> Callable[[Callable[..., Any]], click.Command]:
        def decorate(function: Callable[..., Any]) -> click.Command:
            return group.command(name)(wrap(with_store(function)))

        return decorate

    @main.group()
    def user() -> None:
        """Accounts: roles, sites, training, passwords, locks."""

    @main.group()
    def key() -> None:
        """Signing keys: generate, register, rotate, revoke."""

    @command(user, "add")
    @click.argument("user_id")
    @click.option(
        "--name", "printed_name", required=True, help="Printed name shown with signatures"
    )
    @click.option("--role", type=ROLE_CHOICE, help="The role (in force once training is attested)")
    @click.option("--site", "sites", multiple=True, help="A site the person acts for (repeatable)")
    @administrator_options
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
        password = store.access.open_account(
            user_id=user_id,
            printed_name=printed_name,
            role=Role(role) if role else None,
            sites=sites,
            by=signatory(store, acting_as, signing_key),
        )
        click.echo(f"created {user_id} ({role or 'no role'}); one-time password: {password}")

    @command(user, "grant")
    @click.argument("user_id")
    @click.option("--role", type=ROLE_CHOICE, required=True)
    @administrator_options
    def user_grant(
        store: Store, user_id: str, role: str, acting_as: str, signing_key: Path
    ) -> None:
        """Grant a role (in force once training for it is attested)."""
        store.app.grant_role(
            user_id=user_id, role=Role(role), by=signatory(store, acting_as, signing_key)
        )
        click.echo(f"granted {role} to {user_id}")

    @command(user, "revoke-role")
    @click.argument("user_id")
    @click.option("--role", type=ROLE_CHOICE, required=True)
    @click.option("--reason", required=True)
    @administrator_options
    def user_revoke_role(
        store: Store, user_id: str, role: str, reason: str, acting_as: str, signing_key: Path
    ) -> None:
        """Take a role away."""
        store.app.revoke_role(
            user_id=user_id,
            role=Role(role),
            reason=reason,
            by=signatory(store, acting_as, signing_key),
        )
        click.echo(f"revoked {role} from {user_id}")

    @command(user, "assign-site")
    @click.argument("user_id")
    @click.option("--site", required=True)
    @administrator_options
    def user_assign_site(
        store: Store, user_id: str, site: str, acting_as: str, signing_key: Path
    ) -> None:
        """Let a person act for a site."""
        store.app.assign_site(
            user_id=user_id, site=site, by=signatory(store, acting_as, signing_key)
        )
        click.echo(f"{user_id} acts for {site}")

    @command(user, "unassign-site")
    @click.argument("user_id")
    @click.option("--site", required=True)
    @click.option("--reason", required=True)
    @administrator_options
    def user_unassign_site(
        store: Store, user_id: str, site: str, reason: str, acting_as: str, signing_key: Path
    ) -> None:
        """Stop a person acting for a site."""
        store.app.unassign_site(
            user_id=user_id, site=site, reason=reason, by=signatory(store, acting_as, signing_key)
        )
        click.echo(f"{user_id} no longer acts for {site}")

    @command(user, "train")
    @click.argument("user_id")
    @click.option("--role", type=ROLE_CHOICE, required=True, help="The role trained for")
    @click.option("--course", required=True, help="The course or curriculum completed")
    @click.option("--completed-on", "completed_on", required=True, help="YYYY-MM-DD")
    @administrator_options
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
        store.app.attest_training(
            user_id=user_id,
            role=Role(role),
            course=course,
            completed_on=completed,
            by=signatory(store, acting_as, signing_key),
        )
        click.echo(f"attested {user_id}'s training for {role}")

    @command(user, "lock")
    @click.argument("user_id")
    @click.option("--reason", required=True)
    @administrator_options
    def user_lock(
        store: Store, user_id: str, reason: str, acting_as: str, signing_key: Path
    ) -> None:
        """Lock an account: it authenticates nowhere until unlocked."""
        store.app.lock_account(
            user_id=user_id, reason=reason, by=signatory(store, acting_as, signing_key)
        )
        click.echo(f"locked {user_id}")

    @command(user, "unlock")
    @click.argument("user_id")
    @click.option("--reason", required=True)
    @administrator_options
    def user_unlock(
        store: Store, user_id: str, reason: str, acting_as: str, signing_key: Path
    ) -> None:
        """Unlock an account (earlier failed attempts no longer count)."""
        store.app.unlock_account(
            user_id=user_id, reason=reason, by=signatory(store, acting_as, signing_key)
        )
        click.echo(f"unlocked {user_id}")

    @command(user, "reset-password")
    @click.argument("user_id")
    @administrator_options
    def user_reset_password(store: Store, user_id: str, acting_as: str, signing_key: Path) -> None:
        """Issue a one-time password (the person chooses their own at first use)."""
        password = store.access.reset_password(user_id, by=signatory(store, acting_as, signing_key))
        click.echo(f"one-time password for {user_id}: {password}")

    @command(user, "password")
    @click.argument("user_id")
    def user_password(store: Store, user_id: str) -> None:
        """Change your own password: the current one from SEALTRAIL_PASSWORD, the new one from
        SEALTRAIL_NEW_PASSWORD (or both asked on a terminal)."""
        current = password_from_environment()
        new = password_from_environment("SEALTRAIL_NEW_PASSWORD", "new password")
        store.access.change_password(user_id, current, new)
        click.echo(f"changed the password of {user_id}")

    @command(user, "list")
    @click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
    @person_option()
    def user_list(store: Store, as_json: bool, acting_as: str) -> None:
        """Every account, its role, sites and whether it is locked."""
        reader(store, acting_as)
        accounts = store.app.accounts()
        if as_json:
            click.echo(
                json.dumps(
                    [
                        account_document(a, store.access.password_expires_at(a.user_id))
                        for a in accounts
                    ],
                    indent=2,
                )
            )
            return
        for account in accounts:
            click.echo(account_line(account))

    @command(user, "show")
    @click.argument("user_id")
    @click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
    @person_option()
    def user_show(store: Store, user_id: str, as_json: bool, acting_as: str) -> None:
        """An account and its history: who had which access when, and who signed each change."""
        reader(store, acting_as)
        account = store.app.account(user_id)
        history = [
            {
                "position": record.position,
                "recorded_at": instant_to_wire(record.event.recorded_at),
                "kind": record.event.kind(),
                "data": record.event.signed_data(),
                "signed_by": signer_of(record.event.authorship.body()).user_id,
            }
            for record in store.app.account_history(user_id)
        ]
        if as_json:
            expires = store.access.password_expires_at(account.user_id)
            document = {**account_document(account, expires), "history": history}
            click.echo(json.dumps(document, indent=2))
            return
        click.echo(account_line(account))
        for entry in history:
            data = json.dumps(entry["data"], sort_keys=True)
            click.echo(f"{entry['recorded_at']}\t{entry['kind']}\t{data}\tby {entry['signed_by']}")

    @command(user, "attempts")
    @click.argument("user_id", required=False)
    @click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 10_000))
    @click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
    @person_option()
    def user_attempts(
        store: Store, user_id: str | None, limit: int, as_json: bool, acting_as: str
    ) -> None:
        """The authentication log, newest first: every success and failure."""
        reader(store, acting_as)
        attempts = store.access.attempts(user_id, limit)
        rows = [
            {
                "user_id": attempt.user_id,
                "occurred_at": instant_to_wire(attempt.occurred_at),
                "channel": attempt.channel,
                "outcome": attempt.outcome,
                "detail": attempt.detail,
            }
            for attempt in attempts
        ]
        if as_json:
            click.echo(json.dumps(rows, indent=2))
            return
        for row in rows:
            click.echo("\t".join(str(row[name]) for name in row))

    @key.command("generate")
    @click.option(
        "--out",
        required=True,
        type=click.Path(dir_okay=False, path_type=Path),
        help="Where to write the private key; the public key goes beside it as .pub.pem",
    )
    @wrap
    def key_generate(out: Path) -> None:
        """Make an Ed25519 key pair for a person (on their own machine)."""
        if out.exists():
            click.echo(f"sealtrail: {out} exists; choose another file", err=True)
            sys.exit(USAGE)
        public_path = write_key_pair(out)
        click.echo(f"{key_id_of(out)} private: {out} public: {public_path}")

    @command(key, "register")
    @click.option("--user", "user_id", required=True)
    @click.option(
        "--public-key",
        "public_key_file",
        required=True,
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
    )
    @click.option("--valid-from", default=None, help="UTC instant (now)")
    @administrator_options
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
        registered = store.app.register_key(
            user_id=user_id,
            public_key=public_key_file.read_text(encoding="ascii"),
            valid_from=moment,
            by=signatory(store, acting_as, signing_key),
        )
        click.echo(f"registered {registered} for {user_id}")

    @command(key, "rotate")
    @click.option("--user", "user_id", required=True)
    @click.option("--key-id", "old_key_id", required=True, help="The key being replaced")
    @click.option(
        "--public-key",
        "public_key_file",
        required=True,
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="The new public key",
    )
    @KEY_ENDS_AT
    @administrator_options
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
        new_key_id = store.app.rotate_key(
            user_id=user_id,
            old_key_id=old_key_id,
            public_key=public_key_file.read_text(encoding="ascii"),
            rotated_at=moment,
            by=signatory(store, acting_as, signing_key),
        )
        click.echo(f"rotated {old_key_id} of {user_id} to {new_key_id}")

    @command(key, "revoke")
    @click.option("--user", "user_id", required=True)
    @click.option("--key-id", "revoked_key_id", required=True)
    @click.option("--reason", required=True)
    @KEY_ENDS_AT
    @administrator_options
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
        store.app.revoke_key(
            user_id=user_id,
            key_id=revoked_key_id,
            revoked_at=moment,
            reason=reason,
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


def today() -> date:
    """Today in UTC."""
    return datetime.now(UTC).date()


INITIAL_TRAINING = "sealtrail administration (attested by whoever ran sealtrail init)"


def initial_training() -> Training:
    """The first administrator's training, attested by the server at initialisation."""
    return Training(INITIAL_TRAINING, today())


FIRST_ADMINISTRATOR = "admin"
FIRST_ADMINISTRATOR_NAME = "Store administrator"


def open_first_administrator(store: Store, public_key_file: Path | None) -> tuple[str, Path]:
    """Open ``admin``, signed by the server: the one administration nobody else can sign.

    Its role, training and key come with it, so it can sign every later change itself. Without
    ``public_key_file`` a key pair is made at ``$SEALTRAIL_HOME/admin.pem`` (kept if a run was
    interrupted after making it). Returns the one-time password and the key file.
    """
    if public_key_file is None:
        key_file = store.settings.home / "admin.pem"
        if not key_file.exists():
            write_key_pair(key_file)
        public_key = private_key_from_pem(key_file.read_bytes()).public_key()
        public_key_text = public_key_to_pem(public_key).decode("ascii")
    else:
        key_file = public_key_file
        public_key_text = public_key_file.read_text(encoding="ascii")
    password = store.access.open_account(
        user_id=FIRST_ADMINISTRATOR,
        printed_name=FIRST_ADMINISTRATOR_NAME,
        role=Role.ADMINISTRATOR,
        training=initial_training(),
        public_key=public_key_text,
        by=None,
    )
    return password, key_file
