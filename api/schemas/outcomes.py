"""The outcome table as the API answers it."""

from __future__ import annotations

import marshmallow as ma

from api.schemas.fields import Code


class OutcomeQuerySchema(ma.Schema):
    """Which study (optional when the store serves one)."""

    class Meta:
        unknown = ma.RAISE

    study = Code(metadata={"example": "NCT01297972"})


class OutcomeSourceSchema(ma.Schema):
    """A record a figure came from: open it in the subject's history by its entry (version)."""

    subject = ma.fields.String(required=True)
    entry = ma.fields.Integer(required=True, allow_none=True)
    record = ma.fields.String(required=True, metadata={"description": "The event kind"})


class OutcomeMeasureSchema(ma.Schema):
    """One figure, computed; the publication's beside it."""

    class Meta:
        unknown = ma.INCLUDE

    measure = ma.fields.String(required=True)
    label = ma.fields.String(required=True)
    value = ma.fields.Raw(required=True, allow_none=True)
    published = ma.fields.String(allow_none=True)
    sources = ma.fields.List(ma.fields.Nested(OutcomeSourceSchema), required=True)
    causes = ma.fields.List(ma.fields.String())
    by_criteria = ma.fields.Integer()
    disagreements = ma.fields.List(ma.fields.Dict())
    by_study_day = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Dict())


class OutcomeTableSchema(ma.Schema):
    """The outcome measures of a study."""

    study = ma.fields.String(required=True)
    synthetic = ma.fields.Boolean(
        required=True, metadata={"description": "true when any subject is demonstration data"}
    )
    subjects = ma.fields.Integer(required=True)
    publication = ma.fields.String(allow_none=True)
    measures = ma.fields.List(ma.fields.Nested(OutcomeMeasureSchema), required=True)
