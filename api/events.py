"""``POST /v1/events``: a site submits one signed event and gets the server's receipt."""

from __future__ import annotations

from typing import Any

from flask import g, request
from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import login_required
from api.headers import IDEMPOTENCY_KEY_PATTERN, idempotency_key, version_precondition
from api.schemas.records import SubmissionSchema
from api.schemas.resources import ReceiptSchema
from api.store import get_store
from api.submissions import submission_from

blp = Blueprint("events", __name__, url_prefix="/v1/events", description="Signed events")


@blp.route("")
class Events(MethodView):
    """The write path."""

    @login_required
    @blp.arguments(SubmissionSchema)
    @blp.response(201, ReceiptSchema)
    @blp.alt_response(401, description="Not authenticated")
    @blp.alt_response(403, description="Not allowed for this role or site")
    @blp.alt_response(404, description="Subject not screened")
    @blp.alt_response(409, description="Stale expected version or subject already screened")
    @blp.alt_response(413, description="Body too large")
    @blp.alt_response(415, description="Not application/json")
    @blp.doc(
        parameters=[
            {
                "in": "header",
                "name": "Idempotency-Key",
                "schema": {"type": "string", "pattern": IDEMPOTENCY_KEY_PATTERN},
                "description": "A retry with the same key returns the first receipt.",
            },
            {
                "in": "header",
                "name": "If-Match",
                "schema": {"type": "string"},
                "description": 'The subject version the author saw, e.g. "3" (0 for new).',
            },
        ]
    )
    def post(self, submission: dict[str, Any]) -> Any:
        """Record a signed event (see docs/signing.md for what is signed)."""
        raw = request.get_json()
        receipt = get_store().app.record(
            submission_from(
                raw["event"],
                submission["signature"],
                idempotency_key=idempotency_key(),
                expected_version=version_precondition(),
            ),
            actor_id=g.account.user_id,
        )
        return receipt, 201
