"""Schemas of checkpoints and Merkle proofs (hashes are standard base64)."""

from __future__ import annotations

import marshmallow as ma

MAX_SIZE = 2**53 - 1


class ConsistencyQuerySchema(ma.Schema):
    """``?from=N&to=M``."""

    class Meta:
        unknown = ma.RAISE

    old_size = ma.fields.Integer(
        data_key="from", required=True, validate=ma.validate.Range(min=0, max=MAX_SIZE)
    )
    new_size = ma.fields.Integer(
        data_key="to", required=True, validate=ma.validate.Range(min=0, max=MAX_SIZE)
    )


class InclusionQuerySchema(ma.Schema):
    """``?tree_size=N`` (the current size if absent)."""

    class Meta:
        unknown = ma.RAISE

    tree_size = ma.fields.Integer(validate=ma.validate.Range(min=1, max=MAX_SIZE))


class CheckpointSchema(ma.Schema):
    """A signed checkpoint (C2SP tlog-checkpoint in a signed note)."""

    origin = ma.fields.String(required=True)
    tree_size = ma.fields.Integer(required=True)
    root = ma.fields.String(required=True, metadata={"description": "base64 RFC 6962 root"})
    note = ma.fields.String(required=True, metadata={"description": "The signed note, verbatim"})


class ConsistencyProofSchema(ma.Schema):
    """An RFC 6962 consistency proof."""

    from_size = ma.fields.Integer(data_key="from", attribute="from", required=True)
    to_size = ma.fields.Integer(data_key="to", attribute="to", required=True)
    proof = ma.fields.List(ma.fields.String(), required=True)


class InclusionProofSchema(ma.Schema):
    """An RFC 6962 inclusion proof of one event's leaf."""

    position = ma.fields.Integer(required=True)
    leaf_index = ma.fields.Integer(required=True)
    tree_size = ma.fields.Integer(required=True)
    leaf_hash = ma.fields.String(required=True)
    proof = ma.fields.List(ma.fields.String(), required=True)
