"""The study's outcome table: the publication's figures, computed from the subject summaries.

Every figure names the records it came from (subject and entry), so a reader can open each in
the subject's signed history; the publication's own figure stands beside it for comparison and
is never an input.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import ROUND_HALF_EVEN, Decimal
from statistics import median
from typing import Any

from domain.subject.disposition import EndOfStudyRecorded, ResponseAssessed
from domain.subject.enrolment import Enrolled
from domain.subject.measurements import BloodCountRecorded, ChimerismAssessed
from domain.subject.safety import AdverseEventReported, SubjectDied
from domain.subject.treatment import MscInfusionGiven
from projections.subject_summary import Summary

Source = dict[str, Any]
DAYS_PER_MONTH = Decimal("30.4375")
"""An average calendar month (365.25 / 12 days)."""
ENROLLED_STATUSES = frozenset({"enrolled", "withdrawn", "died", "completed", "lost_to_follow_up"})


def outcome_table(
    study: str, summaries: Sequence[Summary], published: Mapping[str, str]
) -> dict[str, Any]:
    """The outcome measures of ``study`` from its subjects' summaries."""
    enrolled = [s for s in summaries if s.get("enrolment") is not None]
    measures = [
        _enrolled(enrolled),
        *_infusions(enrolled),
        _infusion_related(enrolled),
        _deaths(enrolled),
        *_responses(enrolled, month=6),
        _engraftment(enrolled),
        _follow_up(enrolled),
    ]
    for measure in measures:
        measure["published"] = published.get(measure["measure"])
    return {
        "study": study,
        "synthetic": any(s["synthetic"] for s in summaries),
        "subjects": len(summaries),
        "publication": published.get("reference"),
        "measures": measures,
    }


def _source(summary: Summary, entry: int | None, what: str) -> Source:
    return {"subject": summary["subject"], "entry": entry, "record": what}


def _measure(measure: str, label: str, value: Any, sources: Iterable[Source]) -> dict[str, Any]:
    return {"measure": measure, "label": label, "value": value, "sources": list(sources)}


def _enrolled(enrolled: Sequence[Summary]) -> dict[str, Any]:
    return _measure(
        "enrolled",
        "Subjects enrolled",
        len(enrolled),
        (_source(s, s["enrolment"]["entry"], Enrolled.kind()) for s in enrolled),
    )


def _infusions(enrolled: Sequence[Summary]) -> list[dict[str, Any]]:
    per_subject = [len(s["msc_infusions"]) for s in enrolled]
    given = [(s, i) for s in enrolled for i in s["msc_infusions"]]
    doses = [Decimal(i["dose"]["value"]) for _, i in given]
    sources = [_source(s, i["entry"], MscInfusionGiven.kind()) for s, i in given]
    unit = given[0][1]["dose"]["unit"] if given else None
    return [
        _measure(
            "msc_infusions_per_subject",
            "MSC infusions per subject (range)",
            f"{min(per_subject)}-{max(per_subject)}" if per_subject else None,
            sources,
        ),
        _measure(
            "msc_dose_median",
            f"MSC dose per infusion, median ({unit})",
            _decimal_text(Decimal(median(doses))) if doses else None,
            sources,
        ),
        _measure(
            "msc_dose_range",
            f"MSC dose per infusion, range ({unit})",
            f"{_decimal_text(min(doses))}-{_decimal_text(max(doses))}" if doses else None,
            sources,
        ),
    ]


def _infusion_related(enrolled: Sequence[Summary]) -> dict[str, Any]:
    # Zero is a finding too: the sources are every report and infusion that was examined.
    reports = [(s, ae) for s in enrolled for ae in s["adverse_events"]]
    infusions = [(s, i) for s in enrolled for i in s["msc_infusions"]]
    related = [
        ae for _, ae in reports if ae["related_to_msc"] or ae["category"] == "infusion_reaction"
    ]
    reactions = [i for _, i in infusions if i.get("infusion_reaction")]
    return _measure(
        "infusion_related_adverse_events",
        "Infusion-related adverse events (MSC related, or an infusion reaction)",
        len(related) + len(reactions),
        [_source(s, ae["entry"], AdverseEventReported.kind()) for s, ae in reports]
        + [_source(s, i["entry"], MscInfusionGiven.kind()) for s, i in infusions],
    )


def _deaths(enrolled: Sequence[Summary]) -> dict[str, Any]:
    died = [s for s in enrolled if s["death"] is not None]
    measure = _measure(
        "deaths",
        "Deaths",
        len(died),
        (_source(s, s["death"]["entry"], SubjectDied.kind()) for s in died),
    )
    measure["causes"] = sorted(s["death"]["cause"] for s in died)
    return measure


def _responses(enrolled: Sequence[Summary], *, month: int) -> list[dict[str, Any]]:
    at_month = [(s, r) for s in enrolled for r in s["responses"] if r["month"] == month]
    measures = []
    for category in ("partial", "complete"):
        by_criteria = [(s, r) for s, r in at_month if r["criteria"] == category]
        by_investigator = [(s, r) for s, r in at_month if r["investigator"] == category]
        measure = _measure(
            f"{category}_responses_month_{month}",
            f"{category.capitalize()} hematologic responses at month {month} (investigator)",
            len(by_investigator),
            [
                _source(s, r["investigator_entry"], ResponseAssessed.kind())
                for s, r in by_investigator
            ]
            + [_source(s, r["count_entry"], BloodCountRecorded.kind()) for s, r in by_criteria],
        )
        measure["by_criteria"] = len(by_criteria)
        measure["disagreements"] = [
            {"subject": s["subject"], "criteria": r["criteria"], "investigator": r["investigator"]}
            for s, r in at_month
            if r["agreement"] == "disagree"
        ]
        measures.append(measure)
    return measures


def _engraftment(enrolled: Sequence[Summary]) -> dict[str, Any]:
    assessed = [(s, c) for s in enrolled for c in s["chimerism"]]
    detected = [(s, c) for s, c in assessed if c["donor_signal_detected"]]
    by_day: dict[str, dict[str, int]] = {}
    for _, c in assessed:
        day = by_day.setdefault(str(c["study_day"]), {"assessed": 0, "detected": 0})
        day["assessed"] += 1
        day["detected"] += int(c["donor_signal_detected"])
    measure = _measure(
        "engraftment_detected",
        "MSC engraftment detected in marrow (FISH or VNTR)",
        len(detected),
        (_source(s, c["entry"], ChimerismAssessed.kind()) for s, c in assessed),
    )
    measure["by_study_day"] = dict(sorted(by_day.items(), key=lambda item: int(item[0])))
    return measure


def _follow_up(enrolled: Sequence[Summary]) -> dict[str, Any]:
    followed = [s for s in enrolled if s["follow_up_days"] is not None]
    months = [Decimal(s["follow_up_days"]) / DAYS_PER_MONTH for s in followed]
    sources = []
    for s in followed:
        sources.append(_source(s, s["enrolment"]["entry"], Enrolled.kind()))
        end = s["death"] or s["end_of_study"]
        if end is not None:
            sources.append(
                _source(
                    s, end["entry"], SubjectDied.kind() if s["death"] else EndOfStudyRecorded.kind()
                )
            )
    return _measure(
        "median_follow_up_months",
        "Median follow-up from enrolment (months)",
        _decimal_text(Decimal(median(months)).quantize(Decimal("0.1"), ROUND_HALF_EVEN))
        if months
        else None,
        sources,
    )


def _decimal_text(value: Decimal) -> str:
    return format(value.normalize(), "f")
