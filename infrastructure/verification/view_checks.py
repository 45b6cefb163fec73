"""``sealtrail verify``'s check of the views: each derived again from the events and compared.

The views are what the API serves of the log (a subject's summary and status, its weekly table
and audit index, the study's dashboard and weekly table). They are derived data, so a row
edited in the database (a subject's status ``died`` made ``in_follow_up``) is not found by the
checks of the events. This check replays the log into the same views held in memory, never
touching the store (it runs with the verifier's read-only connection and without the key that
seals the rows), up to the position each stored view has reached, and names every row that
is not what the events give: ``view-mismatch``.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification
from sqlalchemy import Engine, create_engine, inspect, select

from infrastructure.verification.log_checks import Finding
from infrastructure.views.projection_runner import LogSource, ProjectionRunner, View, view_tracking
from infrastructure.views.tables import ViewSeal, default_views

SHOWN_FIELDS = 3
"""How many differing fields of a row a finding names."""


class _NotDerivable(Exception):
    """The log does not give a subject's earlier versions in order (its own checks say why)."""


def check_views(
    engine: Engine,
    notifications: Callable[..., Sequence[Notification]],
    decode: Callable[[Notification], Any],
) -> list[Finding]:
    """Every row of every stored view against the same view derived again from the log."""
    inspector = inspect(engine)
    if not inspector.has_table(view_tracking.name):
        return []  # the views were never built: nothing of them is served
    # The rows derived here are compared, never served: any key seals them.
    views = [
        view
        for view in default_views(ViewSeal(secrets.token_bytes(32)))
        if all(inspector.has_table(table.name) for table in view.tables)
    ]
    tracked, stored = _stored_views(engine, views)
    reached = {view.name: int(tracked.get(view.name) or 0) for view in views}
    bound = [0]

    def bounded(start: int, limit: int) -> Sequence[Notification]:
        if start > bound[0]:
            return []
        return notifications(start, limit, stop=bound[0])

    def not_derivable(originator_id: UUID, version: int) -> Any:
        raise _NotDerivable(f"version {version} of stream {originator_id} comes out of order")

    memory = create_engine("sqlite://")
    try:
        runner = ProjectionRunner(
            memory, LogSource(bounded, lambda: bound[0], decode, not_derivable), views
        )
        findings: list[Finding] = []
        for stop in sorted(set(reached.values())):
            bound[0] = stop
            try:
                runner.catch_up()
            except Exception as error:  # the log's own findings say what broke it
                return [
                    *findings,
                    Finding.of_log(
                        "view-underivable",
                        f"the views cannot be derived from the log past position {stop}: {error}",
                    ),
                ]
            with memory.connect() as connection:
                for view in views:
                    if reached[view.name] == stop:
                        derived = dict(view.rows(connection))
                        findings += _compare(view, stored[view.name], derived)
        return findings
    finally:
        memory.dispose()


def _stored_views(
    engine: Engine, views: Sequence[View]
) -> tuple[dict[str, int], dict[str, dict[str, Any]]]:
    """The views' positions and rows as of one committed page of the runner.

    The store may be catching its views up meanwhile (a read on a live primary). A page
    commits its rows and positions together, and always moves a position on, so rows read
    between two equal readings of the positions are the rows of those positions.
    """
    with engine.connect() as connection:
        while True:
            tracked = _positions(connection)
            stored = {view.name: dict(view.rows(connection)) for view in views}
            if _positions(connection) == tracked:
                return tracked, stored


def _positions(connection: Any) -> dict[str, int]:
    rows = connection.execute(select(view_tracking.c.view, view_tracking.c.position)).all()
    return {str(view): int(position) for view, position in rows}


def _compare(view: View, stored: dict[str, Any], derived: dict[str, Any]) -> list[Finding]:
    findings = []
    for key in sorted(stored.keys() | derived.keys()):
        if key not in derived:
            detail = "the row is in the store, but the events give no such row"
        elif key not in stored:
            detail = "the events give this row, but the store has none"
        elif stored[key] != derived[key]:
            detail = "the stored row is not what the events give: " + _differences(
                stored[key], derived[key]
            )
        else:
            continue
        findings.append(Finding(None, key, None, "view-mismatch", f"{view.name}: {detail}"))
    return findings


def _differences(stored: Any, derived: Any) -> str:
    if not isinstance(stored, dict) or not isinstance(derived, dict):
        return "the document differs"
    fields = sorted(
        name for name in stored.keys() | derived.keys() if stored.get(name) != derived.get(name)
    )
    shown = [
        f"{name} stored {_short(stored.get(name))}, the events give {_short(derived.get(name))}"
        for name in fields[:SHOWN_FIELDS]
    ]
    more = len(fields) - len(shown)
    return "; ".join(shown) + (f"; and {more} more" if more else "")


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 60 else text[:57] + "..."
