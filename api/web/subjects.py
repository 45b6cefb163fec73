"""``/subjects`` and ``/subjects/<code>``: the subjects a person may see, and one subject's record.

The list shows the subjects of the sites the person reads (every site for an auditor or a
sponsor data manager, their own for a site's staff and monitors): where each stands, from its
summary. A subject's page is its timeline (every record of its audit index, with who signed it,
when and meaning what, corrections as old -> new with the reason, voids struck through, and the
signatures over each and whether they still cover its value), its charts, and the facts the
store derives from the records (Camitta severity at baseline, the NIH response beside the
investigator's call, the SAE notification clocks), each naming the records it came from.

Everything is read from the same services as the API's (the sealed summary and audit index
views, the subject folded from its events); nothing is computed here that the projections do
not compute. Reading a subject is a disclosure: each page and chart is recorded in the person's
disclosure log, with the SHA-256 of the exact bytes sent, before it is sent (as the API records
its reads). Another site's subject answers as one that does not exist (404), as on the API.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any, TypeVar

from flask import Response, g, render_template

from api.schemas.fields import readable_as_typed
from api.store import get_store
from api.web.blueprint import web
from api.web.dates import page_zone, show_in_site_zone
from api.web.handing_out import handed_out, record_copy
from api.web.navigation import in_navigation
from api.web.page_cache import chart, rendered_timeline
from api.web.record_fields import enters_records, records_offered
from api.web.sessions import page_for
from domain.account import Account
from domain.actions import Action
from domain.disclosure import CHART, SUBJECT_LIST, SUBJECT_PAGE, Scope
from domain.permissions import may, reads_every_site, reads_site
from domain.signed import stream_id
from domain.subject import QUERY_KINDS, Subject, subject_stream
from domain.subject.locks import LockState
from domain.subject_facts import baseline
from infrastructure.documents import charts
from infrastructure.views.replay import replayer_for
from infrastructure.views.study_reports import served_study, site_subjects, view_row
from projections.study_dashboard import judged_on
from projections.subject_list import subject_lines
from projections.subject_summary import Summary

T = TypeVar("T")


@web.get("/subjects")
@page_for(Action.READ_CLINICAL_DATA)
def subjects() -> str:
    """The subjects of the sites the person reads, one line each."""
    store = get_store()
    study = served_study(None)
    shown = [
        view_row(store.views.get, subject, "subject summary")
        for subject in site_subjects(store.reads, study, None)
        if reads_site(g.account, subject.site)
    ]
    page = render_template(
        "subjects/list.html",
        study=study,
        lines=subject_lines(shown),
        screens=enters_records(g.account),
    )
    return handed_out(page, SUBJECT_LIST, list_scope(study))


in_navigation("web.subjects", "Subjects", Action.READ_CLINICAL_DATA)


@web.get("/subjects/<code>")
@page_for(Action.READ_CLINICAL_DATA)
def subject(code: str) -> str:
    """The subject's timeline, charts and derived facts."""
    store = get_store()
    study, summary, folded = readable_subject(code)
    today = datetime.now(page_zone()).date()
    shown = rendered_timeline(
        folded,
        lambda: view_row(store.views.audit, folded, "audit index"),
        subject_code=code,
        may_raise=may(g.account, Action.RAISE_QUERIES, folded.site),
        query_kinds=QUERY_KINDS,
    )
    page = render_template(
        "subjects/subject.html",
        summary=summary,
        timeline=shown,
        records_offered=records_offered(g.account, folded.site) if _open(folded) else [],
        work_offered=work_offered(g.account, folded),
        facts=facts(folded, summary, today),
        charted=charts.has_chart(folded),
        troughs=charts.has_troughs(folded),
    )
    return handed_out(page, SUBJECT_PAGE, Scope(study, subject=code))


@web.get("/subjects/<code>/blood-counts.svg")
@page_for(Action.READ_CLINICAL_DATA)
def blood_count_chart(code: str) -> Response:
    """The subject's blood counts over time (SVG), as the subject page shows them."""
    _study, _summary, folded = readable_subject(code)
    return svg_copy(chart(folded, "blood counts", charts.blood_count_svg), code)


@web.get("/subjects/<code>/troughs.svg")
@page_for(Action.READ_CLINICAL_DATA)
def trough_chart(code: str) -> Response:
    """The subject's cyclosporine trough levels over time (SVG)."""
    _study, _summary, folded = readable_subject(code)
    return svg_copy(chart(folded, "troughs", charts.trough_svg), code)


WorkOffered = Callable[[Account, Subject], list[tuple[str, str]]]
WORK: list[WorkOffered] = []
"""What the pages of a subject's work offer on its page, each registered by its module (it
imports this one, so this one cannot import it)."""


def offers_work(offered: WorkOffered) -> WorkOffered:
    """Register ``offered``: the links to a subject's pages of work ``account`` may do there."""
    WORK.append(offered)
    return offered


def work_offered(account: Account, subject: Subject) -> list[tuple[str, str]]:
    """The pages of the subject where ``account``'s role does its work on it (a monitor's
    source data verification, a data manager's lock steps...): (URL, name in the page's
    language)."""
    return [link for offered in WORK for link in offered(account, subject)]


def _open(subject: Subject) -> bool:
    """Whether the subject's records take new ones (neither frozen nor locked)."""
    return subject.lock_state is LockState.OPEN


# -- what the pages share ---------------------------------------------------------------------


def readable(
    study: str, code: str, find: Callable[[str], T | None], site_of: Callable[[T], str]
) -> T:
    """What ``find`` gives for the subject, once the signed-in person may read it: the API's
    own check (:func:`domain.permissions.readable_subject`), so another site's subject answers
    exactly as one that does not exist."""
    return readable_as_typed(g.account, study, code, find, site_of)


def readable_summary(code: str) -> tuple[str, Summary]:
    """The study this store serves, and the summary of its subject ``code`` as it stands, once
    the signed-in person may read it."""
    study = served_study(None)
    summary: Summary = readable(study, code, get_store().views.get, lambda found: found["site"])
    show_in_site_zone(summary["site"])
    return study, summary


def readable_subject(code: str) -> tuple[str, Summary, Subject]:
    """The study this store serves, and the subject ``code`` of it as it stands: its summary
    and the subject folded from its events, once the signed-in person may read it.

    The fold is the as-of replayer's (from its sealed states every 100 versions, the copy it
    hands out sharing nothing it changes), not a deep copy of the application's cached subject,
    which costs more than the rest of a long subject's page.
    """
    study, summary = readable_summary(code)
    stream = stream_id(subject_stream(study, code))
    folded, _folded, _cached = replayer_for(get_store()).subject_at(stream, summary["version"])
    return study, summary, folded


def list_scope(study: str) -> Scope:
    """What the list holds: the study's subjects for a person who reads every site; their one
    site's for a person who reads only theirs (the study's, if they act for several)."""
    account = g.account
    if not reads_every_site(account) and len(account.sites) == 1:
        (site,) = account.sites
        return Scope(study, site=site)
    return Scope(study)


def svg_copy(svg: str, code: str) -> Response:
    """A chart of subject ``code``, once recorded as a copy handed out."""
    content = svg.encode()
    record_copy(content, CHART, Scope(served_study(None), subject=code))
    return Response(content, mimetype="image/svg+xml")


def facts(subject: Subject, summary: Summary, today: date) -> dict[str, Any]:
    """The derived facts the page shows, each with the entries it came from: the baseline
    severity (:func:`domain.subject_facts.baseline`), the responses and the adverse events as
    the summary states them, each notification clock judged on ``today`` as the dashboard
    judges it."""
    found = baseline(subject)
    return {
        "severity": {
            "severity": found.assessment.severity.value,
            "reasons": list(found.assessment.reasons),
            "count_entry": found.count_entry,
            "marrow_entry": found.marrow_entry,
        },
        "responses": summary["responses"],
        "adverse_events": [
            {
                **event,
                "notification": None
                if event["notification"] is None
                else clock_on(event["notification"], today),
            }
            for event in summary["adverse_events"]
        ],
    }


def clock_on(clock: dict[str, Any], today: date) -> dict[str, Any]:
    """A notification clock judged on ``today``, with the days left before it is due."""
    judged = judged_on(clock, today)
    days_left = (date.fromisoformat(clock["due_on"]) - today).days
    return {**judged, "days_left": days_left if judged["status"] == "pending" else None}
