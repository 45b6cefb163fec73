"""Checkpoints and proofs: what an auditor checks the log against, without trusting us.

They are public (no token; rate-limited per client address, :mod:`api.http.rate_limits`): they
hold sizes, hashes and signatures, no clinical data, and a witness or an auditor's script must
not need an account to check the log. The proofs are RFC 6962 / RFC 9162 inclusion and
consistency proofs, hashes in base64; the code that checks them is
:func:`signatures.merkle.verify_inclusion` and :func:`signatures.merkle.verify_consistency`,
needing no database and no server.
"""

from __future__ import annotations

import json
from typing import Any

import marshmallow as ma
from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint

from api.http.answers import TOO_MANY_REQUESTS, public_answers
from api.rate_limits import rate_limited
from api.schemas.proofs import (
    CheckpointSchema,
    ConsistencyProofSchema,
    ConsistencyQuerySchema,
    CosignatureBodySchema,
    CosignatureSchema,
    InclusionProofSchema,
    InclusionQuerySchema,
    TimestampFailureSchema,
)
from api.store import get_store
from infrastructure.application.witnessing import Witnessing
from infrastructure.errors import ProofNotAvailable
from infrastructure.store.checkpoints import encode_hash
from infrastructure.store.cosignatures import StoredCosignature
from infrastructure.store.timestamps import REPLY_TYPE as TIMESTAMP_REPLY
from signatures.stamp_failures import failure_record

checkpoints_blp = Blueprint(
    "checkpoints", __name__, url_prefix="/v1/checkpoints", description="Signed checkpoints"
)
events_blp = Blueprint("event-proofs", __name__, url_prefix="/v1/events", description="Proofs")


@checkpoints_blp.route("/latest")
class LatestCheckpoint(MethodView):
    """The newest signed checkpoint."""

    @rate_limited
    @public_answers(checkpoints_blp, 200, CheckpointSchema, {404: "No checkpoint yet"})
    def get(self) -> dict[str, Any]:
        """The latest checkpoint: size, root and the C2SP signed note, cosignatures appended."""
        app = get_store().app
        latest = app.checkpoints.latest()
        if latest is None:
            raise ProofNotAvailable("no checkpoint has been sealed yet")
        note, cosignatures = Witnessing(app).cosigned_note(latest.tree_size, latest.note)
        return {
            "origin": app.checkpoints.origin,
            "tree_size": latest.tree_size,
            "root": encode_hash(latest.root),
            "note": note,
            "cosignatures": [cosignature_view(stored) for stored in cosignatures],
        }


@checkpoints_blp.route("/<int:tree_size>/cosignatures")
class Cosignatures(MethodView):
    """A witness's cosignature of a checkpoint (c2sp.org/tlog-cosignature)."""

    @rate_limited
    @checkpoints_blp.arguments(CosignatureBodySchema, unknown=ma.RAISE)
    @public_answers(
        checkpoints_blp,
        201,
        CosignatureSchema,
        {
            403: "The account is not a witness",
            404: "The log has no checkpoint of that size",
            422: "Forged, of another origin or checkpoint, by an unknown or revoked key",
        },
    )
    def post(self, body: dict[str, str], tree_size: int) -> dict[str, Any]:
        """Keep a witness's cosignature of the checkpoint of ``tree_size``.

        Needs no token: the cosignature is its own authentication, checked with the key the
        log registers for the witness (an account whose role in force is ``witness``; its user
        id is the cosignature's key name). Anything that does not verify is refused and
        nothing is kept.
        """
        stored = Witnessing(get_store().app).receive(
            tree_size, body["checkpoint"], body["cosignature"]
        )
        return cosignature_view(stored)


def cosignature_view(stored: StoredCosignature) -> dict[str, Any]:
    """A kept cosignature as the API shows it."""
    return {
        "tree_size": stored.tree_size,
        "witness": stored.witness,
        "key_id": stored.key_id,
        "cosigned_at": stored.cosignature.timestamp,
        "line": stored.cosignature.line(),
    }


TIMESTAMP_FAILURE = "application/vnd.sealtrail.time-stamp-failure+json"
"""The media type of a signed failure served in a token's place: never read as a token."""
SERVED_STAMP = (
    f"The authority's answer (TimeStampResp, DER) over the checkpoint's signed note "
    f"({TIMESTAMP_REPLY}); or, when the authority failed, the failure with the server's signed "
    f"statement of it ({TIMESTAMP_FAILURE}). The Content-Type says which."
)


@checkpoints_blp.route("/<int:tree_size>/timestamp")
class CheckpointTimestamp(MethodView):
    """The RFC 3161 time-stamp of one checkpoint, or the server's signed statement that the
    authority failed (docs/timestamps.md)."""

    @rate_limited
    @checkpoints_blp.response(200, description=SERVED_STAMP, content_type=TIMESTAMP_REPLY)
    @checkpoints_blp.alt_response(
        404,
        description="No checkpoint of that size, or neither a time-stamp nor a signed failure "
        "(sealed with no authority, or its failure kept unsigned by an older server): "
        "problem+json that says why",
    )
    @checkpoints_blp.alt_response(429, description=TOO_MANY_REQUESTS)
    @checkpoints_blp.doc(
        security=[],
        responses={
            "200": {
                # Two bodies for one status: the decorator above documents one media type.
                "description": SERVED_STAMP,
                "content": {
                    TIMESTAMP_REPLY: {"schema": {"type": "string", "format": "binary"}},
                    TIMESTAMP_FAILURE: {"schema": TimestampFailureSchema},
                },
            }
        },
    )
    def get(self, tree_size: int) -> Response:
        """The time-stamp of the checkpoint of ``tree_size`` leaves, as the authority gave it,
        or the server's signed statement that the authority failed."""
        attempt = get_store().app.checkpoints.timestamp(tree_size)
        if attempt.response is None:
            return Response(
                json.dumps(TimestampFailureSchema().dump(failure_record(attempt))),
                status=200,
                mimetype=TIMESTAMP_FAILURE,
                headers={
                    "Content-Disposition": (
                        f'attachment; filename="checkpoint-{tree_size}-stamp-failure.json"'
                    )
                },
            )
        return Response(
            attempt.response,
            status=200,
            mimetype=TIMESTAMP_REPLY,
            headers={"Content-Disposition": f'attachment; filename="checkpoint-{tree_size}.tsr"'},
        )


@checkpoints_blp.route("/consistency")
class Consistency(MethodView):
    """Proof that a bigger tree extends a smaller one."""

    @rate_limited
    @checkpoints_blp.arguments(
        ConsistencyQuerySchema, location="query", as_kwargs=True, unknown=ma.RAISE
    )
    @public_answers(
        checkpoints_blp, 200, ConsistencyProofSchema, {404: "The log was never that size"}
    )
    def get(self, old_size: int, new_size: int) -> dict[str, Any]:
        """The RFC 6962 consistency proof between tree sizes ``from`` and ``to``."""
        proof = get_store().app.checkpoints.consistency(old_size, new_size)
        return {"from": old_size, "to": new_size, "proof": [encode_hash(h) for h in proof]}


@events_blp.route("/<int:position>/proof")
class Inclusion(MethodView):
    """Proof that an event is in the log."""

    @rate_limited
    @events_blp.arguments(InclusionQuerySchema, location="query", as_kwargs=True, unknown=ma.RAISE)
    @public_answers(
        events_blp,
        200,
        InclusionProofSchema,
        {404: "No such event, or the tree was never that size"},
    )
    def get(self, position: int, tree_size: int | None = None) -> dict[str, Any]:
        """The RFC 6962 inclusion proof of the event at ``position`` in a tree of ``tree_size``."""
        proof = get_store().app.checkpoints.inclusion(position, tree_size)
        return {
            "position": proof.position,
            "leaf_index": proof.leaf_index,
            "tree_size": proof.tree_size,
            "leaf_hash": encode_hash(proof.leaf_hash),
            "proof": [encode_hash(h) for h in proof.proof],
        }
