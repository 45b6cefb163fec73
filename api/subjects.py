"""Reading a subject: its state today and its full, signed history."""

from __future__ import annotations

from typing import Any

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import login_required
from api.schemas.resources import HistoryEntrySchema, SubjectSummarySchema
from api.store import get_store
from domain.attribution import signer_of
from domain.errors import SubjectNotFound
from domain.permissions import check_may_read
from domain.subject import subject_stream
from domain.wire import instant_to_wire

blp = Blueprint(
    "subjects", __name__, url_prefix="/v1/studies/<study>/subjects", description="Subjects"
)


@blp.route("/<subject>")
class SubjectState(MethodView):
    """A subject as it stands."""

    @login_required
    @blp.response(200, SubjectSummarySchema)
    @blp.alt_response(401, description="Not authenticated")
    @blp.alt_response(403, description="Not allowed for this role or site")
    @blp.alt_response(404, description="No such subject")
    def get(self, study: str, subject: str) -> dict[str, Any]:
        """The subject's current state, derived from its events."""
        summary = get_store().views.get(subject_stream(study, subject))
        if summary is None:
            raise SubjectNotFound(f"{study}/{subject} has not been screened")
        check_may_read(g.account, summary["site"])
        return summary


@blp.route("/<subject>/history")
class SubjectHistory(MethodView):
    """Every event of a subject, with its evidence."""

    @login_required
    @blp.response(200, HistoryEntrySchema(many=True))
    @blp.alt_response(401, description="Not authenticated")
    @blp.alt_response(403, description="Not allowed for this role or site")
    @blp.alt_response(404, description="No such subject")
    def get(self, study: str, subject: str) -> list[dict[str, Any]]:
        """The subject's history, oldest first, each event with its signature and chain link."""
        store = get_store()
        stream = subject_stream(study, subject)
        current = store.app.find_subject(stream)
        if current is None:
            raise SubjectNotFound(f"{stream} has not been screened")
        check_may_read(g.account, current.site)
        entries = []
        for record in store.app.history(stream):
            body = record.event.authorship.body()
            signer = signer_of(body)
            entries.append(
                {
                    "position": record.position,
                    "version": record.event.originator_version,
                    "kind": record.event.kind(),
                    "data": record.event.signed_data(),
                    "recorded_at": instant_to_wire(record.event.recorded_at),
                    "signature_manifestation": {
                        "user_id": signer.user_id,
                        "printed_name": signer.printed_name,
                        "signed_at": signer.signed_at,
                        "meaning": signer.meaning,
                        "key_id": signer.key_id,
                    },
                    "signed_body": record.event.authorship.signed_body,
                    "signature": record.event.authorship.signature,
                    "previous_hash": record.event.previous_hash,
                    "event_hash": record.event.event_hash,
                }
            )
        return entries
