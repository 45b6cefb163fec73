"""``POST /v1/packets``: the sponsor's regulatory submission packet, as a zip.

The packet is built from the log as it stands and signed with the sponsor's packet key; the
answer carries its SHA-256 (``Repr-Digest``, RFC 9530) so the sponsor can record what was
handed over. ``sealtrail packet verify`` checks it offline. With ``site``, a site's
investigator has the site's own copy built (its subjects only, same proofs), so that the
sponsor never holds the site's data alone (issue 18, point 8).
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from flask import Response, g
from flask.views import MethodView
from flask_smorest import Blueprint

from api.http.auth import login_required
from api.http.handing_out import handing_out
from api.schemas.packets import PacketRequestSchema
from api.store import get_store
from domain.disclosure import PACKET

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
    @blp.alt_response(401, description="Not authenticated")
    @blp.alt_response(
        403,
        description="Only sponsor data managers build packets, and a site's investigator its copy",
    )
    @blp.alt_response(409, description="The log does not match its checkpoint")
    @blp.alt_response(422, description="Unknown study, or one must be named")
    def post(self, request: dict[str, Any]) -> Response:
        """The sponsor's submission packet: every event, its proof, and what derives from them."""
        # Imported here: the packet builder draws with matplotlib, which every other request
        # and every console command would otherwise pay for at start-up.
        from infrastructure.packets.requested import build_for

        packet = build_for(
            get_store(),
            g.account,
            study=request.get("study"),
            site=request.get("site"),
            documents=request["documents"],
        )
        handing_out(PACKET, packet.scope)
        data = packet.data
        digest = base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")
        return Response(
            data,
            status=200,
            mimetype="application/zip",
            headers={
                "Content-Disposition": f'attachment; filename="{packet.filename}"',
                "Repr-Digest": f"sha-256=:{digest}:",
            },
        )
