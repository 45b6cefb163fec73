"""What a sponsor asks of a packet."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import marshmallow as ma

from api.schemas.fields import Code, PlainString, StrictSchema
from domain.wire import instant_to_wire

if TYPE_CHECKING:
    from infrastructure.packets.builds import PacketBuild


class PacketRequestSchema(StrictSchema):
    """``POST /v1/packets``: which study, which site (an investigator's own copy), and whether
    to draw the PDFs."""

    study = Code(metadata={"example": "NCT01297972"})
    site = Code(
        metadata={
            "example": "RP",
            "description": "The site whose own copy to build (its investigator only): its "
            "subjects alone, with the proof that none is left out",
        }
    )
    documents = ma.fields.Boolean(
        load_default=True,
        metadata={"description": "Draw the PDFs (audit trail, CONEP reports): the slow part"},
    )


class PacketBuildSchema(ma.Schema):
    """A packet asked for with ``Prefer: respond-async``: its state, what it is of, and how far
    its build has gone."""

    id = PlainString(metadata={"example": "0b7c5f0e-3f7e-4bde-9d4a-5c3a1f0e9a11"})
    state = PlainString(
        metadata={
            "enum": ["building", "ready", "failed"],
            "description": "ready: GET it for the zip; failed: GET it for the reason",
        }
    )
    requested_at = PlainString(metadata={"format": "date-time"})
    finished_at = PlainString(allow_none=True, metadata={"format": "date-time"})
    study = PlainString(metadata={"example": "NCT01297972"})
    site = PlainString(
        allow_none=True, metadata={"description": "The site whose own copy it is, or null"}
    )
    documents = ma.fields.Boolean(metadata={"description": "Whether its PDFs are drawn"})
    progress = PlainString(
        allow_none=True, metadata={"description": "The build's latest step, while it builds"}
    )
    sha256 = PlainString(
        allow_none=True, metadata={"description": "The zip's SHA-256 (hex), once ready"}
    )


def packet_build_view(build: PacketBuild) -> dict[str, Any]:
    """A packet build as the API shows it to whoever asked for it."""
    return {
        "id": build.id,
        "state": build.state,
        "requested_at": instant_to_wire(build.requested_at),
        "finished_at": None if build.finished_at is None else instant_to_wire(build.finished_at),
        "study": build.scope.study,
        "site": build.scope.site,
        "documents": build.documents,
        "progress": build.progress if build.state == "building" else None,
        "sha256": build.sha256,
    }
