"""Schemas of what the API answers."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from api.schemas.fields import Credential, PlainString, StrictSchema, plain_strings
from domain.signed import SignedAggregate
from domain.subject import Subject
from domain.wire import instant_to_wire


class TokenRequestSchema(StrictSchema):
    """User id and password."""

    username = Credential(required=True, validate=ma.validate.Length(min=1, max=100))
    password = Credential(required=True, validate=ma.validate.Length(min=1, max=200))


class TokenSchema(ma.Schema):
    """A short-lived bearer token."""

    access_token = PlainString(required=True)
    token_type = PlainString(required=True, metadata={"example": "Bearer"})
    expires_in = ma.fields.Integer(required=True, metadata={"description": "seconds"})


class LoggedReceiptSchema(ma.Schema):
    """What every receipt says of the event it acknowledges, whatever its stream (see
    docs/signing.md): where the log holds it and the server's signature over it."""

    position = ma.fields.Integer(required=True, metadata={"description": "Log position"})
    leaf_index = ma.fields.Integer(
        required=True, metadata={"description": "The event's leaf in the Merkle log"}
    )
    version = ma.fields.Integer(required=True)
    kind = PlainString(required=True)
    event_hash = PlainString(required=True)
    previous_hash = PlainString(required=True)
    server_time = PlainString(required=True)
    server_key_id = PlainString(required=True)
    server_signature = PlainString(required=True)


class ReceiptSchema(LoggedReceiptSchema):
    """The server's signed acknowledgement of a write to a subject."""

    study = PlainString(required=True)
    subject = PlainString(required=True)


class QuantityOutSchema(ma.Schema):
    """A value and its unit."""

    value = PlainString()
    unit = PlainString()


def _records(description: str) -> ma.fields.List[Any]:
    return ma.fields.List(ma.fields.Dict(), metadata={"description": description})


def _record(description: str) -> ma.fields.Dict:
    return ma.fields.Dict(allow_none=True, metadata={"description": description})


class SubjectSummarySchema(ma.Schema):
    """A subject as it stands: every record that counts, as corrected, and the clinical facts
    derived from them. Each record carries ``entry``: its version in the subject's history."""

    study = PlainString()
    subject = PlainString()
    site = PlainString()
    synthetic = ma.fields.Boolean(metadata={"description": "true for demonstration data"})
    sex = PlainString()
    age = ma.fields.Integer()
    status = PlainString()
    lock_state = PlainString(
        metadata={"description": "open, frozen (no new record or correction) or locked"}
    )
    unlock_requested = ma.fields.Integer(
        allow_none=True,
        metadata={"description": "The entry of an unlock request awaiting the investigator"},
    )
    screened_on = PlainString()
    consent = _record("The TCLE in force")
    consents = ma.fields.Integer(metadata={"description": "Consents and re-consents"})
    eligibility = _record("The latest assessment, each criterion answered, and its failures")
    enrolment = _record("Enrolment date")
    baseline_severity = _record("Camitta severity before treatment, with the reasons")
    treatment_start = PlainString(allow_none=True)
    ratg = _record("rATG days given and total dose")
    cyclosporine = _record("Start, current dose, adjustments, stop, troughs outside target")
    msc_infusions = _records("MSC infusions in order")
    cumulative_msc_dose = ma.fields.Nested(QuantityOutSchema, allow_none=True)
    blood_counts = ma.fields.Integer()
    latest_blood_count = _record("The latest blood count by collection date")
    transfusions = _record("Transfusion events and units by product")
    marrow = _records("Marrow examinations")
    chimerism = _records("Chimerism assessments (FISH, VNTR)")
    adverse_events = _records(
        "Each adverse event as it stands after its follow-ups, with its notification clock"
    )
    responses = _records(
        "The criteria-based hematologic response beside the investigator's, by month"
    )
    death = _record("The death record")
    withdrawal = _record("The withdrawal record")
    end_of_study = _record("The end-of-study record")
    deviations = _records("Protocol deviations")
    follow_up_days = ma.fields.Integer(allow_none=True)
    flags = _records("Accepted values a reviewer should see (out of range, implausible)")
    corrected = _records("Entries corrected, and the corrections (21 CFR 11.10(e))")
    voided = _records("Entries voided, and the voids")
    signatures = _records(
        "Electronic signatures over records: entry, kind, printed name, time, meaning, and "
        "whether each still covers the record's current value"
    )
    queries = _records(
        "Data clarification queries about records: the record (and field) asked about, the "
        "question, the site's answers, and the monitor's closing; status open, answered or closed"
    )
    version = ma.fields.Integer()
    position = ma.fields.Integer()
    updated_at = PlainString()


class SignatureManifestationSchema(ma.Schema):
    """21 CFR 11.50: printed name, date and time, meaning."""

    user_id, printed_name, signed_at, meaning, key_id = plain_strings(5)


class LoggedEventSchema(ma.Schema):
    """What every stored event shows of itself, whichever stream it is in."""

    position = ma.fields.Integer()
    version = ma.fields.Integer()
    kind = PlainString()
    data = ma.fields.Dict()
    recorded_at = PlainString()
    signed_body = PlainString(metadata={"description": "The exact RFC 8785 text signed"})
    signature = PlainString()
    event_hash = PlainString()


def logged_event(position: int, event: SignedAggregate.Event) -> dict[str, Any]:
    """What :class:`LoggedEventSchema` shows of an event stored at ``position``."""
    return {
        "position": position,
        "version": event.originator_version,
        "kind": event.kind(),
        "data": event.signed_data(),
        "recorded_at": instant_to_wire(event.recorded_at),
        "signed_body": event.authorship.signed_body,
        "signature": event.authorship.signature,
        "event_hash": event.event_hash,
    }


class HistoryEntrySchema(LoggedEventSchema):
    """One event of a subject's history, with its evidence."""

    signature_manifestation = ma.fields.Nested(SignatureManifestationSchema)
    corrected_by = ma.fields.List(
        ma.fields.Integer(), metadata={"description": "Later entries that corrected this one"}
    )
    voided_by = ma.fields.Integer(
        allow_none=True, metadata={"description": "The later entry that voided this one"}
    )
    previous_hash = PlainString()
    record_hash = PlainString(
        metadata={
            "description": "The hash of the record as it stands (after its corrections and "
            "void): what a signature over it signs (docs/signing.md)"
        }
    )
    signatures = ma.fields.List(
        ma.fields.Nested(lambda: RecordSignatureSchema()),
        metadata={"description": "Electronic signatures over this record"},
    )


class ServerKeySchema(ma.Schema):
    """The server's public key, to check receipts with."""

    key_id = PlainString()
    public_key = PlainString(metadata={"description": "base64 of the raw Ed25519 key"})
    note_verifier_key = PlainString(
        metadata={
            "description": "The same key as the log's checkpoint signer, as a C2SP verifier key "
            "(origin+key ID+base64(0x01 || key)): what a witness is given as --log-key"
        }
    )


class SigningCeremonySchema(ma.Schema):
    """How the signer authenticated for the signature (21 CFR 11.200(a)(1))."""

    components = ma.fields.List(
        PlainString(),
        metadata={
            "description": '["user_id", "password"] for the first signing of a session (or '
            'after a lapse), ["password"] for a later one'
        },
    )
    authenticated_at = PlainString()


class SignatureReceiptSchema(ma.Schema):
    """The server's signed receipt for a signature over records, and its ceremony."""

    receipt = ma.fields.Nested(ReceiptSchema, required=True)
    ceremony = ma.fields.Nested(SigningCeremonySchema, required=True)


class RecordSignatureSchema(ma.Schema):
    """An electronic signature over a record, as every view of the record shows it (11.50)."""

    signature_entry = ma.fields.Integer(
        metadata={"description": f"The entry (version) of the {Subject.RecordsSigned.kind()} event"}
    )
    user_id = PlainString()
    printed_name = PlainString()
    signed_at = PlainString()
    meaning = PlainString()
    record_hash = PlainString(metadata={"description": "The record hash signed"})
    covers_current_value = ma.fields.Boolean(
        metadata={"description": "false once the record was corrected or voided after signing"}
    )
