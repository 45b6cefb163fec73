"""``POST /v1/packets``: the sponsor's regulatory submission packet, as a zip.

The packet is built from the log as it stands and signed with the sponsor's packet key; the
answer carries its SHA-256 (``Repr-Digest``, RFC 9530) so the sponsor can record what was
handed over. ``sealtrail packet verify`` checks it offline. With ``site``, a site's
investigator has the site's own copy built (its subjects only, same proofs), so that the
sponsor never holds the site's data alone (issue 18, point 8).

A packet of a long log, its PDFs drawn, takes longer than a server worker may spend on one
request (gunicorn's ``--timeout``). Asked with ``Prefer: respond-async`` (RFC 7240), it is built
in the background (:mod:`infrastructure.packets.builds`): ``202 Accepted`` at once, with
``Location: /v1/packets/<id>``, which answers 202 and the build's state while it builds, then
the zip (recorded as handed out only then), or the reason it failed. Without the preference the
packet is built within the request, as before.
"""

from __future__ import annotations

import base64
import hashlib
from typing import TYPE_CHECKING, Any
from uuid import UUID

from flask import Response, g, json, request, url_for
from flask.views import MethodView
from flask_smorest import Blueprint
from werkzeug.http import parse_list_header

from api.http.auth import login_required
from api.http.handing_out import handing_out
from api.schemas.packets import PacketBuildSchema, PacketRequestSchema, packet_build_view
from api.store import get_store
from domain.disclosure import PACKET

if TYPE_CHECKING:
    from infrastructure.packets.builds import PacketBuild

RESPOND_ASYNC = "respond-async"
POLL_AFTER_SECONDS = 5
"""The Retry-After of a build still under way: the demonstration study's packet takes seconds,
with its PDFs tens of seconds."""

blp = Blueprint("packets", __name__, url_prefix="/v1/packets", description="Submission packets")


@blp.route("")
class Packets(MethodView):
    """Build a packet of the whole log."""

    @login_required
    @blp.arguments(PacketRequestSchema)
    @blp.response(
        200,
        description="The packet (a zip); its SHA-256 in Repr-Digest",
        content_type="application/zip",
    )
    @blp.alt_response(
        202,
        schema=PacketBuildSchema,
        description="Asked with Prefer: respond-async: the build, under way; GET its Location",
    )
    @blp.alt_response(401, description="Not authenticated")
    @blp.alt_response(
        403,
        description="Only sponsor data managers build packets, and a site's investigator its copy",
    )
    @blp.alt_response(
        409,
        description="The log does not match its checkpoint; or (respond-async) a build of "
        "yours is under way",
    )
    @blp.alt_response(422, description="Unknown study, or one must be named")
    def post(self, asked: dict[str, Any]) -> Response:
        """The sponsor's submission packet: every event, its proof, and what derives from them.

        With ``Prefer: respond-async`` it is built in the background: 202 and its
        ``Location``, to GET until it is ready. One build under way per person."""
        # Imported here: the packet builder draws with matplotlib, which every other request
        # and every console command would otherwise pay for at start-up.
        from infrastructure.packets.builds import PacketBuilds
        from infrastructure.packets.requested import asked_for, build

        packet = asked_for(
            g.account,
            study=asked.get("study"),
            site=asked.get("site"),
            documents=asked["documents"],
        )
        if _prefers_async():
            under_way = PacketBuilds(get_store()).ask(packet)
            answer = _state(under_way, 202)
            answer.headers["Location"] = url_for("packets.PacketBuilt", build_id=under_way.id)
            answer.headers["Preference-Applied"] = RESPOND_ASYNC
            return answer
        data = build(get_store(), packet)
        handing_out(PACKET, packet.scope)
        return _zip(data, packet.filename)


@blp.route("/<uuid:build_id>")
class PacketBuilt(MethodView):
    """A packet asked for with ``Prefer: respond-async``."""

    @login_required
    @blp.response(
        200,
        description="The packet (a zip), ready; its SHA-256 in Repr-Digest",
        content_type="application/zip",
    )
    @blp.alt_response(
        202, schema=PacketBuildSchema, description="Still building: ask again after Retry-After"
    )
    @blp.alt_response(401, description="Not authenticated")
    @blp.alt_response(
        403,
        description="Asked for by someone else, or you may no longer have this packet built",
    )
    @blp.alt_response(404, description="No such packet build")
    @blp.alt_response(
        409,
        description="The build failed: the reason, and its error (interrupted when the server "
        "process building it stopped); or its file is gone or changed",
    )
    def get(self, build_id: UUID) -> Response:
        """The packet once built (recorded as handed out then); its state while it builds; why
        not, if it failed."""
        from infrastructure.packets.builds import BUILDING, PacketBuilds

        builds = PacketBuilds(get_store())
        found, packet = builds.as_allowed(str(build_id), g.account)
        if found.state == BUILDING:
            answer = _state(found, 202)
            answer.headers["Retry-After"] = str(POLL_AFTER_SECONDS)
            return answer
        data = builds.zip_of(found)
        handing_out(PACKET, packet.scope)
        return _zip(data, packet.filename)


def _prefers_async() -> bool:
    """Whether the request's ``Prefer`` (RFC 7240) names ``respond-async``: werkzeug splits the
    list, so a comma within a parameter's quoted value does not begin a preference."""
    return any(
        preference.split(";")[0].split("=")[0].strip().lower() == RESPOND_ASYNC
        for header in request.headers.getlist("Prefer")
        for preference in parse_list_header(header)
    )


def _state(found: PacketBuild, status: int) -> Response:
    body = PacketBuildSchema().dump(packet_build_view(found))
    return Response(json.dumps(body), status=status, mimetype="application/json")


def _zip(data: bytes, filename: str) -> Response:
    digest = base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")
    return Response(
        data,
        status=200,
        mimetype="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Repr-Digest": f"sha-256=:{digest}:",
        },
    )
