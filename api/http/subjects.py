"""Reading a subject: its state today and its full, signed history."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

import marshmallow as ma
from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint

from api.http.answers import answers
from api.http.auth import login_required
from api.http.handing_out import handing_out
from api.schemas.fields import as_of_instant, readable_as_typed
from api.schemas.resources import HistoryEntrySchema, SubjectSummarySchema, logged_event
from api.store import get_store
from domain.attribution import signer_of
from domain.disclosure import HISTORY, REPLAY, SUMMARY, Scope
from domain.subject import Subject, subject_stream
from infrastructure.views.replay import MAX_POSITION, replayer_for
from projections.subject_summary import record_signatures

T = TypeVar("T")

SUBJECT_REFUSALS = {403: "Not allowed for this role or site", 404: "No such subject"}
"""What reading a subject is refused with: see :func:`readable_subject`."""


def readable_subject(
    study: str, subject: str, find: Callable[[str], T | None], site_of: Callable[[T], str]
) -> T:
    """What ``find`` gives for the subject, once the signed-in person may read it (its state,
    history, weekly table and audit index all go through here): see
    :func:`domain.permissions.readable_subject`. A path with a NUL, a newline or a study named
    like the store's own streams names no subject.
    """
    return readable_as_typed(g.account, study, subject, find, site_of)


blp = Blueprint(
    "subjects", __name__, url_prefix="/v1/studies/<study>/subjects", description="Subjects"
)


class AsOf(ma.fields.Field[datetime]):
    """``YYYY-MM-DDTHH:MM:SSZ`` (UTC), or ``YYYY-MM-DD`` for the last instant of that UTC day."""

    def __init__(self, **kwargs: Any) -> None:
        metadata = {
            "type": "string",
            "example": "2011-03-01T09:30:00Z",
            "description": "UTC, YYYY-MM-DDTHH:MM:SSZ; or YYYY-MM-DD, the end of that day in UTC",
        }
        super().__init__(metadata=metadata | kwargs.pop("metadata", {}), **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        try:
            return as_of_instant(value)
        except ValueError as refused:
            raise ma.ValidationError(str(refused)) from None


class AsOfQuerySchema(ma.Schema):
    """A past state: as of a time the store recorded events at, or a log position."""

    as_of = AsOf(
        metadata={"description": "Every event the store recorded at or before this instant"}
    )
    position = ma.fields.Integer(
        strict=False,
        validate=ma.validate.Range(min=1, max=MAX_POSITION),
        metadata={"description": "Every event of the subject stored at or before this position"},
    )

    @ma.validates_schema
    def _one_of_them(self, data: dict[str, Any], **_: Any) -> None:
        if "as_of" in data and "position" in data:
            raise ma.ValidationError("give as_of or position, not both", "position")


@blp.route("/<subject>")
class SubjectState(MethodView):
    """A subject as it stands."""

    @login_required
    @blp.arguments(AsOfQuerySchema, location="query")
    @answers(
        blp,
        200,
        SubjectSummarySchema,
        SUBJECT_REFUSALS | {404: "No such subject (or, with as_of or position, not yet then)"},
    )
    def get(self, query: dict[str, Any], study: str, subject: str) -> dict[str, Any]:
        """The subject's current state, derived from its events; or, with ``as_of`` or
        ``position``, its state as it stood then, folded from the log."""
        store = get_store()
        summary = readable_subject(study, subject, store.views.get, lambda found: found["site"])
        if query:
            replayed = replayer_for(store).replay(subject_stream(study, subject), **query)
            handing_out(REPLAY, Scope(study, subject=subject))
            return replayed.summary()
        handing_out(SUMMARY, Scope(study, subject=subject))
        return summary


@blp.route("/<subject>/history")
class SubjectHistory(MethodView):
    """Every event of a subject, with its evidence."""

    @login_required
    @answers(blp, 200, HistoryEntrySchema(many=True), SUBJECT_REFUSALS)
    def get(self, study: str, subject: str) -> list[dict[str, Any]]:
        """The subject's history, oldest first, each event with its signature and chain link."""
        store = get_store()
        current = readable_subject(study, subject, store.app.find_subject, lambda found: found.site)
        handing_out(HISTORY, Scope(study, subject=subject))
        entries = []
        for record in store.reads.history(subject_stream(study, subject)):
            body = record.event.authorship.body()
            signer = signer_of(body)
            entries.append(
                {
                    **logged_event(record.position, record.event),
                    "signature_manifestation": {
                        "user_id": signer.user_id,
                        "printed_name": signer.printed_name,
                        "signed_at": signer.signed_at,
                        "meaning": signer.meaning,
                        "key_id": signer.key_id,
                    },
                    "previous_hash": record.event.previous_hash,
                    **_changed_by(current, record.event.originator_version),
                }
            )
        return entries


def _changed_by(subject: Subject, version: int) -> dict[str, Any]:
    """Which later entries corrected or voided this one (the original stays as it was), the
    record's hash as it stands, and the signatures over it."""
    entry = subject.entries.get(version)
    if entry is None:
        return {"corrected_by": [], "voided_by": None, "record_hash": None, "signatures": []}
    return {
        "corrected_by": list(entry.corrected_by),
        "voided_by": entry.voided_by,
        "record_hash": entry.record_hash,
        "signatures": record_signatures(entry),
    }
