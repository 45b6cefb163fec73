"""Schemas of what the API answers."""

from __future__ import annotations

import marshmallow as ma


class TokenRequestSchema(ma.Schema):
    """User id and password."""

    class Meta:
        unknown = ma.RAISE

    username = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=100))
    password = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))


class TokenSchema(ma.Schema):
    """A short-lived bearer token."""

    access_token = ma.fields.String(required=True)
    token_type = ma.fields.String(required=True, metadata={"example": "Bearer"})
    expires_in = ma.fields.Integer(required=True, metadata={"description": "seconds"})


class ReceiptSchema(ma.Schema):
    """The server's signed acknowledgement of a write (see docs/signing.md)."""

    position = ma.fields.Integer(required=True, metadata={"description": "Log position"})
    leaf_index = ma.fields.Integer(
        required=True, metadata={"description": "The event's leaf in the Merkle log"}
    )
    study = ma.fields.String(required=True)
    subject = ma.fields.String(required=True)
    version = ma.fields.Integer(required=True)
    kind = ma.fields.String(required=True)
    event_hash = ma.fields.String(required=True)
    previous_hash = ma.fields.String(required=True)
    server_time = ma.fields.String(required=True)
    server_key_id = ma.fields.String(required=True)
    server_signature = ma.fields.String(required=True)


class QuantityOutSchema(ma.Schema):
    """A value and its unit."""

    value = ma.fields.String()
    unit = ma.fields.String()


class SubjectSummarySchema(ma.Schema):
    """A subject today, derived from its events."""

    study = ma.fields.String()
    subject = ma.fields.String()
    site = ma.fields.String()
    sex = ma.fields.String()
    age = ma.fields.Integer()
    status = ma.fields.String()
    screened_on = ma.fields.String()
    consent = ma.fields.Dict(allow_none=True)
    enrolled_on = ma.fields.String(allow_none=True)
    msc_infusions = ma.fields.Integer()
    cumulative_msc_dose = ma.fields.Nested(QuantityOutSchema, allow_none=True)
    latest_results = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Dict())
    open_adverse_events = ma.fields.List(ma.fields.Dict())
    version = ma.fields.Integer()
    position = ma.fields.Integer()
    updated_at = ma.fields.String()


class SignatureManifestationSchema(ma.Schema):
    """21 CFR 11.50: printed name, date and time, meaning."""

    user_id = ma.fields.String()
    printed_name = ma.fields.String()
    signed_at = ma.fields.String()
    meaning = ma.fields.String()
    key_id = ma.fields.String()


class HistoryEntrySchema(ma.Schema):
    """One event of a subject's history, with its evidence."""

    position = ma.fields.Integer()
    version = ma.fields.Integer()
    kind = ma.fields.String()
    data = ma.fields.Dict()
    recorded_at = ma.fields.String()
    signature_manifestation = ma.fields.Nested(SignatureManifestationSchema)
    signed_body = ma.fields.String(metadata={"description": "The exact RFC 8785 text signed"})
    signature = ma.fields.String()
    previous_hash = ma.fields.String()
    event_hash = ma.fields.String()


class AccountSchema(ma.Schema):
    """The authenticated person."""

    user_id = ma.fields.String()
    printed_name = ma.fields.String()
    role = ma.fields.String()
    sites = ma.fields.List(ma.fields.String())
    keys = ma.fields.List(ma.fields.Dict())


class ServerKeySchema(ma.Schema):
    """The server's public key, to check receipts with."""

    key_id = ma.fields.String()
    public_key = ma.fields.String(metadata={"description": "base64 of the raw Ed25519 key"})
