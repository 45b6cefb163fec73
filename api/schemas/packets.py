"""What a sponsor asks of a packet."""

from __future__ import annotations

import marshmallow as ma

from api.schemas.fields import Code, StrictSchema


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
