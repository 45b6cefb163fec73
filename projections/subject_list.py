"""The subjects a person may see, one line each: where each stands, from its summary.

A line is read from the subject's summary (:func:`projections.subject_summary.summarise`) and
nothing else: its status, whether treatment has started, its MSC infusions, its latest response
(the store's reading by the protocol's criteria beside the investigator's), how it left the
study and how far its records are closed. Which subjects a person may see is the caller's
business (the permission matrix); this says what each line shows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from projections.subject_summary import Summary

OPEN_QUERY_STATUSES = frozenset({"open", "answered"})
"""A query not yet closed by its monitor: awaiting the site's answer, or the monitor."""


@dataclass(frozen=True)
class SubjectLine:
    """One subject as the list shows it. Dates are the summary's (``YYYY-MM-DD``)."""

    subject: str
    site: str
    status: str
    """The summary's status: screened, consented, enrolled, completed, died, withdrawn..."""
    screened_on: str
    enrolled_on: str | None
    treatment_start: str | None
    """Day 1 of treatment (the first rATG dose, else the first MSC infusion), if it came."""
    infusions: int
    response: dict[str, Any] | None
    """The latest month assessed (by a count in its window or by the investigator): month,
    criteria, investigator, agreement."""
    left_on: str | None
    """When the subject left the study: died, withdrawn or ended (None while in it)."""
    lock_state: str
    open_queries: int
    version: int
    updated_at: str

    @property
    def on_treatment(self) -> bool:
        """Treatment has started and the subject has not left the study."""
        return self.treatment_start is not None and self.left_on is None


def subject_line(summary: Summary) -> SubjectLine:
    """The line of one subject, from its summary."""
    responses = summary["responses"]
    left = summary["death"] or summary["withdrawal"] or summary["end_of_study"]
    return SubjectLine(
        subject=summary["subject"],
        site=summary["site"],
        status=summary["status"],
        screened_on=summary["screened_on"],
        enrolled_on=(summary["enrolment"] or {}).get("enrolled_on"),
        treatment_start=summary["treatment_start"],
        infusions=len(summary["msc_infusions"]),
        response=_latest_response(responses),
        left_on=None if left is None else _left_on(left),
        lock_state=summary["lock_state"],
        open_queries=sum(1 for q in summary["queries"] if q["status"] in OPEN_QUERY_STATUSES),
        version=summary["version"],
        updated_at=summary["updated_at"],
    )


def subject_lines(summaries: Iterable[Summary]) -> list[SubjectLine]:
    """A line per subject, by site and subject code."""
    return sorted(
        (subject_line(summary) for summary in summaries), key=lambda s: (s.site, s.subject)
    )


def _latest_response(responses: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The response at the latest of the protocol's months that was assessed: a count in its
    window, or the investigator's call (the summary lists every month once treatment starts,
    not evaluable until then)."""
    assessed = [
        r for r in responses if r["count_entry"] is not None or r["investigator_entry"] is not None
    ]
    if not assessed:
        return None
    latest = max(assessed, key=lambda r: r["month"])
    return {name: latest[name] for name in ("month", "criteria", "investigator", "agreement")}


def _left_on(left: dict[str, Any]) -> str | None:
    for name in ("died_on", "withdrawn_on", "ended_on"):
        if name in left:
            return str(left[name])
    return None
