"""``sealtrail``: the command line of CONTRACT.md.

Exit codes: 0 success; 1 the check failed or the request was refused; 2 wrong usage or
configuration. Every error is one line on stderr, never a traceback.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar, cast

import click
from eventsourcing.persistence import PersistenceError
from sqlalchemy.exc import DBAPIError as DatabaseError

from api.console import (
    accounts,
    backups,
    client,
    demo_cohort,
    packets,
    projections,
    replay,
    reports,
)
from api.console.people import UsageError
from api.console.progress import progress
from api.console.server import check_workers_fit
from api.console.server import serve as run_server
from domain.account import SPONSOR_ACCOUNT
from domain.attribution import SIGNATURE_MEANINGS
from domain.errors import DomainError
from infrastructure.application import SealTrail
from infrastructure.bootstrap import Store, log_verifier, open_store
from infrastructure.errors import ConfigurationError, StoreNotInitialised, StoreUnavailable
from infrastructure.identity.server_key import (
    check_no_key_to_overwrite,
    create_server_key,
    server_key_exists,
)
from infrastructure.identity.sponsor_key import open_sponsor_account
from infrastructure.settings import Settings
from infrastructure.store.init_checks import check_writable
from infrastructure.verification.verifier import ExternalCheckpoint
from infrastructure.views.tables import ViewNotVerified
from signatures.errors import VerificationError

F = TypeVar("F", bound=Callable[..., Any])

USAGE = 2
REFUSED = 1


def fail(message: str, code: int) -> None:
    """One line on stderr and exit with ``code``."""
    click.echo(f"sealtrail: {message}", err=True)
    sys.exit(code)


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
        except client.ClientError as error:
            fail(str(error), error.exit_code)
        except (DatabaseError, PersistenceError) as error:
            # The database refused what the command needed (read-only, permissions, gone).
            cause = getattr(error, "orig", None) or error
            fail(f"the store refused: {str(cause).splitlines()[0]}", USAGE)

    return cast(F, wrapped)


def store_command(command: Callable[..., Any]) -> Callable[..., Any]:
    """Open the store for the command, pass it as ``store``, close it after."""

    @wraps(command)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        store = open_store()
        try:
            return command(store, *args, **kwargs)
        finally:
            store.close()

    return wrapped


@click.group()
@click.version_option(package_name="sealtrail")
def main() -> None:
    """sealtrail: a signed, hash-chained event store for clinical trials."""


@main.command()
@click.option(
    "--admin-public-key",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The first administrator's public key, made on their machine "
    "(default: a key pair written to $SEALTRAIL_HOME/admin.pem)",
)
@one_line_errors
def init(admin_public_key: Path | None) -> None:
    """Create the store, the server's signing key and a first administrator."""
    settings = Settings.from_environ()
    # Everything that could refuse is asked before a file is written (a read-only standby,
    # a store that another home's key anchors, a key already in this home).
    initialised = check_writable(settings)
    check_no_key_to_overwrite(settings)
    if not server_key_exists(settings):
        if initialised:
            fail(
                f"the store at {_where(settings)} is already initialised, and its server key "
                f"is not in {settings.keys_dir}: run sealtrail with the store's own "
                "SEALTRAIL_HOME (or restore its keys from the backup); nothing was written",
                USAGE,
            )
        create_server_key(settings)
    store = open_store(settings)
    try:
        app = store.app
        if app.is_initialised():
            registered = app.account("system").keys
            if app.server_key.key_id not in registered:
                fail(
                    "this store was initialised with another server key "
                    f"({', '.join(registered)}); SEALTRAIL_HOME holds {app.server_key.key_id}",
                    USAGE,
                )
        if app.find_account(accounts.FIRST_ADMINISTRATOR) is not None:
            click.echo(f"sealtrail: the store at {_where(settings)} is already initialised")
            _open_sponsor_account(app, settings)
            return
        app.initialise()
        password, key_file = accounts.open_first_administrator(store, admin_public_key)
        click.echo(f"initialised the store at {_where(settings)}")
        click.echo(f"server key: {app.server_key.key_id} (public key in {settings.keys_dir})")
        click.echo(f"administrator's signing key: {key_file}")
        _open_sponsor_account(app, settings)
        # Last, and set apart: the one thing a person must copy from this output.
        click.echo(one_time_password_block(password))
    finally:
        store.close()


def one_time_password_block(password: str) -> str:
    """The administrator's one-time password, framed so that it cannot be missed."""
    rule = "=" * 72
    return "\n".join(
        (
            "",
            rule,
            f"administrator: admin, one-time password: {password}",
            "shown only this once: keep it until you choose your own with "
            "'sealtrail user password admin'",
            rule,
        )
    )


def _open_sponsor_account(app: SealTrail, settings: Settings) -> None:
    made = open_sponsor_account(app, settings)
    if made is not None:
        click.echo(f"sponsor's packet-signing key: {made} (account {SPONSOR_ACCOUNT})")


@main.command()
@one_line_errors
@store_command
def demo(store: Store) -> None:
    """Load the demonstration cohort through the signed write path (a rerun adds nothing)."""
    with progress("demo") as shown:
        added = demo_cohort.load(store, progress=shown)
    click.echo(f"demonstration cohort loaded: {added} new events (synthetic data)")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
@click.option(
    "--log-level",
    default="info",
    show_default=True,
    type=click.Choice(["debug", "info", "warning", "error"]),
    help="gunicorn's log on stderr (warning: no start-up lines; the access log is on stdout).",
)
@one_line_errors
def serve(host: str, port: int, workers: int, log_level: str) -> None:
    """Serve the API with gunicorn (a production WSGI server)."""
    settings = Settings.from_environ()
    check_workers_fit(settings, workers)  # workers x connections under max_connections
    open_store(settings).close()  # fail here, in one line, rather than in every worker
    run_server(host, port, workers, log_level=log_level)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
@click.option(
    "--from-checkpoint",
    "checkpoint_file",
    type=click.File("r"),
    help="A checkpoint note kept outside the store: the log must still extend it.",
)
@click.option("--workers", type=click.IntRange(1, 256), help="Processes (default: every core).")
@one_line_errors
def verify(as_json: bool, checkpoint_file: Any, workers: int | None) -> None:
    """Check every signature, every subject's chain, the Merkle log and every checkpoint.

    Reads only: it needs the server's public key and a connection that may read, so it runs on
    a read replica too.
    """
    external = (
        ExternalCheckpoint(checkpoint_file.read(), checkpoint_file.name)
        if checkpoint_file is not None
        else None
    )
    with (
        log_verifier(workers=workers) as verifier,
        progress("verify", verifier.approximate_count()) as shown,
    ):
        report = verifier.verify(progress=shown.advance, external=external)
    if as_json:
        document = {
            "events": report.events,
            "ok": report.ok,
            "findings": [finding.as_dict() for finding in report.findings],
        }
        click.echo(json.dumps(document, indent=2))
    else:
        for finding in report.findings:
            click.echo(str(finding))
        verdict = "OK" if report.ok else "FAILED"
        click.echo(f"{verdict}: {report.events} events checked, {len(report.findings)} findings")
    if not report.ok:
        sys.exit(REFUSED)


@main.command()
@one_line_errors
@store_command
def checkpoint(store: Store) -> None:
    """Seal and print a signed checkpoint of the whole log (C2SP tlog-checkpoint)."""
    click.echo(store.app.checkpoints.seal().note, nl=False)


@main.command()
@one_line_errors
@store_command
def rebuild(store: Store) -> None:
    """Drop the projections, rebuild them from the log and print their digest."""
    store.views.runner.clear()  # first, so that the progress bar knows the whole length
    with projections.progress_of(store.views, "rebuild") as shown:
        digest = store.views.rebuild(progress=shown)
    click.echo(digest)


def site_client_options(command: F) -> F:
    """``--url``, ``--user`` and ``--key``: whom the site's client signs as, and where it sends."""
    command = click.option(
        "--key",
        "key_file",
        required=True,
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="Your Ed25519 private key (PEM)",
    )(command)
    command = click.option("--user", "user_id", required=True, help="Your user id")(command)
    return click.option(
        "--url", required=True, help="The store's base URL, e.g. http://127.0.0.1:8000"
    )(command)


@main.command()
@site_client_options
@click.option("--meaning", default="authorship", show_default=True)
@click.option("--idempotency-key", default=None, help="Reuse to retry safely (default: new)")
@click.argument("event_file", type=click.File("r"))
@one_line_errors
def submit(
    url: str,
    user_id: str,
    key_file: Path,
    meaning: str,
    idempotency_key: str | None,
    event_file: Any,
) -> None:
    """Sign EVENT_FILE with your key and submit it; prints the server's receipt.

    EVENT_FILE holds study, subject, kind and data, and may hold version (the version of the
    subject's stream the event takes); without it, the next version is read from the
    subject's history and signed. The password is read from SEALTRAIL_PASSWORD, or asked for
    on a terminal.
    """
    receipt = client.submit(
        url=url,
        user_id=user_id,
        key_file=key_file,
        meaning=meaning,
        idempotency_key=idempotency_key,
        event=client.read_event(event_file),
    )
    click.echo(json.dumps(receipt, indent=2))


@main.command()
@site_client_options
@click.option("--study", default="NCT01297972", show_default=True)
@click.option("--subject", required=True, help="The subject's study code, e.g. RP-101")
@click.option(
    "--entry",
    "entries",
    required=True,
    multiple=True,
    type=click.IntRange(min=1),
    help="A record to sign, by its entry number (repeat for several)",
)
@click.option("--meaning", required=True, type=click.Choice(SIGNATURE_MEANINGS))
@click.option("--idempotency-key", default=None, help="Reuse to retry safely (default: new)")
@one_line_errors
def sign(
    url: str,
    user_id: str,
    key_file: Path,
    study: str,
    subject: str,
    entries: tuple[int, ...],
    meaning: str,
    idempotency_key: str | None,
) -> None:
    """Sign records of a subject electronically (21 CFR 11.50): review, approval or
    responsibility. Prints the server's receipt and the records signed.

    Your user id and password are both asked for (each run is a new session): the password
    is read from SEALTRAIL_PASSWORD, or asked for on a terminal.
    """
    answer = client.sign_records(
        url=url,
        user_id=user_id,
        key_file=key_file,
        study=study,
        subject=subject,
        entries=entries,
        meaning=meaning,
        idempotency_key=idempotency_key,
    )
    click.echo(json.dumps(answer, indent=2))


accounts.register(main, one_line_errors, store_command)
reports.register(main, one_line_errors, store_command)
replay.register(main, one_line_errors, store_command)
projections.register(main, one_line_errors, store_command)
packets.register(main, one_line_errors, store_command)
backups.register(main, one_line_errors, store_command)


def _where(settings: Settings) -> str:
    return settings.database_url.render_as_string(hide_password=True)
