"""What the subject pages draw and render from a subject's events, kept per version of it.

A chart, a rendered timeline and a summary as of a version are the same for everyone who asks
about the same stream at the same version and chain hash (and, for a timeline, in the same
language, time zone, mount point and with the same links offered):
:mod:`infrastructure.application.read_cache` keeps them under exactly that, so a new event of
the subject is shown at once (its version and chain hash are a new key) and two people never
share what only one may see (each page checks the person's permission before it asks; what is
kept is a subject's, and the links a timeline offers are part of its key). Each record's row
is kept too, under the same reader's terms and the log events the row is made of
(:func:`record_version`), so the timeline after a new event renders only the rows it changed.

What stays per request: the permission check, the rest of the page, and the copy recorded in
the person's disclosure log with the SHA-256 of the exact bytes sent.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from flask import current_app, render_template, request
from markupsafe import Markup

from api.store import get_store
from api.web.dates import page_zone
from api.web.timeline import Rows, TimelineRow
from api.web.wording import language
from domain.subject import Subject
from infrastructure.application.read_cache import PerStore
from projections.audit_index import AuditIndex
from projections.subject_summary import Summary

MB = 2**20

CHARTS: PerStore[str] = PerStore(maxsize=32 * MB, sizeof=len)
"""Charts (SVG text), at most 32 MB of them per store."""


@dataclass(frozen=True)
class RenderedTimeline:
    """A subject's timeline as HTML, and what the page says of it."""

    html: Markup
    count: int
    """How many records it shows."""
    latest_position: int
    """The log position of its newest record."""


TIMELINES: PerStore[RenderedTimeline] = PerStore(
    maxsize=64 * MB, sizeof=lambda rendered: len(rendered.html)
)
"""Rendered timelines, at most 64 MB of HTML per store (a 2,000-record one is about 2 MB)."""

RECORDS: PerStore[Markup] = PerStore(maxsize=64 * MB, sizeof=len)
"""Each record's rendered row, at most 64 MB of HTML per store (a record's is about 1 KB): a
new event of a subject changes at most the new record and the one it corrects, voids or signs,
so the timeline after it renders those and reuses the rest."""

SUMMARIES: PerStore[Summary] = PerStore(maxsize=512)
"""Summaries of subjects as they stood, 512 per store."""


def version_key(subject: Subject) -> tuple[str, int, str]:
    """What the subject stands on: its stream, version and chain hash."""
    return subject.stream, subject.version, subject.chain_head


def chart(subject: Subject, name: str, draw: Callable[[Subject], str]) -> str:
    """The chart ``name`` of ``subject``, drawn once per version: it is drawn from the records
    alone (its labels are in both languages, it shows no reader and no date of the viewing)."""
    return CHARTS.of(get_store().app).get((*version_key(subject), name), lambda: draw(subject))


def summary_then(subject: Subject, which: str, summarise: Callable[[], Summary]) -> Summary:
    """A summary computed once per version of ``subject`` (``which`` one: of the subject as it
    stood then, or one event before). Shared: read it, never change it."""
    return SUMMARIES.of(get_store().app).get((*version_key(subject), which), summarise)


def record_version(record: dict[str, Any]) -> Hashable:
    """What a record's row shows, by the log events it is made of: its original (and that
    event's hash) and each correction, its void and each signature over it with whether it still
    covers the value. An event never changes once in the log, so two records with the same
    events show the same; anything a later event changes (a correction, a void, a signature, a
    signature no longer covering) changes this."""
    voided = record["voided"]
    return (
        record["record_hash"],
        tuple(version["position"] for version in record["versions"]),
        None if voided is None else voided["position"],
        tuple(
            (signed["position"], signed["covers_current_value"]) for signed in record["signatures"]
        ),
    )


def rendered_rows(rows: list[TimelineRow], **context: Hashable) -> list[Markup]:
    """Each of ``rows`` rendered on its own (its ``<li>``), in one pass of the template."""
    rendered: list[Markup] = []

    def keep(html: Markup) -> str:
        rendered.append(html)
        return ""

    template = current_app.jinja_env.get_template("subjects/_timeline_rows.html")
    template.render(rows=rows, keep=keep, **context)
    return rendered


def rendered_timeline(
    subject: Subject, index: Callable[[], AuditIndex], **context: Hashable
) -> RenderedTimeline:
    """The timeline of ``subject`` at its version (its audit ``index`` read only when not kept),
    rendered with ``context`` (the subject's code and the links the reader may follow, or none
    for a timeline as it stood); each record's row rendered once per version of the record."""
    zone = page_zone()
    reader = (language(), str(zone), request.script_root, tuple(sorted(context.items())))
    key = (*version_key(subject), *reader)

    def render() -> RenderedTimeline:
        records = index()["records"]
        kept = RECORDS.of(get_store().app)
        keys = [(subject.stream, *reader, record_version(record)) for record in records]
        shown = [kept.found(record_key) for record_key in keys]
        missing = [number for number, html in enumerate(shown) if html is None]
        rows = Rows(zone)
        rendered = rendered_rows([rows.row(records[number]) for number in missing], **context)
        for number, row_html in zip(missing, rendered, strict=True):
            kept.keep(keys[number], row_html)
            shown[number] = row_html
        page = render_template("subjects/_timeline.html", records=shown)
        latest = records[-1]["versions"][0]["position"] if records else 0
        # The template's own output, every value escaped as it was rendered: HTML already.
        return RenderedTimeline(Markup(page), len(records), latest)  # noqa: S704

    return TIMELINES.of(get_store().app).get(key, render)
