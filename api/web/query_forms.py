"""A query's own pages: a monitor raises a query about a record (or one of its fields), the
site answers it, the monitor closes it; each a signed event, signed in the person's browser
with their own key (docs/pages.md, "Signing in the browser") and recorded by the same service
as ``POST /v1/events``, whose checks decide who may: a monitor raises and closes at their own
sites, a site's coordinator or investigator answers; another site's subject does not exist.

``GET /queries/raise?subject=RP-01&entry=3`` shows the record and the form (the field asked
about, the question); ``GET /queries/<code>/<n>`` shows query ``n`` (the entry that raised it),
the record it is about, its answers and closing, and the form the person's role may send while
it is not closed: ``POST .../answer`` or ``POST .../close``. A refusal shows the page again with
the error summary, what was typed kept, and nothing recorded.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from api.store import get_store
from api.web.blueprint import web
from api.web.forms import AnswerQueryForm, CloseQueryForm, RaiseQueryForm, SignedBodyForm
from api.web.handing_out import handed_out
from api.web.page_cache import rendered_rows
from api.web.sessions import page_for
from api.web.signing import authorship_offer, record
from api.web.subjects import readable_subject
from api.web.timeline import TimelineRow, timeline
from api.web.wording import gettext as _
from domain.actions import Action
from domain.disclosure import QUERY_PAGE, Scope
from domain.permissions import may
from domain.subject import KINDS, QUERY_KINDS, Subject
from domain.subject.entries import Entry, Query
from infrastructure.application.bodies import body_to_sign
from infrastructure.application.receipts import Receipt
from infrastructure.views.study_reports import view_row

REPLIES: tuple[tuple[Action, str, type[SignedBodyForm], str, str], ...] = (
    (
        Action.RECORD_CLINICAL_DATA,
        Subject.QueryAnswered.kind(),
        AnswerQueryForm,
        "web.answer_query",
        "answer",
    ),
    (
        Action.RAISE_QUERIES,
        Subject.QueryClosed.kind(),
        CloseQueryForm,
        "web.close_query",
        "resolution",
    ),
)
"""What a person may send about a query not closed, by what their role does at its site: the
action, the kind of event, its form, where the form goes, the text the person signs."""


@web.route("/queries/raise", methods=["GET", "POST"])
@page_for(Action.RAISE_QUERIES)
def raise_query() -> Response | str:
    """The form that raises a query about ``?entry=`` of ``?subject=``; its signed event."""
    study, _summary, subject = readable_subject(request.args.get("subject", ""))
    entry = _record_asked_about(subject, request.args.get("entry", ""))
    fields = [declared.name for declared in KINDS[entry.kind].items()]
    if request.method == "GET":
        form = RaiseQueryForm(fields=fields, formdata=None, data={"item": request.args.get("item")})
    else:
        form = RaiseQueryForm(fields=fields)
        about = {"entry": entry.version, "entry_kind": entry.kind}
        receipt = record(form, g.account, Subject.QueryRaised.kind(), subject.subject_code, about)
        if receipt is not None:
            number = int(receipt["version"])
            said = _("Query %(query)s raised.", query=number)
            return _done(said, receipt, subject.subject_code, number)
    data = {"entry": entry.version, "entry_kind": entry.kind}
    page = render_template(
        "queries/raise.html",
        subject=subject,
        records=rendered_rows(_rows(subject, {entry.version})),
        form=form,
        offer=authorship_offer(g.account, _body(study, subject, Subject.QueryRaised.kind(), data)),
    )
    return handed_out(page, QUERY_PAGE, Scope(study, subject=subject.subject_code))


@web.get("/queries/<code>/<int:number>")
@page_for(Action.READ_CLINICAL_DATA)
def query(code: str, number: int) -> str:
    """Query ``number`` of subject ``code``: the record, the thread, the form the person may
    send."""
    return _query_page(code, number, None)


@web.post("/queries/<code>/<int:number>/answer")
@page_for(Action.RECORD_CLINICAL_DATA)
def answer_query(code: str, number: int) -> Response | str:
    """The site's signed answer."""
    said = _("Query %(query)s answered.", query=number)
    return _reply(code, number, AnswerQueryForm(), Subject.QueryAnswered.kind(), said)


@web.post("/queries/<code>/<int:number>/close")
@page_for(Action.RAISE_QUERIES)
def close_query(code: str, number: int) -> Response | str:
    """The monitor's signed closing."""
    said = _("Query %(query)s closed.", query=number)
    return _reply(code, number, CloseQueryForm(), Subject.QueryClosed.kind(), said)


def _reply(code: str, number: int, form: SignedBodyForm, kind: str, said: str) -> Response | str:
    _study, _summary, subject = readable_subject(code)
    _query_of(subject, number)
    receipt = record(form, g.account, kind, subject.subject_code, {"query": number})
    if receipt is None:
        return _query_page(code, number, form)
    return _done(said, receipt, code, number)


def _done(said: str, receipt: Receipt, code: str, number: int) -> Response:
    """Back to the query's page, saying what was recorded where."""
    recorded = _("Recorded at log position %(position)s.", position=receipt["position"])
    flash(f"{said} {recorded}", "done")
    return redirect(url_for("web.query", code=code, number=number))


def _query_page(code: str, number: int, refused: SignedBodyForm | None) -> str:
    """The query's page; ``refused``, a form the person sent that was refused, shown again."""
    study, _summary, subject = readable_subject(code)
    asked = _query_of(subject, number)
    thread = {asked.entry, asked.query, *(a.version for a in asked.answers)}
    if asked.closed_by is not None:
        thread.add(asked.closed_by.version)
    reply = _reply_offered(subject, asked, refused)
    page = render_template(
        "queries/query.html",
        subject=subject,
        asked=asked,
        records=rendered_rows(_rows(subject, thread)),
        reply=reply,
    )
    return handed_out(page, QUERY_PAGE, Scope(study, subject=subject.subject_code))


def _reply_offered(
    subject: Subject, asked: Query, refused: SignedBodyForm | None
) -> dict[str, Any] | None:
    """The form the person may send about the query (answer it, or close it), with its body to
    sign; None when the query is closed (unless a refused form is shown again) or the person's
    role does neither at the subject's site."""
    if refused is None and asked.closed_by is not None:
        return None
    for action, kind, form_class, endpoint, data_name in REPLIES:
        if not may(g.account, action, subject.site):
            continue
        form = refused if isinstance(refused, form_class) else form_class(formdata=None)
        body = _body(subject.study_id, subject, kind, {"query": asked.query})
        return {
            "form": form,
            "text": form[data_name],
            "offer": authorship_offer(g.account, body),
            "action": url_for(endpoint, code=subject.subject_code, number=asked.query),
            "kind": kind,
        }
    return None


def _body(study: str, subject: Subject, kind: str, data: dict[str, Any]) -> dict[str, Any]:
    """The body to sign for the subject's next event, less what the browser adds (its key id,
    its time) and what the person types (sign-form.js puts it in ``data``)."""
    account = g.account
    return body_to_sign(
        {"study": study, "subject": subject.subject_code},
        version=subject.version + 1,
        kind=kind,
        data=data,
        signer=(account.user_id, account.printed_name),
    )


def _record_asked_about(subject: Subject, entry: str) -> Entry:
    """The live record ``entry`` (its number, as typed in the URL) names: a query asks about a
    record of the subject, never about a query."""
    number = int(entry) if entry.isascii() and entry.isdigit() and len(entry) < 10 else 0
    found = subject.entries.get(number)
    if found is None:
        code = subject.subject_code
        abort(404, description=_("%(subject)s has no record %(entry)s.", subject=code, entry=entry))
    if not found.is_live:
        abort(
            404,
            description=_("Entry %(entry)s was voided: it is asked about no more.", entry=number),
        )
    if found.kind in QUERY_KINDS:
        abort(
            404,
            description=_(
                "Entry %(entry)s is part of a query: ask about its record.", entry=number
            ),
        )
    return found


def _query_of(subject: Subject, number: int) -> Query:
    found = next((q for q in subject.queries if q.query == number), None)
    if found is None:
        code = subject.subject_code
        abort(404, description=_("%(subject)s has no query %(query)s.", subject=code, query=number))
    return found


def _rows(subject: Subject, entries: set[int]) -> list[TimelineRow]:
    """The subject's timeline rows of ``entries``, from its audit index (who, when, meaning)."""
    index = view_row(get_store().views.audit, subject, "audit index")
    return [row for row in timeline(index) if row.entry in entries]
