"""The study dashboard, the weekly outcome tables and the audit index as the API answers them."""

from __future__ import annotations

import marshmallow as ma

from api.schemas.fields import PlainString
from api.schemas.resources import SignatureManifestationSchema


def counts(description: str) -> ma.fields.Dict:
    """A count per category (every known category present, zero included)."""
    return ma.fields.Dict(
        keys=PlainString(),
        values=ma.fields.Integer(),
        required=True,
        metadata={"description": description},
    )


class NotificationSchema(ma.Schema):
    """A serious adverse event's notification clock, judged on the day of the request."""

    subject = PlainString(required=True)
    site = PlainString(required=True)
    adverse_event = PlainString(required=True)
    term = PlainString(required=True)
    entry = ma.fields.Integer(required=True)
    rule_set = PlainString(required=True)
    days_allowed = ma.fields.Integer(required=True)
    due_on = PlainString(required=True)
    first_notified_on = PlainString(required=True, allow_none=True)
    status = PlainString(
        required=True, metadata={"description": "met, late, overdue or pending (as_of)"}
    )
    days_late = ma.fields.Integer(required=True)


class DeathSchema(ma.Schema):
    """A death, with its entry."""

    subject = PlainString(required=True)
    died_on = PlainString(allow_none=True)
    cause = PlainString(allow_none=True)
    entry = ma.fields.Integer(required=True)


class InfusionsSchema(ma.Schema):
    """MSC infusions given."""

    given = ma.fields.Integer(required=True)
    subjects_infused = ma.fields.Integer(required=True)
    by_subject = counts("Infusions per subject code")
    infusion_reactions = ma.fields.Integer(required=True)


class SeriousnessSchema(ma.Schema):
    """Adverse events serious or not, and by ICH E2A criterion."""

    serious = ma.fields.Integer(required=True)
    not_serious = ma.fields.Integer(required=True)
    by_criterion = counts("Events naming each seriousness criterion")


class RelatednessSchema(ma.Schema):
    """Adverse events by relatedness to the MSC (possible, probable, definite are related)."""

    related = ma.fields.Integer(required=True)
    not_related = ma.fields.Integer(required=True)
    by_assessment = counts("Events by the investigator's WHO-UMC assessment")


class AdverseEventCountsSchema(ma.Schema):
    """Adverse events as they stand after their follow-ups."""

    reported = ma.fields.Integer(required=True)
    by_grade = counts("CTCAE grade 1-5")
    by_seriousness = ma.fields.Nested(SeriousnessSchema, required=True)
    by_msc_relatedness = ma.fields.Nested(RelatednessSchema, required=True)
    by_category = counts("Events by category")


class ResponseCountsSchema(ma.Schema):
    """Responses at one month: by the NIH criteria, by the investigator, and their agreement."""

    criteria = counts("Subjects by the criteria-based response")
    investigator = counts("Subjects by the investigator's response (or not_assessed)")
    agreement = counts("Subjects by agreement between the two")


class DashboardSchema(ma.Schema):
    """Where the study stands, computed from the events; notifications judged on ``as_of``."""

    study = PlainString(required=True)
    synthetic = ma.fields.Boolean(required=True)
    subjects = ma.fields.Integer(required=True)
    as_of = PlainString(
        required=True, metadata={"description": "The site's date the notifications are judged on"}
    )
    by_status = counts("Subjects by status")
    by_site = counts("Subjects by site")
    infusions = ma.fields.Nested(InfusionsSchema, required=True)
    adverse_events = ma.fields.Nested(AdverseEventCountsSchema, required=True)
    deaths = ma.fields.List(ma.fields.Nested(DeathSchema), required=True)
    responses = ma.fields.Dict(
        keys=PlainString(),
        values=ma.fields.Nested(ResponseCountsSchema),
        required=True,
        metadata={"description": "By month of the protocol's schedule (3 and 6)"},
    )
    notifications = ma.fields.List(ma.fields.Nested(NotificationSchema), required=True)
    notifications_by_status = counts("Notification clocks by status on as_of")
    overdue_notifications = ma.fields.List(ma.fields.Nested(NotificationSchema), required=True)


class UnitsSchema(ma.Schema):
    """Units transfused, and the entries they came from."""

    red_cells = ma.fields.Integer(required=True)
    platelets = ma.fields.Integer(required=True)
    entries = ma.fields.List(ma.fields.Integer(), required=True)


class StudyUnitsSchema(ma.Schema):
    """Units transfused across subjects, and the subjects transfused."""

    red_cells = ma.fields.Integer(required=True)
    platelets = ma.fields.Integer(required=True)
    subjects = ma.fields.List(PlainString(), required=True)


class SubjectWeekSchema(ma.Schema):
    """One week of a subject (week 1 starts on the day of the first MSC infusion)."""

    week = ma.fields.Integer(required=True)
    from_day = ma.fields.Integer(
        required=True, metadata={"description": "Its first day, counted from the infusion"}
    )
    blood_count = ma.fields.Dict(
        required=True, allow_none=True, metadata={"description": "The week's (last) count"}
    )
    transfusions = ma.fields.Nested(UnitsSchema, required=True)
    infections = ma.fields.List(ma.fields.Dict(), required=True)
    febrile_neutropenia = ma.fields.List(ma.fields.Dict(), required=True)


class SubjectWeeklySchema(ma.Schema):
    """A subject's weekly outcome table, weeks 0 to the end of month 6."""

    study = PlainString(required=True)
    subject = PlainString(required=True)
    site = PlainString(required=True)
    synthetic = ma.fields.Boolean(required=True)
    first_infusion = ma.fields.Dict(required=True, allow_none=True)
    weeks = ma.fields.List(ma.fields.Nested(SubjectWeekSchema), required=True)
    transfusions_before = ma.fields.Nested(UnitsSchema, required=True)
    transfusions_after = ma.fields.Nested(UnitsSchema, required=True)


class StudyWeekSchema(ma.Schema):
    """One week across the study's infused subjects."""

    week = ma.fields.Integer(required=True)
    from_day = ma.fields.Integer(required=True)
    subjects_with_count = ma.fields.List(PlainString(), required=True)
    median = ma.fields.Dict(
        keys=PlainString(),
        values=PlainString(allow_none=True),
        required=True,
        metadata={"description": "Median of the weekly counts, in the protocol's units"},
    )
    transfusions = counts("Units transfused in the week, by product")
    subjects_transfused = ma.fields.List(PlainString(), required=True)
    infections = ma.fields.List(ma.fields.Dict(), required=True)
    febrile_neutropenia = ma.fields.List(ma.fields.Dict(), required=True)


class StudyWeeklySchema(ma.Schema):
    """The study's weekly outcome table."""

    study = PlainString(required=True)
    synthetic = ma.fields.Boolean(required=True)
    subjects = ma.fields.List(PlainString(), required=True)
    weeks = ma.fields.List(ma.fields.Nested(StudyWeekSchema), required=True)
    transfusions_before = ma.fields.Nested(StudyUnitsSchema, required=True)
    transfusions_after = ma.fields.Nested(StudyUnitsSchema, required=True)


class AuditEvidenceSchema(ma.Schema):
    """One event's place in the log and its signature manifestation (21 CFR 11.50)."""

    entry = ma.fields.Integer(required=True, metadata={"description": "The event's version"})
    position = ma.fields.Integer(required=True)
    recorded_at = PlainString(required=True, metadata={"description": "Server time"})
    signature = ma.fields.Nested(SignatureManifestationSchema, required=True)


class RecordVersionSchema(AuditEvidenceSchema):
    """The original record or one correction of it (old -> new, and why)."""

    version = ma.fields.Integer(required=True)
    change = PlainString(required=True, metadata={"description": "original or corrected"})
    data = ma.fields.Dict(metadata={"description": "The original's data, as signed"})
    changes = ma.fields.Dict(metadata={"description": 'Field -> {"old", "new"}'})
    reason = PlainString()


class VoidSchema(AuditEvidenceSchema):
    """The void of a record, and why."""

    reason = PlainString(required=True)


class RecordSignedSchema(AuditEvidenceSchema):
    """An electronic signature over the record (``entry`` is the RecordsSigned event's)."""

    record_hash = PlainString(required=True, metadata={"description": "The hash signed"})
    covers_current_value = ma.fields.Boolean(
        required=True,
        metadata={"description": "false once the record was corrected or voided after signing"},
    )


class AuditRecordSchema(ma.Schema):
    """One record (entry) with its versions, its void and the signatures over it."""

    entry = ma.fields.Integer(required=True)
    kind = PlainString(required=True)
    versions = ma.fields.List(ma.fields.Nested(RecordVersionSchema), required=True)
    voided = ma.fields.Nested(VoidSchema, required=True, allow_none=True)
    record_hash = PlainString(
        metadata={"description": "The record's hash as it stands (docs/signing.md)"}
    )
    signatures = ma.fields.List(
        ma.fields.Nested(RecordSignedSchema),
        metadata={"description": "Electronic signatures over the record, oldest first"},
    )


class AuditIndexSchema(ma.Schema):
    """A subject's audit index: every record, its versions, voids and signatures."""

    study = PlainString(required=True)
    subject = PlainString(required=True)
    site = PlainString(required=True)
    version = ma.fields.Integer(required=True)
    records = ma.fields.List(ma.fields.Nested(AuditRecordSchema), required=True)
