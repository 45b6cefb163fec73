"""What a site submits: the signed body of one event, and the ``data`` of each kind.

The author signs the RFC 8785 canonical form of ``event`` exactly as sent (docs/signing.md).
"""

from __future__ import annotations

from functools import cache
from typing import Any

import marshmallow as ma

from api.schemas.fields import (
    KEY_ID,
    CalendarDate,
    Code,
    Credential,
    FullMatch,
    Instant,
    PlainString,
    QuantitySchema,
    StrictBoolean,
    Text,
    WholeNumber,
    enum_field,
    signed_version,
)
from domain.attribution import MEANINGS
from domain.clinical import (
    ResponseCategory,
    ReticulocyteMethod,
    SeriousnessCriterion,
    TransfusionProduct,
)
from domain.subject import ABOUT_RECORDS, SIGNATURE_MEANINGS
from domain.vocabulary import (
    AdverseEventCategory,
    AdverseEventOutcome,
    ChimerismMethod,
    DeviationCategory,
    EndOfStudyReason,
    Pathogen,
    Relatedness,
    Sex,
    WithdrawalDecidedBy,
)


class StrictSchema(ma.Schema):
    """Unknown fields are an error, not silently dropped: the author signed them."""

    class Meta:
        unknown = ma.RAISE


def quantity(**kwargs: Any) -> ma.fields.Nested:
    """A value with its unit, e.g. ``{"value": "2.7", "unit": "10^6 cells/kg"}``."""
    return ma.fields.Nested(QuantitySchema, **kwargs)


def quantities(**kwargs: Any) -> ma.fields.Dict:
    """Named values with units, e.g. a blood count's results or the vital signs."""
    return ma.fields.Dict(keys=Code(), values=ma.fields.Nested(QuantitySchema), **kwargs)


class ScreenedData(StrictSchema):
    """``Screened``: opens the subject's record."""

    site = Code(required=True, metadata={"description": "The site's code, e.g. RP"})
    sex = enum_field(Sex, required=True, metadata={"description": "CDISC SEX: F, M or U"})
    age = WholeNumber(required=True, metadata={"description": "Age in years at screening"})
    screened_on = CalendarDate(required=True)
    synthetic = StrictBoolean(
        metadata={"description": "true for demonstration data (no person behind the record)"}
    )


class ScreenFailedData(StrictSchema):
    """``ScreenFailed``: not enrolled, and why."""

    failed_on = CalendarDate(required=True)
    reason = Text(required=True)


class ConsentObtainedData(StrictSchema):
    """``ConsentObtained``: the signed TCLE (again for a re-consent)."""

    tcle_version = Text(max_length=40, required=True)
    consented_on = CalendarDate(required=True)


class EligibilityAssessedData(StrictSchema):
    """``EligibilityAssessed``: every criterion answered (IN1-IN3, EX1-EX9 for NCT01297972)."""

    criteria = ma.fields.Dict(keys=Code(), values=StrictBoolean(), required=True)
    assessed_on = CalendarDate(required=True)


class EnrolledData(StrictSchema):
    """``Enrolled``: after an eligibility assessment that found the subject eligible."""

    enrolled_on = CalendarDate(required=True)


class RatgDoseGivenData(StrictSchema):
    """``RatgDoseGiven``: day 1-5 of the rATG course, dose in mg/kg."""

    day = WholeNumber(required=True)
    dose = quantity(required=True)
    given_on = CalendarDate(required=True)


class CyclosporineStartedData(StrictSchema):
    """``CyclosporineStarted``: dose in mg/kg/day."""

    dose = quantity(required=True)
    started_on = CalendarDate(required=True)


class CyclosporineDoseAdjustedData(StrictSchema):
    """``CyclosporineDoseAdjusted``: new dose in mg/kg/day, with the reason."""

    dose = quantity(required=True)
    effective_on = CalendarDate(required=True)
    reason = Text(required=True)


class CyclosporineStoppedData(StrictSchema):
    """``CyclosporineStopped``: with the reason."""

    stopped_on = CalendarDate(required=True)
    reason = Text(required=True)


class CyclosporineTroughMeasuredData(StrictSchema):
    """``CyclosporineTroughMeasured``: level in ng/mL."""

    level = quantity(required=True)
    collected_on = CalendarDate(required=True)


class MscInfusionGivenData(StrictSchema):
    """``MscInfusionGiven``: dose in 10^6 cells/kg, viability in %, vital signs before and after."""

    infusion_number = WholeNumber(required=True)
    dose = quantity(required=True)
    product_lot = Text(max_length=64, required=True)
    donor_code = Text(max_length=64, required=True)
    viability = quantity(required=True)
    given_at = Instant(required=True)
    vital_signs_before = quantities(required=True)
    vital_signs_after = quantities(required=True)
    infusion_reaction = StrictBoolean(required=True)
    reaction_description = Text(
        multiline=True, metadata={"description": "Required when infusion_reaction"}
    )


class BloodCountRecordedData(StrictSchema):
    """``BloodCountRecorded``: haemoglobin in g/dL; neutrophils, platelets, reticulocytes and
    leukocytes in 10^9/L."""

    collected_on = CalendarDate(required=True)
    results = quantities(required=True)
    reticulocyte_method = enum_field(ReticulocyteMethod, required=True)


class BoneMarrowExaminedData(StrictSchema):
    """``BoneMarrowExamined``: cellularity in %."""

    examined_on = CalendarDate(required=True)
    cellularity = quantity(required=True)


class TransfusionGivenData(StrictSchema):
    """``TransfusionGiven``: red cells or platelets, in units."""

    given_on = CalendarDate(required=True)
    product = enum_field(TransfusionProduct, required=True)
    units = WholeNumber(required=True)


class ChimerismAssessedData(StrictSchema):
    """``ChimerismAssessed``: FISH or VNTR on study day 30, 90 or 180."""

    study_day = WholeNumber(required=True)
    method = enum_field(ChimerismMethod, required=True)
    sample_collected_on = CalendarDate(required=True)
    donor_signal_detected = StrictBoolean(required=True)


class AdverseEventReportedData(StrictSchema):
    """``AdverseEventReported``: CTCAE v5 term and grade, seriousness, relatedness, outcome."""

    adverse_event = Code(required=True, metadata={"description": "The site's id, e.g. AE-01"})
    term = Text(max_length=200, required=True, metadata={"description": "CTCAE v5 term"})
    category = enum_field(AdverseEventCategory, required=True)
    grade = WholeNumber(required=True)
    serious = StrictBoolean(required=True)
    seriousness = ma.fields.List(enum_field(SeriousnessCriterion), required=True)
    relatedness_msc = enum_field(Relatedness, required=True)
    relatedness_ratg = enum_field(Relatedness, required=True)
    relatedness_cyclosporine = enum_field(Relatedness, required=True)
    expected = StrictBoolean(required=True)
    onset_on = CalendarDate(required=True)
    learned_on = CalendarDate(required=True, metadata={"description": "When the site learned"})
    outcome = enum_field(AdverseEventOutcome, required=True)
    resolved_on = CalendarDate(metadata={"description": "When it ended (or the date of death)"})
    pathogen = enum_field(Pathogen, metadata={"description": "For infections"})

    @ma.post_load
    def seriousness_as_tuple(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        data["seriousness"] = tuple(data["seriousness"])
        return data


FOLLOWED_UP_FIELDS = (
    "grade",
    "serious",
    "seriousness",
    "relatedness_msc",
    "relatedness_ratg",
    "relatedness_cyclosporine",
    "expected",
    "learned_on",
    "outcome",
    "resolved_on",
    "pathogen",
)


class AdverseEventFollowedUpData(StrictSchema):
    """``AdverseEventFollowedUp``: the fields of the adverse event that changed, new values."""

    adverse_event = Code(required=True)
    followed_up_on = CalendarDate(required=True)
    changes = ma.fields.Dict(
        keys=PlainString(validate=ma.validate.OneOf(FOLLOWED_UP_FIELDS)),
        required=True,
        metadata={"description": "Field name -> new value, written as in the report"},
    )

    @ma.validates("changes")
    def changes_are_typed(self, changes: dict[str, Any], **_: Any) -> None:
        _typed_values(AdverseEventReportedData(), changes)

    @ma.post_load
    def typed_changes(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        data["changes"] = _typed_values(AdverseEventReportedData(), data["changes"])
        return data


class SeriousAdverseEventNotifiedData(StrictSchema):
    """``SeriousAdverseEventNotified``: to whom and when; initial or follow-up."""

    adverse_event = Code(required=True)
    notified_on = CalendarDate(required=True)
    recipient = Text(max_length=100, required=True, metadata={"example": "CONEP"})
    follow_up = StrictBoolean(required=True)


class SubjectDiedData(StrictSchema):
    """``SubjectDied``: date, cause, and the grade-5 adverse event if there is one."""

    died_on = CalendarDate(required=True)
    cause = Text(max_length=200, required=True)
    adverse_event = Code()


class ResponseAssessedData(StrictSchema):
    """``ResponseAssessed``: the investigator's assessment at month 3 or 6."""

    month = WholeNumber(required=True)
    response = enum_field(ResponseCategory, required=True)
    assessed_on = CalendarDate(required=True)


class ProtocolDeviationRecordedData(StrictSchema):
    """``ProtocolDeviationRecorded``."""

    occurred_on = CalendarDate(required=True)
    category = enum_field(DeviationCategory, required=True)
    description = Text(required=True, multiline=True)
    major = StrictBoolean(required=True)


class SubjectWithdrawnData(StrictSchema):
    """``SubjectWithdrawn``: the reason and who decided."""

    withdrawn_on = CalendarDate(required=True)
    reason = Text(required=True)
    decided_by = enum_field(WithdrawalDecidedBy, required=True)


class EndOfStudyRecordedData(StrictSchema):
    """``EndOfStudyRecorded``."""

    ended_on = CalendarDate(required=True)
    reason = enum_field(EndOfStudyReason, required=True)


class ChangeSchema(StrictSchema):
    """One field's change in a correction: the value it had and the value it gets."""

    old = ma.fields.Raw(required=True, allow_none=True)
    new = ma.fields.Raw(required=True, allow_none=True)


class EntryCorrectedData(StrictSchema):
    """``EntryCorrected``: the entry (its version), its kind, each field old -> new, the reason."""

    entry = WholeNumber(required=True, validate=ma.validate.Range(min=1))
    entry_kind = PlainString(required=True)
    changes = ma.fields.Dict(
        keys=PlainString(),
        values=ma.fields.Nested(ChangeSchema),
        required=True,
        metadata={"description": 'Field name -> {"old": ..., "new": ...}, written as recorded'},
    )
    reason = Text(required=True)

    @ma.validates_schema
    def changes_are_typed(self, data: dict[str, Any], **_: Any) -> None:
        schema = _schema_of(data.get("entry_kind"))
        for part in ("old", "new"):
            _typed_values(schema, _parts(data.get("changes", {}), part), allow_none=True)

    @ma.post_load
    def typed_changes(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        schema = _schema_of(data["entry_kind"])
        old = _typed_values(schema, _parts(data["changes"], "old"), allow_none=True)
        new = _typed_values(schema, _parts(data["changes"], "new"), allow_none=True)
        data["changes"] = {name: {"old": old[name], "new": new[name]} for name in data["changes"]}
        return data


class EntryVoidedData(StrictSchema):
    """``EntryVoided``: the entry (its version), its kind and the reason."""

    entry = WholeNumber(required=True, validate=ma.validate.Range(min=1))
    entry_kind = PlainString(required=True)
    reason = Text(required=True)

    @ma.validates("entry_kind")
    def names_a_kind(self, kind: str, **_: Any) -> None:
        _schema_of(kind, field_name="entry_kind")


class CoveredRecordSchema(StrictSchema):
    """One record a signature covers: its entry and the hash of the record as it stands."""

    entry = WholeNumber(required=True, validate=ma.validate.Range(min=1))
    record_hash = PlainString(
        required=True,
        validate=FullMatch(r"^[0-9a-f]{64}$"),
        metadata={"description": "The entry's record_hash, as the subject's history shows it"},
    )


MAX_SIGNED_RECORDS = 100
"""Records one signature covers: a form's worth, or a visit's."""


class RecordsSignedData(StrictSchema):
    """``RecordsSigned``: an electronic signature over records (``POST /v1/signatures`` only)."""

    entries = ma.fields.List(
        ma.fields.Nested(CoveredRecordSchema),
        required=True,
        validate=ma.validate.Length(min=1, max=MAX_SIGNED_RECORDS),
        metadata={"description": "The records signed, each by entry and record hash"},
    )

    @ma.post_load
    def entries_as_tuple(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        data["entries"] = tuple(data["entries"])
        return data


class QueryRaisedData(StrictSchema):
    """``QueryRaised``: a monitor's question about a record (its entry and kind), or about one
    field of it (``item``)."""

    entry = WholeNumber(required=True, validate=ma.validate.Range(min=1))
    entry_kind = PlainString(required=True)
    question = Text(required=True, multiline=True)
    item = Code(metadata={"description": "The field asked about (default: the record)"})

    @ma.validates("entry_kind")
    def names_a_kind(self, kind: str, **_: Any) -> None:
        _schema_of(kind, field_name="entry_kind")


class QueryAnsweredData(StrictSchema):
    """``QueryAnswered``: the site's answer to a query (its entry number)."""

    query = WholeNumber(required=True, validate=ma.validate.Range(min=1))
    answer = Text(required=True, multiline=True)


class QueryClosedData(StrictSchema):
    """``QueryClosed``: the monitor closes a query, saying what resolved it."""

    query = WholeNumber(required=True, validate=ma.validate.Range(min=1))
    resolution = Text(required=True, multiline=True)


def _schema_of(kind: Any, *, field_name: str = "entry_kind") -> StrictSchema:
    schema = DATA_SCHEMAS.get(kind) if isinstance(kind, str) else None
    if schema is None or kind in ABOUT_RECORDS:
        raise ma.ValidationError(f"{kind!r} is not a kind of record", field_name=field_name)
    return schema()


def _parts(changes: dict[str, Any], part: str) -> dict[str, Any]:
    return {name: change[part] for name, change in changes.items()}


def _typed_values(
    schema: ma.Schema, values: dict[str, Any], *, allow_none: bool = False
) -> dict[str, Any]:
    """Load each value with the field of ``schema`` of the same name (errors by name)."""
    typed: dict[str, Any] = {}
    errors: dict[str, Any] = {}
    for name, value in values.items():
        field = schema.fields.get(name)
        if field is None:
            errors[name] = [f"not a field of {type(schema).__name__.removesuffix('Data')}"]
        elif value is None:
            if allow_none and not field.required:
                typed[name] = None
            else:
                errors[name] = ["may not be empty"]
        else:
            try:
                typed[name] = field.deserialize(value)
            except ma.ValidationError as error:
                errors[name] = error.messages
    if errors:
        raise ma.ValidationError(errors, field_name="changes")
    if "seriousness" in typed and typed["seriousness"] is not None:
        typed["seriousness"] = tuple(typed["seriousness"])
    return typed


DATA_SCHEMAS: dict[str, type[StrictSchema]] = {
    "Screened": ScreenedData,
    "ScreenFailed": ScreenFailedData,
    "ConsentObtained": ConsentObtainedData,
    "EligibilityAssessed": EligibilityAssessedData,
    "Enrolled": EnrolledData,
    "RatgDoseGiven": RatgDoseGivenData,
    "CyclosporineStarted": CyclosporineStartedData,
    "CyclosporineDoseAdjusted": CyclosporineDoseAdjustedData,
    "CyclosporineStopped": CyclosporineStoppedData,
    "CyclosporineTroughMeasured": CyclosporineTroughMeasuredData,
    "MscInfusionGiven": MscInfusionGivenData,
    "BloodCountRecorded": BloodCountRecordedData,
    "BoneMarrowExamined": BoneMarrowExaminedData,
    "TransfusionGiven": TransfusionGivenData,
    "ChimerismAssessed": ChimerismAssessedData,
    "AdverseEventReported": AdverseEventReportedData,
    "AdverseEventFollowedUp": AdverseEventFollowedUpData,
    "SeriousAdverseEventNotified": SeriousAdverseEventNotifiedData,
    "SubjectDied": SubjectDiedData,
    "ResponseAssessed": ResponseAssessedData,
    "ProtocolDeviationRecorded": ProtocolDeviationRecordedData,
    "SubjectWithdrawn": SubjectWithdrawnData,
    "EndOfStudyRecorded": EndOfStudyRecordedData,
    "EntryCorrected": EntryCorrectedData,
    "EntryVoided": EntryVoidedData,
    "RecordsSigned": RecordsSignedData,
    "QueryRaised": QueryRaisedData,
    "QueryAnswered": QueryAnsweredData,
    "QueryClosed": QueryClosedData,
}


class SignerSchema(StrictSchema):
    """Who signs: the user id and the printed name shown with the signature (11.50)."""

    user_id = Code(required=True)
    printed_name = Text(max_length=200, required=True)


class SignedBodySchema(StrictSchema):
    """The event body the author signs."""

    study = Code(required=True, metadata={"example": "NCT01297972"})
    subject = Code(required=True, metadata={"example": "RP-101"})
    version = signed_version("subject's stream", "Screened", "If-Match + 1", 4)
    kind = PlainString(required=True, validate=ma.validate.OneOf(sorted(DATA_SCHEMAS)))
    data = ma.fields.Dict(required=True, metadata={"description": "Fields of the kind"})
    signer = ma.fields.Nested(SignerSchema, required=True)
    key_id = PlainString(required=True, validate=KEY_ID)
    signed_at = Instant(required=True)
    meaning = PlainString(required=True, validate=ma.validate.OneOf(MEANINGS))

    @ma.validates_schema
    def data_fits_kind(self, body: dict[str, Any], **_: Any) -> None:
        kind = body.get("kind", "")
        if kind in DATA_SCHEMAS:
            errors = data_schema(kind).validate(body.get("data") or {})
            if errors:
                raise ma.ValidationError(errors, field_name="data")


class SubmissionSchema(StrictSchema):
    """A signed event: the body and the author's Ed25519 signature (base64) over it."""

    event = ma.fields.Nested(SignedBodySchema, required=True)
    signature = PlainString(required=True, validate=FullMatch(r"^[A-Za-z0-9+/]{86}==$"))


class SignatureRequestSchema(StrictSchema):
    """An electronic signature over records, with the signing ceremony (21 CFR 11.200).

    ``event`` is a signed ``RecordsSigned`` body whose ``meaning`` is review, approval or
    responsibility. The password is re-entered for every signature; the user id as well for
    the first signature of a session and the first after the inactivity timeout.
    """

    event = ma.fields.Nested(SignedBodySchema, required=True)
    signature = PlainString(required=True, validate=FullMatch(r"^[A-Za-z0-9+/]{86}==$"))
    password = Credential(
        required=True,
        load_only=True,
        validate=ma.validate.Length(min=1, max=200),
        metadata={"description": "Re-entered for every signature"},
    )
    user_id = Credential(
        validate=ma.validate.Length(min=1, max=100),
        metadata={"description": "Needed for the first signature of a session, and after a lapse"},
    )

    @ma.validates("event")
    def signs_records(self, event: dict[str, Any], **_: Any) -> None:
        if event.get("kind") != "RecordsSigned":
            raise ma.ValidationError("a signature over records is a RecordsSigned", "event")
        if event.get("meaning") not in SIGNATURE_MEANINGS:
            raise ma.ValidationError(
                f"a signature means one of {', '.join(SIGNATURE_MEANINGS)}", "event"
            )


def typed_fields(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    """The typed keyword arguments of the domain method that records ``kind``."""
    loaded: dict[str, Any] = data_schema(kind).load(data)
    return loaded


@cache
def data_schema(kind: str) -> StrictSchema:
    """The schema of ``kind``'s data, made once: a schema is stateless between loads, and
    making one (its fields copied and bound) costs more than loading a record with it.

    Raises:
        KeyError: ``kind`` is not a kind of record.
    """
    return DATA_SCHEMAS[kind]()
