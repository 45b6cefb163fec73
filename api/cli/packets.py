"""``sealtrail packet build`` and ``sealtrail packet verify``: the sponsor's submission packet.

``build`` reads the store; ``verify`` reads only the zip it is given (no database, no server,
no ``SEALTRAIL_*`` setting), so it runs on any machine where sealtrail is installed.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from api.cli.accounts import UsageError, signatory
from infrastructure.bootstrap import Store

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]

USAGE = 2
REFUSED = 1
OUT = click.Path(dir_okay=False, writable=True, path_type=Path)


def _say(what: str) -> None:
    """What is being done, on stderr, when it is a terminal; nothing otherwise."""
    if sys.stderr.isatty():
        click.echo(f"  {what}...", err=True)


def register(main: click.Group, one_line_errors: Decorator, store_command: Decorator) -> None:
    """Add the ``packet`` group to the command line."""

    @main.group()
    def packet() -> None:
        """The sponsor's regulatory submission packet, verifiable offline."""

    @packet.command()
    @click.option("--out", type=OUT, required=True, help="The zip to write.")
    @click.option("--study", help="The study (default: the one this store serves).")
    @click.option(
        "--as",
        "acting_as",
        metavar="USER",
        help="Sign as this sponsor data manager (with --key and SEALTRAIL_PASSWORD) instead "
        "of with the sponsor's packet key.",
    )
    @click.option(
        "--key",
        "signing_key",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="Your Ed25519 private key (PEM), with --as.",
    )
    @click.option(
        "--documents/--no-documents",
        default=True,
        show_default=True,
        help="Draw the PDFs (audit trail, CONEP reports); the slowest part.",
    )
    @one_line_errors
    @store_command
    def build(
        store: Store,
        out: Path,
        study: str | None,
        acting_as: str | None,
        signing_key: Path | None,
        documents: bool,
    ) -> None:
        """Build the packet of the whole log; prints the path written and its SHA-256."""
        from infrastructure.documents.reports import write_file
        from infrastructure.packets.archive import sha256
        from infrastructure.packets.build import PacketSignatory, build_packet

        if (acting_as is None) != (signing_key is None):
            click.echo("sealtrail: --as and --key go together", err=True)
            sys.exit(USAGE)
        person = None
        if acting_as is not None and signing_key is not None:
            try:
                signed_by = signatory(store, acting_as, signing_key)
            except UsageError as error:
                click.echo(f"sealtrail: {error}", err=True)
                sys.exit(USAGE)
            person = PacketSignatory(signed_by.user_id, signed_by.private_key)
        data = build_packet(
            store, study=study, signatory=person, documents=documents, progress=_say
        )
        path = write_file(out, data)
        click.echo(f"{path}\tsha256:{sha256(data)}")

    @packet.command()
    @click.argument("packet_file", type=click.Path(dir_okay=False, path_type=Path))
    @click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
    @click.option(
        "--documents/--no-documents",
        default=True,
        show_default=True,
        help="Draw the PDFs again and compare them (without: their digests only).",
    )
    @click.option(
        "--server-key",
        "trusted_server_key",
        metavar="KEY",
        help="The log's server key as you know it (its ed25519:... id or public key).",
    )
    @one_line_errors
    def verify(
        packet_file: Path, as_json: bool, documents: bool, trusted_server_key: str | None
    ) -> None:
        """Verify a packet offline; exit 1 naming each file or event that fails."""
        from infrastructure.packets.verify import verify_packet

        try:
            data = packet_file.read_bytes()
        except OSError as error:
            click.echo(f"sealtrail: cannot read {packet_file}: {error.strerror}", err=True)
            sys.exit(USAGE)
        report = verify_packet(
            data,
            redraw_documents=documents,
            trusted_server_key=trusted_server_key,
            progress=_say,
        )
        if as_json:
            click.echo(json.dumps(report.as_dict(), indent=2, ensure_ascii=False))
        else:
            for finding in report.findings:
                click.echo(str(finding))
            signer = report.signer
            summary = (
                f"{report.events} events, {report.files} files"
                + (f", tree size {report.tree_size}" if report.tree_size is not None else "")
                + (f", signed by {signer.printed_name} ({signer.key_id})" if signer else "")
                + (
                    ", no PDFs in the packet"
                    if not report.documents_in_packet
                    else ""
                    if report.documents_redrawn
                    else ", PDFs checked by digest only"
                )
            )
            if report.ok:
                click.echo(f"packet verified: {summary}")
            else:
                click.echo(f"packet FAILED: {len(report.findings)} findings; {summary}")
        if not report.ok:
            sys.exit(REFUSED)
