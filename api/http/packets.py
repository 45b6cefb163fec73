"""``POST /v1/packets``: the sponsor's regulatory submission packet, as a zip.

The packet is built from the log as it stands and signed with the sponsor's packet key; the
answer carries its SHA-256 (``Repr-Digest``, RFC 9530) so the sponsor can record what was
handed over. ``sealtrail packet verify`` checks it offline.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from flask import Response, g
from flask.views import MethodView
from flask_smorest import Blueprint

from api.http.auth import login_required
from api.http.store import get_store
from api.schemas.packets import PacketRequestSchema
from domain.actions import Action
from domain.permissions import check_may

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
    @blp.alt_response(403, description="Only sponsor data managers build packets")
    @blp.alt_response(409, description="The log does not match its checkpoint")
    @blp.alt_response(422, description="Unknown study, or one must be named")
    def post(self, request: dict[str, Any]) -> Response:
        """The sponsor's submission packet: every event, its proof, and what derives from them."""
        # Imported here: the packet builder draws with matplotlib, which every other request
        # and every console command would otherwise pay for at start-up.
        from infrastructure.packets.build import build_packet

        check_may(g.account, Action.BUILD_REPORTS_AND_PACKETS)
        data = build_packet(get_store(), study=request.get("study"), documents=request["documents"])
        digest = base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")
        return Response(
            data,
            status=200,
            mimetype="application/zip",
            headers={
                "Content-Disposition": 'attachment; filename="sealtrail-packet.zip"',
                "Repr-Digest": f"sha-256=:{digest}:",
            },
        )
