"""``/audit`` and ``/subjects/<code>/audit``: the Part 11 audit trail (21 CFR 11.10(e)) on a page.

Every creation, correction, void and signature of a record, field by field: who, what, when,
why, old -> new, under which signature. The rows are the application's
(:mod:`infrastructure.application.audit_trail`, the rows of ``sealtrail report audit-trail``),
of the subjects the person reads (``Action.READ_CLINICAL_DATA``, as the API's audit index and
the console's report: their own sites for site staff and monitors, every site for auditors and
sponsor data managers). The filters are a GET form, so a filtered view is a URL an inspector can
be sent; the CSV and the signed PDF offered under the table hold exactly the rows it lists (the
same filters, the same page), and the CSV of every row matching the filters is offered beside.
Bad input answers the page again, 400, with each error linked to its field and what was typed
kept. What leaves is recorded in the person's disclosure log first, as the API's reads are.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, g, render_template, request, url_for

from api.schemas.fields import is_code
from api.store import get_store
from api.web.audit_review import reviews_audit_trail
from api.web.blueprint import web
from api.web.dates import local_and_utc
from api.web.forms import ALL_ROWS, AuditFilterForm
from api.web.handing_out import handed_out, record_copy
from api.web.navigation import in_navigation
from api.web.sessions import page_for
from domain.account import Account
from domain.actions import Action
from domain.disclosure import AUDIT_TRAIL, Scope
from domain.permissions import readable_subject, reads_every_site, reads_site
from domain.subject import subject_stream
from domain.wire import instant_from_wire
from infrastructure.application.audit_trail import AuditTrail, AuditTrailPage
from infrastructure.views.study_reports import served_study
from projections.audit_trail import AuditRow, value_text


@web.get("/audit")
@page_for(Action.READ_CLINICAL_DATA)
def audit() -> Response | tuple[str, int]:
    """The audit trail of every subject the person reads, filtered and a page at a time."""
    return audit_trail_page(subject=None)


@web.get("/subjects/<code>/audit")
@page_for(Action.READ_CLINICAL_DATA)
def subject_audit(code: str) -> Response | tuple[str, int]:
    """One subject's audit trail; another site's subject answers as one never screened (404)."""
    study = served_study(None)
    readable_subject(
        g.account, subject_stream(study, code), get_store().app.find_subject,
        lambda found: found.site, names_a_subject=is_code(code),
    )  # fmt: skip
    return audit_trail_page(subject=code)


in_navigation("web.audit", "Audit trail", Action.READ_CLINICAL_DATA)


def audit_trail_page(subject: str | None) -> Response | tuple[str, int]:
    """The page (or its CSV or PDF) of the rows the URL's filters keep, for ``subject`` alone
    when the URL names one in its path."""
    reader: Account = g.account
    trail = AuditTrail(get_store().reads, served_study(None), lambda site: reads_site(reader, site))
    form = AuditFilterForm(
        request.args,
        sites=trail.sites,
        subject_page=subject is not None,
        format_asked=request.args.get("format", "html"),
    )
    shown = None
    if form.validate():
        shown = trail.page(
            form.filters(subject),
            number=form.page_number(),
            size=None if form.every_row() else form.page_size(),
        )
        form.check_against(shown, trail.subjects)
    if shown is None or form.errors:
        return _render(form, subject, None), 400
    if form.format_asked == "csv":
        # Here, as _pdf's: the renderings module brings reportlab, which a worker importing the
        # pages at its start took 0.13 s of CPU to import for the few that ask for a file.
        from infrastructure.documents.renderings import audit_trail_csv

        return _download(audit_trail_csv(shown.rows), shown, "text/csv", ".csv")
    if form.format_asked == "pdf":
        return _download(_pdf(shown), shown, "application/pdf", ".pdf")
    return Response(
        handed_out(_render(form, subject, shown), AUDIT_TRAIL, _scope(shown)), mimetype="text/html"
    )


def _render(form: AuditFilterForm, subject: str | None, shown: AuditTrailPage | None) -> str:
    return render_template(
        "audit.html",
        form=form,
        subject=subject,
        shown=shown,
        rows=[] if shown is None else [_row_shown(row) for row in shown.rows],
        links=_Links(form, subject, shown),
        reviews=subject is None and reviews_audit_trail(g.account),
    )


def _pdf(shown: AuditTrailPage) -> bytes:
    """The project's signed audit-trail PDF of exactly these rows, its cover stating them."""
    from infrastructure.documents import reports

    store = get_store()
    codes = list(dict.fromkeys(row.subject for row in shown.rows)) or list(shown.subjects)
    return reports.audit_trail_pdf(
        store,
        shown.rows,
        study=shown.study,
        codes=codes,
        period=shown.filters.period,
        checkpoint=reports.covering_checkpoint(store),
        selection=shown.selection(),
    )


def _download(content: bytes, shown: AuditTrailPage, mimetype: str, extension: str) -> Response:
    """Record the file in the person's disclosure log, then answer it as a download named after
    the rows it holds."""
    record_copy(content, AUDIT_TRAIL, _scope(shown))
    answer = Response(content, mimetype=mimetype)
    name = f"{_file_name(shown)}{extension}"
    answer.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return answer


def _scope(shown: AuditTrailPage) -> Scope:
    """What part of the study the copy holds: the subject or site filtered for; else the study
    for a person who reads every site, or their one site."""
    filters = shown.filters
    if filters.subject is not None:
        return Scope(shown.study, subject=filters.subject)
    if filters.site is not None:
        return Scope(shown.study, site=filters.site)
    if not reads_every_site(g.account) and len(shown.sites) == 1:
        return Scope(shown.study, site=shown.sites[0])
    return Scope(shown.study)


def _file_name(shown: AuditTrailPage) -> str:
    """``audit-trail-NCT01297972-RP-01-page-2``: what the file holds, from its filters."""
    filters = shown.filters
    parts = ["audit-trail", shown.study, filters.subject, filters.site]
    if shown.size is not None and shown.last_number > 1:
        parts.append(f"page-{shown.number}")
    return "-".join(part for part in parts if part)


def _row_shown(row: AuditRow) -> dict[str, Any]:
    """A row as the table shows it: values as text, the instant in the site's zone and UTC."""
    recorded = instant_from_wire(row.recorded_at_utc)
    return {
        "row": row,
        "old": value_text(row.old),
        "new": value_text(row.new),
        "when": local_and_utc(recorded, ZoneInfo(row.time_zone)),
    }


class _Links:
    """The page's links, each keeping the filters: other pages, and the downloads."""

    def __init__(
        self, form: AuditFilterForm, subject: str | None, shown: AuditTrailPage | None
    ) -> None:
        self.form = form
        self.subject = subject
        self.shown = shown

    def to(self, **changes: Any) -> str:
        """This page's URL with ``changes`` to its query (None removes a parameter)."""
        query = {**self.form.query(), **changes}
        query = {key: value for key, value in query.items() if value not in (None, "")}
        if self.subject is None:
            return url_for("web.audit", **query)
        return url_for("web.subject_audit", code=self.subject, **query)

    def clear(self) -> str:
        """This page without a filter."""
        if self.subject is None:
            return url_for("web.audit")
        return url_for("web.subject_audit", code=self.subject)

    def page(self, number: int) -> str:
        """Page ``number`` of the same rows."""
        return self.to(page=number)

    def download(self, file_format: str, *, every_row: bool = False) -> str:
        """The rows listed (or every row the filters keep) as ``file_format``."""
        if every_row:
            return self.to(format=file_format, page=ALL_ROWS)
        number = None if self.shown is None else self.shown.number
        return self.to(format=file_format, page=number)
