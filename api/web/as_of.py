"""``/subjects/<code>/as-of``: a subject as it stood at a log position or a time, and what changed.

``?position=N`` is the subject folded from its events stored at or before log position N;
``?time=T`` (``YYYY-MM-DDTHH:MM:SSZ``, or a ``YYYY-MM-DD`` meaning the end of that UTC day)
from those the store recorded at or before T: the application's as-of replay
(:mod:`infrastructure.views.replay`), the same as ``sealtrail replay`` and the API's
``?as_of=``/``?position=``. The page shows the subject's summary, facts and records as they
stood, what the event at that point changed, and links to the subject's previous and next
events. ``?from=A&to=B`` (each a log position or a time) shows the fields that differ between
two points (:func:`projections.subject_changes.changes_between`).

Bad input is a page saying what was wrong, never a fault: a position that is not a whole
number from 1, a time in neither form or later than now, both or neither of them (400); a
position past the end of the log, or a point before the subject's first event (404, as the API
answers the latter). Every page is a copy of the subject's data, recorded as the subject page is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from flask import abort, render_template, request
from werkzeug.datastructures import MultiDict

from api.schemas.fields import as_of_instant
from api.store import get_store
from api.web.blueprint import web
from api.web.dates import page_zone
from api.web.handing_out import handed_out
from api.web.page_cache import rendered_timeline, summary_then
from api.web.sessions import page_for
from api.web.subjects import facts, readable_summary
from api.web.wording import gettext as _
from domain.actions import Action
from domain.disclosure import REPLAY, Scope
from domain.signed import stream_id
from domain.subject import Subject, subject_stream
from infrastructure.store.positions import log_positions
from infrastructure.views.replay import Replayed, position_asked_in, replayer_for
from projections.audit_index import AuditIndex, audit_index
from projections.subject_changes import changes_between
from projections.subject_summary import Summary, summarise

POSITION_ASKED = "A log position is a whole number from 1: %(value)s is not one."
BOTH_ASKED = "Ask for a position or a time, not both."
NEITHER_ASKED = (
    "Ask for a log position (?position=N) or a time (?time=YYYY-MM-DDTHH:MM:SSZ, or a day "
    "YYYY-MM-DD), or for two points to compare (?from=...&to=...)."
)


@dataclass(frozen=True)
class Point:
    """A point of the log asked for: a position or a time, as the replay takes it."""

    position: int | None = None
    time: datetime | None = None

    def replay_arguments(self) -> dict[str, Any]:
        return {"position": self.position} if self.position is not None else {"as_of": self.time}


@web.get("/subjects/<code>/as-of")
@page_for(Action.READ_CLINICAL_DATA)
def subject_as_of(code: str) -> str:
    """The subject as it stood at a point, or what changed between two points."""
    study, _summary = readable_summary(code)
    if "from" in request.args or "to" in request.args:
        return changes(study, code)
    point = asked_point(request.args)
    replayed = replay(study, code, point)
    store = get_store()
    stream = stream_id(subject_stream(study, code))
    positions = log_positions(store.app.recorder, stream)
    then, version = replayed.subject, replayed.version
    # Each kept per version and chain hash of the subject then (api.web.page_cache): stepping
    # through the history reuses the summary it showed one step before, and a page asked again
    # folds, reads and renders nothing but its own frame.
    summary = summary_then(then, "then", replayed.summary)
    before = None if version == 1 else summary_then(then, "one event before", summary_before(then))
    shown = rendered_timeline(then, lambda: records_then(stream, version, positions))
    page = render_template(
        "subjects/as_of.html",
        summary=summary,
        replayed=replayed,
        asked=point,
        previous=positions.get(version - 1),
        next=positions.get(version + 1),
        first=positions[1],
        latest=positions[max(positions)],
        step=None if before is None else changes_between(before, summary),
        timeline=shown,
        facts=facts(then, summary, replayed.recorded_at.astimezone(page_zone()).date()),
    )
    return handed_out(page, REPLAY, Scope(study, subject=code))


def summary_before(then: Subject) -> Callable[[], Summary]:
    """The summary of the subject one event before ``then``: folded from the replay cache's
    nearest state, as the replay is."""

    def summarised() -> Summary:
        earlier, _folded, _cached = replayer_for(get_store()).subject_at(
            stream_id(then.stream), then.version - 1
        )
        return summarise(earlier)

    return summarised


def records_then(stream: UUID, version: int, positions: Mapping[int, int]) -> AuditIndex:
    """The audit index of the subject's records as they stood at ``version``: its events up to
    that version, not its whole history (the stored index is only the latest)."""
    records = [
        (event, positions[event.originator_version])
        for event in get_store().app.events.get(stream, lte=version)
        if isinstance(event, Subject.Event)
    ]
    index = audit_index(records)
    assert index is not None  # the replay found at least one event
    return index


def changes(study: str, code: str) -> str:
    """The fields that differ between the subject at ``from`` and at ``to``."""
    points = {}
    for name in ("from", "to"):
        if not request.args.get(name):
            abort(
                400, description=_("Give both points to compare: %(name)s is missing.", name=name)
            )
        points[name] = point_named(request.args[name])
    start, end = (replay(study, code, points[name]) for name in ("from", "to"))
    page = render_template(
        "subjects/changes.html",
        code=code,
        study=study,
        start=start,
        end=end,
        changes=changes_between(start.summary(), end.summary()),
    )
    return handed_out(page, REPLAY, Scope(study, subject=code))


def asked_point(args: MultiDict[str, str]) -> Point:
    """The point ``?position=`` or ``?time=`` names (400 unless exactly one, well formed)."""
    position, time = args.get("position"), args.get("time")
    if position is not None and time is not None:
        abort(400, description=_(BOTH_ASKED))
    if position is not None:
        return Point(position=position_asked(position))
    if time is not None:
        return Point(time=time_asked(time))
    abort(400, description=_(NEITHER_ASKED))


def point_named(value: str) -> Point:
    """A point of a comparison: a log position (digits) or a time."""
    if value.isdigit():
        return Point(position=position_asked(value))
    return Point(time=time_asked(value))


def position_asked(value: str) -> int:
    """A log position from 1 to the end of the log (400 if malformed, 404 past the end)."""
    position = position_asked_in(value)
    if position is None:
        abort(400, description=_(POSITION_ASKED, value=f'"{value[:40]}"'))
    size = get_store().app.recorder.max_notification_id() or 0
    if position > size:
        abort(
            404,
            description=_(
                "The log holds %(size)s events: position %(position)s is past its end.",
                size=size,
                position=position,
            ),
        )
    return position


def time_asked(value: str) -> datetime:
    """An instant no later than now (400 otherwise)."""
    try:
        instant = as_of_instant(value)
    except ValueError as refused:
        abort(400, description=f'"{value[:40]}": {_(str(refused))}.')
    now = datetime.now(UTC)
    # A day stands for its last instant: today is asked as of now.
    if instant > now and instant.date() > now.date():
        abort(
            400,
            description=_(
                "%(value)s is later than now: the log cannot say how it will stand.", value=value
            ),
        )
    return min(instant, now)


def replay(study: str, code: str, point: Point) -> Replayed:
    """The subject as it stood at ``point`` (404 before its first event, as on the API)."""
    return replayer_for(get_store()).replay(subject_stream(study, code), **point.replay_arguments())
