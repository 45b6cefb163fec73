"""Schemas of checkpoints and Merkle proofs (hashes are standard base64)."""

from __future__ import annotations

import marshmallow as ma

from api.schemas.fields import PlainString, StrictSchema

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
    note = PlainString(required=True, metadata={"description": "The signed note, verbatim"})


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
