"""The audit-trail review as the API answers it, and the query that asks for one."""

from __future__ import annotations

import marshmallow as ma

from api.schemas.fields import CalendarDate, Code, PlainString, StrictSchema
from projections.audit_review import Flag


class AuditReviewQuerySchema(StrictSchema):
    """Which study, site and recording dates (the site's calendar) to review."""

    study = Code(metadata={"example": "NCT01297972"})
    site = Code(metadata={"example": "RP", "description": "One site's findings (default: all)"})
    first = CalendarDate(
        data_key="from",
        metadata={"description": "First recording date (default: the day after the last review's)"},
    )
    last = CalendarDate(
        data_key="to", metadata={"description": "Last recording date (default: today)"}
    )


PeriodSchema = ma.Schema.from_dict(
    {
        "from": PlainString(required=True, allow_none=True),
        "to": PlainString(required=True, allow_none=True),
    },
    name="AuditReviewPeriod",
)
"""Recording dates reviewed, inclusive; null is open."""


class PersonAtSiteSchema(ma.Schema):
    """What one person did at one site in the period, and the findings it drew by flag."""

    site = PlainString(required=True, metadata={"description": "Empty for an account of no site"})
    user_id = PlainString(required=True)
    entries = ma.fields.Integer(required=True)
    corrections = ma.fields.Integer(required=True)
    voids = ma.fields.Integer(required=True)
    logins = ma.fields.Integer(required=True)
    correction_rate_percent = PlainString(required=True, allow_none=True)
    void_rate_percent = PlainString(required=True, allow_none=True)
    findings = ma.fields.Dict(keys=PlainString(), values=ma.fields.Integer(), required=True)


class FindingSchema(ma.Schema):
    """One thing the reviewer must look at."""

    flag = PlainString(required=True, metadata={"enum": [flag.name.lower() for flag in Flag]})
    site = PlainString(required=True)
    user_id = PlainString(required=True)
    subject = PlainString(required=True)
    entry = ma.fields.Integer(required=True)
    kind = PlainString(required=True)
    position = ma.fields.Integer(required=True, metadata={"description": "0 for a rate"})
    recorded_at = PlainString(required=True)
    detail = PlainString(required=True)


class AuditReviewSchema(ma.Schema):
    """The findings of an audit-trail review, per site and person, and their digest."""

    study = PlainString(required=True)
    site = PlainString(required=True, allow_none=True)
    period = ma.fields.Nested(PeriodSchema, required=True)
    people = ma.fields.List(ma.fields.Nested(PersonAtSiteSchema), required=True)
    findings = ma.fields.List(ma.fields.Nested(FindingSchema), required=True)
    findings_count = ma.fields.Integer(required=True)
    findings_sha256 = PlainString(
        required=True,
        metadata={"description": "SHA-256 of the findings as JSON: what a recorded review saw"},
    )
