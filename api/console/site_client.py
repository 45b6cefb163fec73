"""``sealtrail submit``, ``sealtrail sign`` and ``sealtrail sign-casebook``: the site's client,
signing with the person's own key on their own machine and sending over HTTP(S)
(:mod:`api.console.client`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import click

from api.console import client
from api.console.command import one_line_errors, private_key_option
from domain.vocabulary import CASEBOOK_SIGNATURE_MEANINGS, SIGNATURE_MEANINGS, Milestone


def site_client_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--url``, ``--user`` and ``--key``: whom the site's client signs as, and where it sends,
    passed to the command as one ``sender``."""

    @wraps(command)
    def wrapped(*args: Any, url: str, user_id: str, key_file: Path, **kwargs: Any) -> Any:
        return command(*args, sender=client.Sender(url, user_id, key_file), **kwargs)

    options = private_key_option("key_file", "Your Ed25519 private key (PEM)")(wrapped)
    options = click.option("--user", "user_id", required=True, help="Your user id")(options)
    return click.option(
        "--url", required=True, help="The store's base URL, e.g. http://127.0.0.1:8000"
    )(options)


@click.command()
@site_client_options
@click.option("--meaning", default="authorship", show_default=True)
@click.option("--idempotency-key", default=None, help="Reuse to retry safely (default: new)")
@click.argument("event_file", type=click.File("r"))
@one_line_errors
def submit(
    sender: client.Sender, meaning: str, idempotency_key: str | None, event_file: Any
) -> None:
    """Sign EVENT_FILE with your key and submit it; prints the server's receipt.

    EVENT_FILE holds study, subject, kind and data, and may hold version (the version of the
    subject's stream the event takes); without it, the next version is read from the
    subject's history and signed. The password is read from SEALTRAIL_PASSWORD, or asked for
    on a terminal.
    """
    receipt = client.submit(
        sender,
        meaning=meaning,
        idempotency_key=idempotency_key,
        event=client.read_event(event_file),
    )
    click.echo(json.dumps(receipt, indent=2))


def signing_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """What every signature the site's client makes is told: who signs and where it is sent,
    the study and subject, and a retry key; the command's own options follow."""
    decorated = one_line_errors(command)
    for option in (
        click.option(
            "--idempotency-key", default=None, help="Reuse to retry safely (default: new)"
        ),
        click.option("--subject", required=True, help="The subject's study code, e.g. RP-101"),
        click.option("--study", default="NCT01297972", show_default=True),
    ):
        decorated = option(decorated)
    return site_client_options(decorated)


@click.command()
@signing_options
@click.option(
    "--entry",
    "entries",
    required=True,
    multiple=True,
    type=click.IntRange(min=1),
    help="A record to sign, by its entry number (repeat for several)",
)
@click.option("--meaning", required=True, type=click.Choice(SIGNATURE_MEANINGS))
def sign(
    sender: client.Sender,
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
        sender,
        study=study,
        subject=subject,
        entries=entries,
        meaning=meaning,
        idempotency_key=idempotency_key,
    )
    click.echo(json.dumps(answer, indent=2))


@click.command("sign-casebook")
@signing_options
@click.option("--milestone", required=True, type=click.Choice([m.value for m in Milestone]))
@click.option("--meaning", required=True, type=click.Choice(CASEBOOK_SIGNATURE_MEANINGS))
def sign_casebook(sender: client.Sender, **casebook: Any) -> None:
    """Sign a subject's whole casebook at a milestone (ICH E6(R3), 21 CFR 11.50): one signature
    over its state and every live record as they stand. Prints the server's receipt and the
    records signed.

    Your user id and password are both asked for (each run is a new session): the password
    is read from SEALTRAIL_PASSWORD, or asked for on a terminal.
    """
    # The options are client.sign_casebook's keyword arguments, by name.
    click.echo(json.dumps(client.sign_casebook(sender, **casebook), indent=2))
