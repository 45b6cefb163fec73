"""The data clarification queries of a study's subjects, one line each: where each stands and
how long it has been open.

A query is open from the day it was raised until the day its monitor closed it (or until today,
while it is not closed), counted in the site's calendar: a query raised and closed on the same
day was open 0 days. Everything here is read from the subjects as folded from their events
(:func:`domain.subject.changes.queries_of`); nothing is stored.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from domain.subject import Subject
from domain.subject.entries import Query

STATUSES = ("open", "answered", "closed")
"""A query's statuses, in the order of its life: awaiting the site, awaiting the monitor, closed."""


@dataclass(frozen=True)
class QueryLine:
    """One query: the record (and field) it asks about, its status, when it was raised, answered
    and closed, and the days it has been open."""

    subject: str
    site: str
    query: int
    """The query's number: the entry of the event that raised it."""
    entry: int
    entry_kind: str
    item: str | None
    question: str
    status: str
    raised_at: datetime
    answered_at: datetime | None
    """The latest answer, if any."""
    closed_at: datetime | None
    days_open: int


def query_lines(subjects: Iterable[Subject], today: date, zone: tzinfo) -> list[QueryLine]:
    """Every query of ``subjects``, by subject in their order, then oldest first; days open
    counted to ``today`` (in ``zone``, the site's calendar) while a query is not closed."""
    return [_line(subject, query, today, zone) for subject in subjects for query in subject.queries]


def _line(subject: Subject, query: Query, today: date, zone: tzinfo) -> QueryLine:
    raised = subject.entries[query.query]
    closed_at = None if query.closed_by is None else query.closed_by.recorded_at
    until = today if closed_at is None else closed_at.astimezone(zone).date()
    return QueryLine(
        subject=subject.subject_code,
        site=subject.site,
        query=query.query,
        entry=query.entry,
        entry_kind=query.entry_kind,
        item=query.item,
        question=query.question,
        status=query.status,
        raised_at=raised.recorded_at,
        answered_at=query.answers[-1].recorded_at if query.answers else None,
        closed_at=closed_at,
        days_open=max(0, (until - raised.recorded_at.astimezone(zone).date()).days),
    )
