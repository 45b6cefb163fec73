"""``sealtrail packet build`` and ``sealtrail packet verify``: the sponsor's submission packet,
and a site's own copy (``build --site``, by its investigator).

``build`` reads the store; ``verify`` reads only the zip it is given (no database, no server,
no ``SEALTRAIL_*`` setting), so it runs on any machine where sealtrail is installed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from api.console.command import EXISTING_FILE, one_line_errors, store_command
from api.console.exits import REFUSED, USAGE, fail
from api.console.people import console_person, person_option, signatory, signing_person
from api.console.progress import progress
from api.console.witness_options import witness_options, witness_policy
from domain.actions import Action
from domain.disclosure import PACKET, Scope
from domain.permissions import check_may
from infrastructure.application.disclosures import CONSOLE
from infrastructure.bootstrap import Store
from infrastructure.garbage_collector import collect_young_less_often
from infrastructure.views.study_reports import served_study

if TYPE_CHECKING:
    from infrastructure.packets.verify import PacketReport

OUT = click.Path(dir_okay=False, writable=True, path_type=Path)


@click.group()
def packet() -> None:
    """The sponsor's regulatory submission packet and a site's own copy, verifiable offline."""


@packet.command()
@click.option("--out", type=OUT, required=True, help="The zip to write.")
@click.option("--study", help="The study (default: the one this store serves).")
@click.option(
    "--site",
    help="Build the site's own copy (its subjects only), as the site's investigator.",
)
@person_option(
    "Your user id, a sponsor data manager, or the site's investigator with --site "
    "(default: $SEALTRAIL_USER)"
)
@click.option(
    "--key",
    "signing_key",
    type=EXISTING_FILE,
    help="Sign the manifest with your own Ed25519 private key (PEM) instead of the "
    "sponsor's packet key.",
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
    site: str | None,
    acting_as: str,
    signing_key: Path | None,
    documents: bool,
) -> None:
    """Build the packet of the whole log; prints the path written and its SHA-256.

    You act as yourself, a sponsor data manager (--as, and your password from
    SEALTRAIL_PASSWORD or asked on a terminal), as for POST /v1/packets. With --site, you are
    that site's investigator and build its own copy, signed with your --key or else the
    sponsor's packet key; its manifest names you.
    """
    from infrastructure.documents.reports import write_file
    from infrastructure.packets.archive import sha256
    from infrastructure.packets.build import PacketSignatory, build_packet
    from infrastructure.packets.site_scope import INVESTIGATOR, BuiltBy

    collect_young_less_often()  # the whole log is held until the command ends

    person: PacketSignatory | None = None
    if signing_key is None:
        account = console_person(store, acting_as)
    else:
        account, signed_by = signing_person(store, acting_as, signing_key)
        person = PacketSignatory(signed_by.user_id, signed_by.private_key)
    site_copy = None
    if site is not None:
        check_may(account, Action.BUILD_SITE_COPY, site)
        site_copy = BuiltBy(INVESTIGATOR, account.user_id, site)
    elif signing_key is None:
        check_may(account, Action.BUILD_REPORTS_AND_PACKETS)
    study_id = served_study(study)
    with progress("packet build") as shown:
        data = build_packet(
            store,
            study=study_id,
            signatory=person,
            documents=documents,
            progress=shown.stage,
            site_copy=site_copy,
        )
    scope = Scope(study_id, site=site)
    store.disclosures.hand_out(account.user_id, PACKET, scope, data, CONSOLE)
    path = write_file(out, data)
    click.echo(f"{path}\tsha256:{sha256(data)}")


@packet.command()
@click.argument("packet_file", type=EXISTING_FILE)
@person_option("Your user id, the site's investigator (default: $SEALTRAIL_USER)")
@click.option(
    "--key",
    "signing_key",
    type=EXISTING_FILE,
    required=True,
    help="Your Ed25519 private key (PEM): you sign the receipt.",
)
@one_line_errors
@store_command
def receive(store: Store, packet_file: Path, acting_as: str, signing_key: Path) -> None:
    """Record, signed by you, that you received your site's own copy.

    The copy is verified first (its PDFs by digest); then its SHA-256 and checkpoint are
    recorded on your account as a SiteCopyReceived, as by POST /v1/accounts.
    """
    from infrastructure.application.commands import ReceiveSiteCopy
    from infrastructure.packets.archive import sha256
    from infrastructure.packets.verify import verify_packet

    collect_young_less_often()  # the whole copy is held until the command ends
    signed_by = signatory(store, acting_as, signing_key)
    data = packet_file.read_bytes()
    with progress("packet verify") as shown:
        report = verify_packet(data, redraw_documents=False, progress=shown.stage)
    if not report.ok or report.tree_size is None or report.root is None:
        fail(
            f"{packet_file} does not verify ({len(report.findings)} findings): "
            "run sealtrail packet verify",
            REFUSED,
        )
    if report.site is None:
        fail(f"{packet_file} is the whole study's packet, not a site's copy", REFUSED)
    digest = sha256(data)
    store.administration.receive_site_copy(
        ReceiveSiteCopy(
            user_id=signed_by.user_id,
            site=report.site,
            packet_sha256=digest,
            tree_size=report.tree_size,
            root=report.root,
        ),
        by=signed_by,
    )
    click.echo(
        f"receipt recorded: site {report.site}\tsha256:{digest}\ttree size {report.tree_size}"
    )


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
@witness_options
@click.option(
    "--tsa-certs",
    "tsa_certificates",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="SEALTRAIL_TSA_CERTS",
    help="PEM certificates the checkpoint's time-stamp must chain to [SEALTRAIL_TSA_CERTS].",
)
@one_line_errors
def verify(
    packet_file: Path,
    as_json: bool,
    documents: bool,
    trusted_server_key: str | None,
    witness_keys: tuple[str, ...],
    quorum: int | None,
    witness_max_age: int,
    tsa_certificates: Path | None,
) -> None:
    """Verify a packet offline; exit 1 naming each file or event that fails. With --witness,
    the packet's checkpoint must be vouched for by --quorum of those witnesses, from the
    cosignatures the packet carries."""
    from infrastructure.packets.verify import verify_packet
    from infrastructure.store.timestamps import trusted_certificates

    collect_young_less_often()  # the whole packet is held until the command ends
    witnesses = witness_policy(witness_keys, quorum, witness_max_age)

    try:
        data = packet_file.read_bytes()
    except OSError as error:
        fail(f"cannot read {packet_file}: {error.strerror}", USAGE)
    authorities = None if tsa_certificates is None else trusted_certificates(tsa_certificates)
    with progress("packet verify") as shown:
        report = verify_packet(
            data,
            redraw_documents=documents,
            trusted_server_key=trusted_server_key,
            trusted_authorities=authorities,
            progress=shown.stage,
            witnesses=witnesses,
        )
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2, ensure_ascii=False))
    else:
        for note in report.notes:  # what was not checked; stderr, as verify's notes
            click.echo(f"note: {note}", err=True)
        for finding in report.findings:
            click.echo(str(finding))
        summary = _summary(report)
        if report.ok:
            click.echo(f"packet verified: {summary}")
        else:
            click.echo(f"packet FAILED: {len(report.findings)} findings; {summary}")
    if not report.ok:
        sys.exit(REFUSED)


def _summary(report: PacketReport) -> str:
    """What was checked: events, files, tree size, signer, and how the PDFs were checked."""
    signer = report.signer
    return (
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
