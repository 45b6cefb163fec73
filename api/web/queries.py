"""``/queries``: the data clarification queries of the subjects a person reads, by status and
age, each linking to the record it asks about on the subject's page.

A site's people and its monitors see their own sites' queries; auditors and sponsor data
managers every site's (the permission matrix's reading of clinical data, as ``/subjects``). The
filters, the order and the page are the page's URL
(``?status=open&site=RP&subject=RP-02&days=7&order=age&size=25&page=2``), as on ``/audit``; a
bad one answers the page again, 400, with the error summary and nothing listed or recorded.
The list is a copy of the queries' text, so it is recorded in the person's disclosure log
before it is sent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import g, render_template, request, url_for

from api.store import get_store
from api.web.blueprint import web
from api.web.dates import site_zone
from api.web.forms import NO_SUCH_PAGE, SUBJECT_NOT_READ, QueryFilterForm
from api.web.handing_out import handed_out
from api.web.navigation import in_navigation
from api.web.sessions import page_for
from api.web.subjects import list_scope
from domain.actions import Action
from domain.disclosure import QUERY_LIST, Scope
from domain.permissions import reads_site
from domain.subject import Subject
from infrastructure.views.study_reports import served_study, site_subjects
from projections.query_list import STATUSES, QueryLine, query_lines


@web.get("/queries")
@page_for(Action.READ_CLINICAL_DATA)
def queries() -> tuple[str, int]:
    """The queries the URL's filters keep, of the subjects the person reads."""
    study = served_study(None)
    readable = [
        subject
        for subject in site_subjects(get_store().reads, study, None)
        if reads_site(g.account, subject.site)
    ]
    sites = sorted({subject.site for subject in readable} | set(_own_sites()))
    form = QueryFilterForm(request.args, statuses=STATUSES, sites=sites)
    valid = form.validate()
    if valid and form.subject.data and form.subject.data not in {s.subject_code for s in readable}:
        form.subject.errors = [SUBJECT_NOT_READ]
        valid = False
    if not valid:
        return render_template("queries/list.html", form=form, lines=None), 400
    kept = [line for subject in readable for line in _lines_of(subject) if _kept(form, line)]
    shown = QueryPage.of(ordered(kept, form.order.data or "subject"), form)
    if shown is None:
        form.page.errors = [NO_SUCH_PAGE]
        return render_template("queries/list.html", form=form, lines=None), 400
    page = render_template(
        "queries/list.html", form=form, lines=shown.lines, shown=shown, to=_to(form)
    )
    scope = (
        Scope(study, subject=form.subject.data)
        if form.subject.data
        else Scope(study, site=form.site.data)
        if form.site.data
        else list_scope(study)
    )
    return handed_out(page, QUERY_LIST, scope), 200


def _lines_of(subject: Subject) -> list[QueryLine]:
    """The subject's queries, their days open counted in its site's calendar."""
    zone = site_zone(subject.site)
    return query_lines([subject], datetime.now(zone).date(), zone)


def _own_sites() -> list[str]:
    """The person's own sites, offered even before any subject is screened there."""
    return [site for site in g.account.sites if reads_site(g.account, site)]


STATUS_ORDER = {status: place for place, status in enumerate(STATUSES)}


def ordered(lines: list[QueryLine], order: str) -> list[QueryLine]:
    """The lines in the order asked for: as listed (subject, then query), by status (open,
    answered, closed) and the longest open first within each, or the longest open first."""
    if order == "status":
        return sorted(lines, key=lambda line: (STATUS_ORDER[line.status], -line.days_open))
    if order == "age":
        return sorted(lines, key=lambda line: -line.days_open)
    return lines


@dataclass(frozen=True)
class QueryPage:
    """One page of the lines kept: which, and where it stands among them."""

    lines: list[QueryLine]
    number: int
    last_number: int
    first_row: int
    total: int

    @classmethod
    def of(cls, lines: list[QueryLine], form: QueryFilterForm) -> QueryPage | None:
        """Page ``form.page`` of ``lines``; None for a page past the last (page 1 always
        exists, empty when nothing is kept)."""
        size, number = form.page_size(), form.page_number()
        last_number = max(1, -(-len(lines) // size))
        if number > last_number:
            return None
        start = (number - 1) * size
        return cls(lines[start : start + size], number, last_number, start + 1, len(lines))

    @property
    def last_row(self) -> int:
        return self.first_row + len(self.lines) - 1


def _to(form: QueryFilterForm) -> Callable[..., str]:
    """This list's URL with ``changes`` to its query (the filters kept)."""

    def to(**changes: Any) -> str:
        query = {**form.query(), **changes}
        return url_for("web.queries", **{k: v for k, v in query.items() if v not in (None, "")})

    return to


def _kept(form: QueryFilterForm, line: QueryLine) -> bool:
    return (
        (not form.status.data or line.status == form.status.data)
        and (not form.site.data or line.site == form.site.data)
        and (not form.subject.data or line.subject == form.subject.data)
        and line.days_open >= form.least_days()
    )


in_navigation("web.queries", "Queries", Action.READ_CLINICAL_DATA)
