"""Schemas of the delegation of authority log: which site, which study, which file."""

from __future__ import annotations

import marshmallow as ma

from api.schemas.fields import Code, PlainString, StrictSchema


class SitePathSchema(ma.Schema):
    """The site named by the path: a code, nothing else."""

    site = Code(required=True, metadata={"example": "RP"})


class DelegationLogQuerySchema(StrictSchema):
    """The file asked for, and the study (optional when the store serves one)."""

    format = PlainString(
        load_default="csv", validate=ma.validate.OneOf(["csv", "pdf"]), metadata={"example": "csv"}
    )
    study = Code(metadata={"example": "NCT01297972"})
