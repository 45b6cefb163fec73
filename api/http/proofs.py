"""Checkpoints and proofs: what an auditor checks the log against, without trusting us.

The proofs are RFC 6962 / RFC 9162 inclusion and consistency proofs, hashes in base64; the
code that checks them is :func:`signatures.merkle.verify_inclusion` and
:func:`signatures.merkle.verify_consistency`, needing no database and no server.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint

from api.http.answers import answers
from api.http.auth import login_required
from api.schemas.proofs import (
    CheckpointSchema,
    ConsistencyProofSchema,
    ConsistencyQuerySchema,
    InclusionProofSchema,
    InclusionQuerySchema,
)
from api.store import get_store
from domain.permissions import check_may_read_log_evidence
from infrastructure.errors import ProofNotAvailable
from infrastructure.store.checkpoints import encode_hash

checkpoints_blp = Blueprint(
    "checkpoints", __name__, url_prefix="/v1/checkpoints", description="Signed checkpoints"
)
events_blp = Blueprint("event-proofs", __name__, url_prefix="/v1/events", description="Proofs")

EVIDENCE_READERS = {403: "No role in force"}
"""Who may read the log's evidence: see :func:`domain.permissions.check_may_read_log_evidence`."""


@checkpoints_blp.route("/latest")
class LatestCheckpoint(MethodView):
    """The newest signed checkpoint."""

    @login_required
    @answers(checkpoints_blp, 200, CheckpointSchema, EVIDENCE_READERS | {404: "No checkpoint yet"})
    def get(self) -> dict[str, Any]:
        """The latest checkpoint: size, root and the C2SP signed note."""
        check_may_read_log_evidence(g.account)
        keeper = get_store().app.checkpoints
        latest = keeper.latest()
        if latest is None:
            raise ProofNotAvailable("no checkpoint has been sealed yet")
        return {
            "origin": keeper.origin,
            "tree_size": latest.tree_size,
            "root": encode_hash(latest.root),
            "note": latest.note,
        }


@checkpoints_blp.route("/consistency")
class Consistency(MethodView):
    """Proof that a bigger tree extends a smaller one."""

    @login_required
    @checkpoints_blp.arguments(
        ConsistencyQuerySchema, location="query", as_kwargs=True, unknown=ma.RAISE
    )
    @answers(
        checkpoints_blp,
        200,
        ConsistencyProofSchema,
        EVIDENCE_READERS | {404: "The log was never that size"},
    )
    def get(self, old_size: int, new_size: int) -> dict[str, Any]:
        """The RFC 6962 consistency proof between tree sizes ``from`` and ``to``."""
        check_may_read_log_evidence(g.account)
        proof = get_store().app.checkpoints.consistency(old_size, new_size)
        return {"from": old_size, "to": new_size, "proof": [encode_hash(h) for h in proof]}


@events_blp.route("/<int:position>/proof")
class Inclusion(MethodView):
    """Proof that an event is in the log."""

    @login_required
    @events_blp.arguments(InclusionQuerySchema, location="query", as_kwargs=True, unknown=ma.RAISE)
    @answers(
        events_blp,
        200,
        InclusionProofSchema,
        EVIDENCE_READERS | {404: "No such event, or the tree was never that size"},
    )
    def get(self, position: int, tree_size: int | None = None) -> dict[str, Any]:
        """The RFC 6962 inclusion proof of the event at ``position`` in a tree of ``tree_size``."""
        check_may_read_log_evidence(g.account)
        proof = get_store().app.checkpoints.inclusion(position, tree_size)
        return {
            "position": proof.position,
            "leaf_index": proof.leaf_index,
            "tree_size": proof.tree_size,
            "leaf_hash": encode_hash(proof.leaf_hash),
            "proof": [encode_hash(h) for h in proof.proof],
        }
