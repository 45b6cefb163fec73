"""``/queries``: the data clarification queries of the subjects a person reads, by status and
age, each linking to the record it asks about on the subject's page.

A site's people and its monitors see their own sites' queries; auditors and sponsor data
managers every site's (the permission matrix's reading of clinical data, as ``/subjects``). The
filters are the page's URL (``?status=open&site=RP&subject=RP-02&days=7``); a bad one answers
the page again, 400, with the error summary and nothing listed or recorded. The list is a copy
of the queries' text, so it is recorded in the person's disclosure log before it is sent.
"""

from __future__ import annotations

from datetime import datetime

from flask import g, render_template, request

from api.store import get_store
from api.web.blueprint import web
from api.web.dates import site_zone
from api.web.forms import SUBJECT_NOT_READ, QueryFilterForm
from api.web.handing_out import handed_out
from api.web.navigation import in_navigation
from api.web.sessions import page_for
from api.web.subjects import list_scope
from domain.actions import Action
from domain.disclosure import QUERY_LIST, Scope
from domain.permissions import reads_site
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
    zone = site_zone()
    lines = [
        line for line in query_lines(readable, datetime.now(zone).date(), zone) if _kept(form, line)
    ]
    page = render_template("queries/list.html", form=form, lines=lines)
    scope = (
        Scope(study, subject=form.subject.data)
        if form.subject.data
        else Scope(study, site=form.site.data)
        if form.site.data
        else list_scope(study)
    )
    return handed_out(page, QUERY_LIST, scope), 200


def _own_sites() -> list[str]:
    """The person's own sites, offered even before any subject is screened there."""
    return [site for site in g.account.sites if reads_site(g.account, site)]


def _kept(form: QueryFilterForm, line: QueryLine) -> bool:
    return (
        (not form.status.data or line.status == form.status.data)
        and (not form.site.data or line.site == form.site.data)
        and (not form.subject.data or line.subject == form.subject.data)
        and line.days_open >= form.least_days()
    )


in_navigation("web.queries", "Queries", Action.READ_CLINICAL_DATA)
