"""Source data verification coverage as the API answers it, and what a reader asks for."""

from __future__ import annotations

import marshmallow as ma

from api.schemas.fields import Code, PlainString, StrictSchema
from projections.source_verification import RECORD_SETS, RISK_BASED

RECORDS = PlainString(
    load_default=RISK_BASED,
    validate=ma.validate.OneOf(RECORD_SETS),
    metadata={
        "description": "Count the protocol's risk-based subset ([source_verification] kinds) "
        "or every record"
    },
)


class SubjectCoverageQuerySchema(StrictSchema):
    """Which records a subject's coverage is counted over."""

    records = RECORDS


class StudyCoverageQuerySchema(SubjectCoverageQuerySchema):
    """Which study (optional when the store serves one), which site, which records."""

    study = Code(metadata={"example": "NCT01297972"})
    site = Code(
        metadata={"example": "RP", "description": "One site's subjects (default: every site)"}
    )


class RecordNotVerifiedSchema(ma.Schema):
    """A record to verify: never verified, verified in part, or changed since it was."""

    entry = ma.fields.Integer(required=True)
    kind = PlainString(required=True)
    record_hash = PlainString(
        required=True, metadata={"description": "The hash a verification names (as it stands)"}
    )
    fields_verified = ma.fields.List(
        PlainString(), required=True, metadata={"description": "Fields verified one by one"}
    )
    changed_since_verified = ma.fields.Boolean(
        required=True,
        metadata={"description": "Verified once, then corrected or voided: verify it again"},
    )


class CountedSchema(ma.Schema):
    """Verified records out of those counted."""

    verified = ma.fields.Integer(required=True)
    total = ma.fields.Integer(required=True)


class SubjectCoverageSchema(CountedSchema):
    """One subject's coverage, with each record not verified."""

    study = PlainString()
    subject = PlainString(required=True)
    site = PlainString(required=True)
    records = PlainString(required=True, metadata={"description": "risk-based or all"})
    kinds = ma.fields.List(
        PlainString(), allow_none=True, required=True, metadata={"description": "null: every kind"}
    )
    not_verified = ma.fields.List(ma.fields.Nested(RecordNotVerifiedSchema), required=True)


class SiteCoverageSchema(CountedSchema):
    """One site's coverage."""

    site = PlainString(required=True)


class StudyCoverageSchema(CountedSchema):
    """A study's (or one site's) coverage: in total, by site and by subject."""

    study = PlainString(required=True)
    site = PlainString(required=True, allow_none=True)
    records = PlainString(required=True)
    kinds = ma.fields.List(PlainString(), allow_none=True, required=True)
    sites = ma.fields.List(ma.fields.Nested(SiteCoverageSchema), required=True)
    subjects = ma.fields.List(ma.fields.Nested(SubjectCoverageSchema), required=True)
