"""The study dashboard: where the trial stands, from its subjects' summaries.

Enrolment by status, MSC infusions given, adverse events by grade, by seriousness and by
relatedness to the MSC, deaths, the hematologic responses at months 3 and 6 (by the NIH
criteria and by the investigator), and every serious adverse event's notification clock.

The stored dashboard depends on the events alone. Whether a notification not yet made is
*overdue* depends on the day it is read, so :func:`as_of` judges that at read time against
the day given (the site's today): the stored part keeps each clock's due date.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from domain.clinical import ClockStatus, ResponseCategory, SeriousnessCriterion
from domain.protocol import protocol_for
from domain.vocabulary import Relatedness, Status
from projections.subject_summary import Summary

Dashboard = dict[str, Any]
GRADES = tuple(str(grade) for grade in range(1, 6))


def dashboard(study: str, summaries: Sequence[Summary]) -> Dashboard:
    """The dashboard of ``study`` from its subjects' summaries (any order)."""
    summaries = sorted(summaries, key=lambda s: s["subject"])
    events = [(s, ae) for s in summaries for ae in s["adverse_events"]]
    return {
        "study": study,
        "synthetic": any(s["synthetic"] for s in summaries),
        "subjects": len(summaries),
        "by_status": _count_by(
            (s["status"] for s in summaries), [status.value for status in Status]
        ),
        "by_site": _count_by(s["site"] for s in summaries),
        "infusions": _infusions(summaries),
        "adverse_events": _adverse_events(events),
        "deaths": [
            {
                "subject": s["subject"],
                "died_on": s["death"].get("died_on"),
                "cause": s["death"].get("cause"),
                "entry": s["death"]["entry"],
            }
            for s in summaries
            if s["death"] is not None
        ],
        "responses": _responses(summaries, protocol_for(study).schedule.response_months),
        "notifications": [
            {
                "subject": s["subject"],
                "site": s["site"],
                "adverse_event": ae["adverse_event"],
                "term": ae["term"],
                "entry": ae["entry"],
                "due_on": ae["notification"]["due_on"],
                "days_allowed": ae["notification"]["days_allowed"],
                "first_notified_on": ae["notification"]["first_notified_on"],
                "rule_set": ae["notification"]["rule_set"],
            }
            for s, ae in events
            if ae.get("notification") is not None
        ],
    }


def judged_on(clock: dict[str, Any], today: date) -> dict[str, Any]:
    """A notification clock (``due_on``, ``first_notified_on``) with its status and days late
    as read on ``today``: met or late once made, whatever the day; else pending until its due
    date and overdue after it. A subject's page reads its clocks by this too."""
    due_on = date.fromisoformat(clock["due_on"])
    first = clock["first_notified_on"]
    if first is not None:
        late = (date.fromisoformat(first) - due_on).days
        status, days_late = (ClockStatus.LATE, late) if late > 0 else (ClockStatus.MET, 0)
    else:
        overdue = (today - due_on).days
        status, days_late = (
            (ClockStatus.OVERDUE, overdue) if overdue > 0 else (ClockStatus.PENDING, 0)
        )
    return {**clock, "status": status.value, "days_late": days_late}


def as_of(stored: Dashboard, today: date) -> Dashboard:
    """The dashboard as read on ``today``: each notification's status judged on that day.

    A notification made is met or late whatever the day (it compares two recorded dates); one
    not made is pending until its due date and overdue after it.
    """
    notifications = [judged_on(item, today) for item in stored["notifications"]]
    by_status = _count_by(
        (n["status"] for n in notifications), [status.value for status in ClockStatus]
    )
    return {
        **stored,
        "as_of": today.isoformat(),
        "notifications": notifications,
        "notifications_by_status": by_status,
        "overdue_notifications": [n for n in notifications if n["status"] == "overdue"],
    }


def _count_by(values: Any, known: Sequence[str] = ()) -> dict[str, int]:
    counts = dict.fromkeys(known, 0)
    for value in values:
        counts[str(value)] = counts.get(str(value), 0) + 1
    return dict(sorted(counts.items()))


def _infusions(summaries: Sequence[Summary]) -> dict[str, Any]:
    given = [len(s["msc_infusions"]) for s in summaries]
    return {
        "given": sum(given),
        "subjects_infused": sum(1 for n in given if n),
        "by_subject": {s["subject"]: n for s, n in zip(summaries, given, strict=True) if n},
        "infusion_reactions": sum(
            1 for s in summaries for i in s["msc_infusions"] if i.get("infusion_reaction")
        ),
    }


def _adverse_events(events: Sequence[tuple[Summary, dict[str, Any]]]) -> dict[str, Any]:
    aes = [ae for _, ae in events]
    return {
        "reported": len(aes),
        "by_grade": _count_by((ae["grade"] for ae in aes), GRADES),
        "by_seriousness": {
            "serious": sum(1 for ae in aes if ae["serious"]),
            "not_serious": sum(1 for ae in aes if not ae["serious"]),
            "by_criterion": _count_by(
                (c for ae in aes for c in ae.get("seriousness", [])),
                [c.value for c in SeriousnessCriterion],
            ),
        },
        "by_msc_relatedness": {
            "related": sum(1 for ae in aes if ae["related_to_msc"]),
            "not_related": sum(1 for ae in aes if not ae["related_to_msc"]),
            "by_assessment": _count_by(
                (ae["relatedness_msc"] for ae in aes), [r.value for r in Relatedness]
            ),
        },
        "by_category": _count_by(ae["category"] for ae in aes),
    }


def _responses(summaries: Sequence[Summary], scheduled: Sequence[int]) -> dict[str, Any]:
    categories = [c.value for c in ResponseCategory]
    months: dict[str, Any] = {}
    for month in sorted({*scheduled, *(r["month"] for s in summaries for r in s["responses"])}):
        found = [r for s in summaries for r in s["responses"] if r["month"] == month]
        months[str(month)] = {
            "criteria": _count_by((r["criteria"] for r in found), categories),
            "investigator": _count_by(
                (r["investigator"] or "not_assessed" for r in found),
                [*categories, "not_assessed"],
            ),
            "agreement": _count_by(r["agreement"] for r in found),
        }
    return months
