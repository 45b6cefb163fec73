"""``/packets``: submission packets on the pages (issue 19, point 9).

A sponsor data manager builds the whole study's packet, and a site's investigator the site's own
copy, through the same service as ``POST /v1/packets`` with ``Prefer: respond-async``
(:mod:`infrastructure.packets.builds`): the same refusals, the same packet, built in the
background; the build's page says how far it is and offers the zip once built, recorded in the
person's disclosure log as a copy handed out (channel ``web``) before it is sent. Anyone signed
in uploads a packet and reads what ``sealtrail packet verify`` finds in it, file by file, from the
same verifier (:mod:`infrastructure.packets.verify`, which reads nothing but the zip, refuses a
zip bomb from its declared sizes and an entry outside the packet's folder); the upload is read
into memory, verified and dropped, never written anywhere.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from flask import g, redirect, render_template, request, url_for
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from api.store import get_store
from api.web.blueprint import web
from api.web.errors import http_error
from api.web.forms import STUDY_PACKET, PacketBuildForm, PacketCheckForm
from api.web.handing_out import record_copy
from api.web.navigation import in_navigation
from api.web.sessions import LARGER_FORMS, page_for, signed_in_person, to_sign_in
from api.web.wording import gettext as _
from api.web.wording import worded
from domain.account import Account
from domain.actions import Action
from domain.disclosure import PACKET
from domain.errors import NotPermitted
from domain.permissions import check_may
from infrastructure.errors import PacketBuildUnderWay

if TYPE_CHECKING:
    from infrastructure.packets.verify import PacketReport

MAX_PACKET = 16 * 1024**2
"""The largest packet the page takes: the demonstration study's is about 1 MB without its PDFs,
a log of 20,000 events about 11 MB (docs/benchmarks-packet.md). Verifying one costs about 40
times its size in memory on the server and anyone signed in may upload, so the cap bounds what
one person can make a server worker hold (about 650 MB; a worker verifies one upload at a time).
A larger packet is for ``sealtrail packet verify`` on the reader's own machine."""

FORM_ALLOWANCE = 64 * 1024
"""Room in the form beside the zip: its other fields and the multipart boundaries."""

LARGER_FORMS["web.packets"] = MAX_PACKET + FORM_ALLOWANCE

UNREADABLE = "packet-unreadable"
"""The verifier's finding for bytes it cannot read as a packet's zip at all: no zip, a zip bomb,
an entry outside the packet's folder. Nothing in it was checked, so the page says so on the
field, as it does of a file too large, and gives no verdict."""


@web.route("/packets", methods=["GET", "POST"])
@page_for(None)
def packets() -> tuple[str, int]:
    """The page; a packet posted is verified and its findings shown (200, whatever the
    verdict); a post that gives no packet to verify is the page again, 400 (413 too large)."""
    check = PacketCheckForm()
    if not check.is_submitted():
        return _page(check), 200
    if not check.validate():
        return _page(check), 400
    upload = check.packet_file.data
    data = upload.read(MAX_PACKET + 1) if upload else b""
    if len(data) > MAX_PACKET:
        check.packet_file.errors = [_too_large()]
        return _page(check), 413
    report = _verified(check, data)
    return _page(check, report=report), 200 if report is not None else 400


@web.post("/packets/build")
@page_for(None)
def build() -> Response | tuple[str, int]:
    """Ask for the packet chosen, built in the background as ``POST /v1/packets`` with
    ``Prefer: respond-async`` builds it (a worker answering within the request would be cut by
    its timeout), and go to its page (303). A refusal is the page again with the reason at the
    top (403 for a role that may not build it, 409 with a build of the person's under way)."""
    # Imported here: the builder draws with matplotlib; only a build pays for loading it.
    from infrastructure.packets.builds import PacketBuilds
    from infrastructure.packets.requested import asked_for

    form = PacketBuildForm(_buildable(g.account))
    if not form.validate():
        return _page(PacketCheckForm(formdata=None), build_form=form), 400
    try:
        asked = asked_for(g.account, site=form.site(), documents=bool(form.documents.data))
        under_way = PacketBuilds(get_store()).ask(asked)
    except (NotPermitted, PacketBuildUnderWay) as refused:
        form.form_errors.append(worded(refused))
        status = 403 if isinstance(refused, NotPermitted) else 409
        return _page(PacketCheckForm(formdata=None), build_form=form), status
    return redirect(url_for("web.packet_build", build_id=under_way.id), 303)


@web.get("/packets/builds/<uuid:build_id>")
@page_for(None)
def packet_build(build_id: UUID) -> tuple[str, int]:
    """The state of a packet the person asked for: building (with the step it is at and a link
    to look again), ready (with its download), or failed (with the reason). Another's build is
    refused (403), an unknown one not found (404)."""
    from infrastructure.packets.builds import PacketBuilds

    found, _ = PacketBuilds(get_store()).as_allowed(str(build_id), g.account)
    return render_template("packet_build.html", build=found), 200


@web.get("/packets/builds/<uuid:build_id>/packet.zip")
@page_for(None)
def packet_download(build_id: UUID) -> Response:
    """The packet once built, recorded as a copy handed out (channel ``web``) before it is sent;
    a build not ready, failed, or whose file is gone or changed, is the error page (409)."""
    from infrastructure.packets.builds import BUILDING, PacketBuilds

    builds = PacketBuilds(get_store())
    found, packet = builds.as_allowed(str(build_id), g.account)
    if found.state == BUILDING:
        raise PacketBuildUnderWay(
            "the packet %(build)s is still being built: its page says when it is ready",
            build=found.id,
        )
    data = builds.zip_of(found)
    record_copy(data, PACKET, packet.scope)
    return Response(
        data,
        mimetype="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{packet.filename}"'},
    )


@web.errorhandler(RequestEntityTooLarge)
def too_large(error: RequestEntityTooLarge) -> Response | tuple[str, int]:
    """A packet over :data:`MAX_PACKET`: the page again, saying so on the field (413). Any other
    form too large is the pages' general error page."""
    if signed_in_person() is None:
        return to_sign_in()
    if request.endpoint != "web.packets":
        return http_error(error)
    # The form was never read (it is what was too large): a new one, with the reason.
    check = PacketCheckForm(formdata=None)
    check.packet_file.errors = [_too_large()]
    return _page(check), 413


def _too_large() -> str:
    return _(
        "The file is larger than %(size)s MiB, the most this page takes", size=MAX_PACKET >> 20
    )


def _verified(form: PacketCheckForm, data: bytes) -> PacketReport | None:
    """The verifier's report on ``data``, the packet posted; None, with the form's error, when
    there is no packet to verify (no file, an empty one, or not a packet's zip at all)."""
    from infrastructure.packets.verify import verify_packet  # draws PDFs to compare: load late

    if not data:
        form.packet_file.errors = [_("Choose a packet's zip file")]
        return None
    report = verify_packet(
        data,
        redraw_documents=bool(form.documents.data),
        trusted_server_key=form.server_key.data or None,
    )
    unreadable = [finding for finding in report.findings if finding.kind == UNREADABLE]
    if unreadable:
        reason = _("This is not a packet's zip: %(reason)s", reason=unreadable[0].detail)
        form.packet_file.errors = [reason]
        return None
    return report


def _buildable(account: Account) -> list[tuple[str, str]]:
    """The packets ``account`` may have built: the whole study's, and each own site's copy."""
    choices = []
    if _may(account, Action.BUILD_REPORTS_AND_PACKETS, None):
        choices.append((STUDY_PACKET, _("The whole study's packet")))
    for site in sorted(account.sites):
        if _may(account, Action.BUILD_SITE_COPY, site):
            copy = _("The own copy of site %(site)s (its subjects only)", site=site)
            choices.append((site, copy))
    return choices


def _may(account: Account, action: Action, site: str | None) -> bool:
    try:
        check_may(account, action, site)
    except NotPermitted:
        return False
    return True


def _page(
    check: PacketCheckForm,
    *,
    report: PacketReport | None = None,
    build_form: PacketBuildForm | None = None,
) -> str:
    choices = _buildable(g.account)
    if build_form is None:
        build_form = PacketBuildForm(choices, formdata=None)
        build_form.packet.data = choices[0][0] if choices else None
    return render_template(
        "packets.html",
        form=build_form if build_form.errors else check,
        check=check,
        build=build_form if choices else None,
        report=report,
        max_size=MAX_PACKET >> 20,
    )


in_navigation("web.packets", "Packets", None)
