"""Schemas of checkpoints and Merkle proofs (hashes are standard base64)."""

from __future__ import annotations

import marshmallow as ma

from api.schemas.fields import PlainString, StrictSchema, Text

MAX_SIZE = 2**53 - 1


class ConsistencyQuerySchema(StrictSchema):
    """``?from=N&to=M``."""

    old_size = ma.fields.Integer(
        data_key="from", required=True, validate=ma.validate.Range(min=0, max=MAX_SIZE)
    )
    new_size = ma.fields.Integer(
        data_key="to", required=True, validate=ma.validate.Range(min=0, max=MAX_SIZE)
    )


class InclusionQuerySchema(StrictSchema):
    """``?tree_size=N`` (the current size if absent)."""

    tree_size = ma.fields.Integer(validate=ma.validate.Range(min=1, max=MAX_SIZE))


class CheckpointSchema(ma.Schema):
    """A signed checkpoint (C2SP tlog-checkpoint in a signed note)."""

    origin = PlainString(required=True)
    tree_size = ma.fields.Integer(required=True)
    root = PlainString(required=True, metadata={"description": "base64 RFC 6962 root"})
    note = PlainString(
        required=True,
        metadata={
            "description": "The signed note, verbatim, with the newest cosignature of each "
            "witness appended as one more signature line (c2sp.org/tlog-cosignature)"
        },
    )
    cosignatures = ma.fields.List(
        ma.fields.Nested(lambda: CosignatureSchema()),
        required=True,
        metadata={"description": "The cosignatures appended to the note, one per witness key"},
    )


class CosignatureSchema(ma.Schema):
    """A witness's cosignature of a checkpoint, as kept."""

    tree_size = ma.fields.Integer(required=True)
    witness = PlainString(required=True, metadata={"description": "The witness's user id"})
    key_id = PlainString(required=True, metadata={"description": "Its registered key's id"})
    cosigned_at = ma.fields.Integer(
        required=True, metadata={"description": "POSIX time the witness signed at"}
    )
    line = PlainString(required=True, metadata={"description": "The note signature line"})


class CosignatureBodySchema(StrictSchema):
    """What a witness posts: the checkpoint text it cosigned and its cosignature line."""

    checkpoint = Text(
        4096,
        multiline=True,
        required=True,
        metadata={"description": "The checkpoint's note text as cosigned (origin, size, root)"},
    )
    cosignature = PlainString(
        required=True,
        validate=ma.validate.Length(min=1, max=1024),
        metadata={"description": "'— <witness> base64(key ID || time || signature)'"},
    )


class ConsistencyProofSchema(ma.Schema):
    """An RFC 6962 consistency proof."""

    from_size = ma.fields.Integer(data_key="from", attribute="from", required=True)
    to_size = ma.fields.Integer(data_key="to", attribute="to", required=True)
    proof = ma.fields.List(PlainString(), required=True)


class InclusionProofSchema(ma.Schema):
    """An RFC 6962 inclusion proof of one event's leaf."""

    position = ma.fields.Integer(required=True)
    leaf_index = ma.fields.Integer(required=True)
    tree_size = ma.fields.Integer(required=True)
    leaf_hash = PlainString(required=True)
    proof = ma.fields.List(PlainString(), required=True)


class TimestampFailureSchema(ma.Schema):
    """The authority failed to stamp a checkpoint: the failure the store kept, with the server's
    signed statement of it (docs/signing.md); the same object as a packet's
    ``log/checkpoint-stamp-failure.json``."""

    failure = PlainString(required=True, metadata={"description": "Why, in one line"})
    requested_at = PlainString(
        required=True,
        metadata={"description": "When the stamp was asked for, UTC: YYYY-MM-DDTHH:MM:SS.ffffffZ"},
    )
    statement = PlainString(
        required=True,
        metadata={
            "description": "The server's signed statement of the failure: a C2SP signed note "
            "(sealtrail/time-stamp-failure/v1, origin, size, SHA-256 of the checkpoint's signed "
            "note, requested_at, failure) signed by the key and name of the checkpoints"
        },
    )
