"""The report of records no current signature covers, as the API answers it."""

from __future__ import annotations

import marshmallow as ma

from api.schemas.fields import Code, PlainString
from api.schemas.outcomes import OutcomeQuerySchema


class UnsignedQuerySchema(OutcomeQuerySchema):
    """Which study (optional when the store serves one) and which site (every site if none)."""

    site = Code(
        metadata={
            "example": "RP",
            "description": "One site's subjects; roles that read their own sites must name one",
        }
    )


class UnsignedRecordSchema(ma.Schema):
    """A record no current signature covers: open it in the subject's history by its entry."""

    entry = ma.fields.Integer(required=True)
    kind = PlainString(required=True, metadata={"description": "The record's kind"})


class UnsignedSubjectSchema(ma.Schema):
    """One subject's live records and those of them no current signature covers."""

    subject = PlainString(required=True)
    site = PlainString(required=True)
    records = ma.fields.Integer(
        required=True, metadata={"description": "Live records (not changes, signatures, queries)"}
    )
    unsigned = ma.fields.List(ma.fields.Nested(UnsignedRecordSchema), required=True)


class UnsignedReportSchema(ma.Schema):
    """For each subject, the records not covered by any current signature (over chosen records
    or over the whole casebook); a correction or void since a signing uncovers a record."""

    study = PlainString(required=True)
    site = PlainString(required=True, allow_none=True)
    subjects = ma.fields.List(ma.fields.Nested(UnsignedSubjectSchema), required=True)
    unsigned = ma.fields.Integer(required=True, metadata={"description": "Records, all subjects"})
    fully_signed = ma.fields.Integer(
        required=True, metadata={"description": "Subjects with no unsigned record"}
    )
