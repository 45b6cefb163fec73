"""What a site submits: the signed body of one event, and the ``data`` of each kind.

The author signs the RFC 8785 canonical form of ``event`` exactly as sent (docs/signing.md).
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from api.schemas.fields import (
    CalendarDate,
    Code,
    Instant,
    QuantitySchema,
    StrictBoolean,
    Text,
    WholeNumber,
    enum_field,
)
from domain.attribution import MEANINGS
from domain.subject import Relatedness, Sex


class StrictSchema(ma.Schema):
    """Unknown fields are an error, not silently dropped: the author signed them."""

    class Meta:
        unknown = ma.RAISE


class ScreenedData(StrictSchema):
    """``Screened``: opens the subject's record."""

    site = Code(required=True, metadata={"description": "The site's code, e.g. RP"})
    sex = enum_field(Sex, required=True, metadata={"description": "CDISC SEX: F, M or U"})
    age = WholeNumber(required=True, metadata={"description": "Age in years at screening"})
    screened_on = CalendarDate(required=True)


class ConsentObtainedData(StrictSchema):
    """``ConsentObtained``: the signed TCLE."""

    tcle_version = Text(max_length=40, required=True)
    consented_on = CalendarDate(required=True)


class EnrolledData(StrictSchema):
    """``Enrolled``: every eligibility criterion answered (IN1-IN3, EX1-EX9 for NCT01297972)."""

    eligibility = ma.fields.Dict(keys=Code(), values=StrictBoolean(), required=True)
    enrolled_on = CalendarDate(required=True)


class MscInfusionGivenData(StrictSchema):
    """``MscInfusionGiven``: dose in 10^6 cells/kg."""

    infusion_number = WholeNumber(required=True)
    dose = ma.fields.Nested(QuantitySchema, required=True)
    product_lot = Text(max_length=64, required=True)
    given_at = Instant(required=True)


class LabResultRecordedData(StrictSchema):
    """``LabResultRecorded``: haemoglobin in g/dL, counts in 10^9/L."""

    analyte = Code(required=True)
    result = ma.fields.Nested(QuantitySchema, required=True)
    collected_at = Instant(required=True)


class AdverseEventReportedData(StrictSchema):
    """``AdverseEventReported``: CTCAE v5 term and grade."""

    term = Text(max_length=200, required=True)
    grade = WholeNumber(required=True)
    serious = StrictBoolean(required=True)
    relatedness = enum_field(Relatedness, required=True)
    onset_on = CalendarDate(required=True)


DATA_SCHEMAS: dict[str, type[StrictSchema]] = {
    "Screened": ScreenedData,
    "ConsentObtained": ConsentObtainedData,
    "Enrolled": EnrolledData,
    "MscInfusionGiven": MscInfusionGivenData,
    "LabResultRecorded": LabResultRecordedData,
    "AdverseEventReported": AdverseEventReportedData,
}


class SignerSchema(StrictSchema):
    """Who signs: the user id and the printed name shown with the signature (11.50)."""

    user_id = Code(required=True)
    printed_name = Text(max_length=200, required=True)


class SignedBodySchema(StrictSchema):
    """The event body the author signs."""

    study = Code(required=True, metadata={"example": "NCT01297972"})
    subject = Code(required=True, metadata={"example": "RP-101"})
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(sorted(DATA_SCHEMAS)))
    data = ma.fields.Dict(required=True, metadata={"description": "Fields of the kind"})
    signer = ma.fields.Nested(SignerSchema, required=True)
    key_id = ma.fields.String(required=True, validate=ma.validate.Regexp(r"^ed25519:[0-9a-f]{32}$"))
    signed_at = Instant(required=True)
    meaning = ma.fields.String(required=True, validate=ma.validate.OneOf(MEANINGS))

    @ma.validates_schema
    def data_fits_kind(self, body: dict[str, Any], **_: Any) -> None:
        schema = DATA_SCHEMAS.get(body.get("kind", ""))
        if schema is not None:
            errors = schema().validate(body.get("data") or {})
            if errors:
                raise ma.ValidationError(errors, field_name="data")


class SubmissionSchema(StrictSchema):
    """A signed event: the body and the author's Ed25519 signature (base64) over it."""

    event = ma.fields.Nested(SignedBodySchema, required=True)
    signature = ma.fields.String(
        required=True, validate=ma.validate.Regexp(r"^[A-Za-z0-9+/]{86}==$")
    )


def typed_fields(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    """The typed keyword arguments of the domain method that records ``kind``."""
    loaded: dict[str, Any] = DATA_SCHEMAS[kind]().load(data)
    return loaded
