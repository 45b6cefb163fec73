"""The outcome table as the API answers it."""

from __future__ import annotations

import marshmallow as ma

from api.schemas.fields import Code, PlainString, StrictSchema


class OutcomeQuerySchema(StrictSchema):
    """Which study (optional when the store serves one)."""

    study = Code(metadata={"example": "NCT01297972"})


class OutcomeSourceSchema(ma.Schema):
    """A record a figure came from: open it in the subject's history by its entry (version)."""

    subject = PlainString(required=True)
    entry = ma.fields.Integer(required=True, allow_none=True)
    record = PlainString(required=True, metadata={"description": "The event kind"})


class OutcomeMeasureSchema(ma.Schema):
    """One figure, computed; the publication's beside it."""

    class Meta:
        unknown = ma.INCLUDE

    measure = PlainString(required=True)
    label = PlainString(required=True)
    value = ma.fields.Raw(required=True, allow_none=True)
    published = PlainString(allow_none=True)
    sources = ma.fields.List(ma.fields.Nested(OutcomeSourceSchema), required=True)
    causes = ma.fields.List(PlainString())
    by_criteria = ma.fields.Integer()
    disagreements = ma.fields.List(ma.fields.Dict())
    by_study_day = ma.fields.Dict(keys=PlainString(), values=ma.fields.Dict())


class OutcomeTableSchema(ma.Schema):
    """The outcome measures of a study."""

    study = PlainString(required=True)
    synthetic = ma.fields.Boolean(
        required=True, metadata={"description": "true when any subject is demonstration data"}
    )
    subjects = ma.fields.Integer(required=True)
    publication = PlainString(allow_none=True)
    measures = ma.fields.List(ma.fields.Nested(OutcomeMeasureSchema), required=True)
