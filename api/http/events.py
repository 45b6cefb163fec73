"""``POST /v1/events``: a site submits one signed event and gets the server's receipt.

``POST /v1/events/batch``: several signed events recorded in one transaction, all or none.
"""

from __future__ import annotations

from typing import Any

from flask import g, request
from flask.views import MethodView
from flask_smorest import Blueprint, abort

from api.http.answers import answers
from api.http.auth import login_required
from api.http.headers import (
    idempotency_key,
    idempotency_key_header,
    one_signed_event,
    signed_submission,
)
from api.schemas.records import SubmissionSchema
from api.schemas.resources import ReceiptSchema
from api.schemas.submissions import submission_from
from api.store import get_store
from infrastructure.application.commands import RecordBatch, RecordEvent

blp = Blueprint("events", __name__, url_prefix="/v1/events", description="Signed events")

MAX_BATCH = 100
"""Submissions in one batch: enough to amortise the round trip, small enough for one transaction."""


@blp.route("")
class Events(MethodView):
    """The write path."""

    @login_required
    @blp.arguments(SubmissionSchema())  # one instance: webargs makes one per request of a class
    @answers(
        blp,
        201,
        ReceiptSchema,
        {
            403: "Not allowed for this role or site",
            404: "Subject not screened",
            409: "Stale expected version, subject already screened, the subject's records "
            "frozen or locked, or its site's or study's database locked",
        },
    )
    @one_signed_event(blp, 'The subject version the author saw, e.g. "3" (0 for new).')
    def post(self, submission: dict[str, Any]) -> Any:
        """Record a signed event (see docs/signing.md for what is signed)."""
        receipt = get_store().records.record(
            RecordEvent(
                submission=signed_submission(submission["signature"]), actor_id=g.account.user_id
            ),
            actor=g.account,
        )
        return receipt, 201


@blp.route("/batch")
class EventBatch(MethodView):
    """The write path, several events at once."""

    @login_required
    @blp.arguments(SubmissionSchema(many=True), description=f"1 to {MAX_BATCH} signed events")
    @answers(
        blp,
        201,
        ReceiptSchema(many=True),
        {
            403: "Not allowed for this role or site",
            404: "A subject not screened",
            409: "A subject changed meanwhile, already screened, frozen or locked, or a "
            "database locked",
            413: "Body too large",
            415: "Not application/json",
        },
    )
    @blp.doc(
        parameters=[
            idempotency_key_header(
                "A retry of the whole batch with the same key returns the first receipts and "
                "records nothing."
            ),
        ]
    )
    def post(self, submissions: list[dict[str, Any]]) -> Any:
        """Record a list of signed events in one transaction: all of them, or none.

        The events apply in order, each to its subject as the ones before it left it, so one
        batch may screen a subject and record its consent. The answer is one receipt per
        event, in the same order. A refused event refuses the batch, and the problem's detail
        names its index. ``If-Match`` is not taken: order within the batch says it.
        """
        if not 1 <= len(submissions) <= MAX_BATCH:
            abort(422, errors={"_schema": [f"a batch holds 1 to {MAX_BATCH} signed events"]})
        if request.headers.get("If-Match") is not None:
            abort(422, errors={"If-Match": ["a batch takes no If-Match; order says it"]})
        key = idempotency_key()
        raw = request.get_json()
        receipts = get_store().records.record_batch(
            RecordBatch(
                submissions=[
                    submission_from(
                        raw[index]["event"],
                        submission["signature"],
                        # '#' is outside the header's alphabet: never the key of a single write.
                        idempotency_key=None if key is None else f"{key}#{index}",
                    )
                    for index, submission in enumerate(submissions)
                ],
                actor_id=g.account.user_id,
            ),
            actor=g.account,
        )
        return receipts, 201
