"""The clinical facts of one subject, derived from the records that count.

The thresholds and clocks are the protocol's; the arithmetic is :mod:`domain.clinical`'s. This
module only reads a :class:`~domain.subject.Subject`'s entries (after corrections, without
voided ones) into the plain values those functions take.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from domain.clinical import (
    BloodCount,
    MarrowExam,
    NotificationClock,
    ResponseComparison,
    SeverityAssessment,
    Transfusion,
    camitta_severity,
    compare_with_investigator,
    hematologic_response,
    notification_clock,
)
from domain.quantities import Quantity
from domain.subject import Entry, Subject
from domain.subject.disposition import ResponseAssessed
from domain.subject.measurements import BloodCountRecorded, BoneMarrowExamined, TransfusionGiven
from domain.subject.safety import SeriousAdverseEventNotified
from domain.subject.treatment import CyclosporineTroughMeasured, RatgDoseGiven

DAYS_PER_MONTH_OF_FOLLOW_UP = 30.4375
"""An average calendar month (365.25 / 12 days), for follow-up in months."""


def blood_counts(subject: Subject) -> list[tuple[Entry, BloodCount]]:
    """Every blood count that counts, by collection date, with its entry."""
    counts = []
    for entry in subject.live(BloodCountRecorded):
        results: Mapping[str, Quantity] = entry["results"]
        counts.append(
            (
                entry,
                BloodCount(
                    collected_on=entry["collected_on"],
                    haemoglobin=_value_of(results, "haemoglobin"),
                    neutrophils=_value_of(results, "neutrophils"),
                    platelets=_value_of(results, "platelets"),
                    reticulocytes=_value_of(results, "reticulocytes"),
                    reticulocyte_method=entry["reticulocyte_method"],
                ),
            )
        )
    return sorted(counts, key=lambda pair: (pair[1].collected_on, pair[0].version))


def _value_of(results: Mapping[str, Quantity], analyte: str) -> Decimal | None:
    quantity = results.get(analyte)
    return None if quantity is None else quantity.value


def transfusions(subject: Subject) -> list[Transfusion]:
    """Every transfusion that counts, by date."""
    given = [
        Transfusion(given_on=e["given_on"], product=e["product"], units=e["units"])
        for e in subject.live(TransfusionGiven)
    ]
    return sorted(given, key=lambda t: t.given_on)


def trough_levels(subject: Subject) -> list[tuple[Entry, date, Decimal]]:
    """Every cyclosporine trough level that counts (in the protocol's unit), by collection
    date, with its entry."""
    levels = [
        (entry, entry["collected_on"], entry["level"].value)
        for entry in subject.live(CyclosporineTroughMeasured)
    ]
    return sorted(levels, key=lambda found: (found[1], found[0].version))


def marrow_exams(subject: Subject) -> list[MarrowExam]:
    """Every marrow examination that counts, by date."""
    return [exam for _, exam in _marrow_exams_with_entries(subject)]


def _marrow_exams_with_entries(subject: Subject) -> list[tuple[Entry, MarrowExam]]:
    exams = [
        (e, MarrowExam(examined_on=e["examined_on"], cellularity_percent=e["cellularity"].value))
        for e in subject.live(BoneMarrowExamined)
    ]
    return sorted(exams, key=lambda pair: pair[1].examined_on)


def treatment_start(subject: Subject) -> date | None:
    """Day 1 of treatment: the first rATG dose, else the first MSC infusion."""
    ratg: list[date] = [e["given_on"] for e in subject.live(RatgDoseGiven)]
    if ratg:
        return min(ratg)
    infusions = [d for e in subject.infusions if (d := subject.dated_on(e)) is not None]
    return min(infusions, default=None)


def baseline_severity(subject: Subject) -> SeverityAssessment:
    """Camitta severity before treatment: the last count and marrow up to treatment start."""
    return baseline(subject).assessment


@dataclass(frozen=True)
class Baseline:
    """Camitta severity before treatment, and the entries of the count and marrow it read."""

    assessment: SeverityAssessment
    count_entry: int | None
    marrow_entry: int | None


def baseline(subject: Subject) -> Baseline:
    """The baseline severity with its sources: the last count and the last marrow examination
    up to the treatment start (all of them before it starts)."""
    start = treatment_start(subject)
    counts = [(e, c) for e, c in blood_counts(subject) if start is None or c.collected_on <= start]
    exams = [
        (e, m)
        for e, m in _marrow_exams_with_entries(subject)
        if start is None or m.examined_on <= start
    ]
    count = counts[-1] if counts else None
    exam = exams[-1] if exams else None
    return Baseline(
        camitta_severity(
            None if count is None else count[1],
            None if exam is None else exam[1],
            subject.protocol.severity,
        ),
        None if count is None else count[0].version,
        None if exam is None else exam[0].version,
    )


@dataclass(frozen=True)
class ResponseAtTimepoint:
    """The criteria-based response at a month beside the investigator's, and their entries."""

    comparison: ResponseComparison
    count_entry: int | None
    investigator_entry: int | None


def responses(subject: Subject) -> list[ResponseAtTimepoint]:
    """The hematologic response at each of the protocol's months (empty before treatment)."""
    start = treatment_start(subject)
    if start is None:
        return []
    protocol = subject.protocol
    counts = blood_counts(subject)
    given = transfusions(subject)
    death = subject.death
    died_on = None if death is None else death["died_on"]
    assessed = {e["month"]: e for e in subject.live(ResponseAssessed)}
    found = []
    for month in protocol.schedule.response_months:
        finding = hematologic_response(
            month,
            start,
            [c for _, c in counts],
            given,
            died_on,
            protocol.response,
            protocol.severity,
        )
        investigator = assessed.get(month)
        count_entry = next(
            (e.version for e, c in reversed(counts) if c.collected_on == finding.count_used_on),
            None,
        )
        found.append(
            ResponseAtTimepoint(
                comparison=compare_with_investigator(
                    finding, None if investigator is None else investigator["response"]
                ),
                count_entry=count_entry,
                investigator_entry=None if investigator is None else investigator.version,
            )
        )
    return found


def notification_clocks(subject: Subject, today: date) -> dict[str, NotificationClock]:
    """Each serious adverse event's notification clock, by the site's adverse event id."""
    notified: dict[str, list[date]] = {}
    for entry in subject.live(SeriousAdverseEventNotified):
        notified.setdefault(entry["adverse_event"], []).append(entry["notified_on"])
    clocks = {}
    for name, event in subject.adverse_events().items():
        clock = notification_clock(
            serious=event["serious"],
            seriousness=frozenset(str(getattr(c, "value", c)) for c in event["seriousness"]),
            learned_on=event["learned_on"],
            notified_on=notified.get(name, []),
            today=today,
            clocks=subject.protocol.reporting,
        )
        if clock is not None:
            clocks[name] = clock
    return clocks


def last_dated(subject: Subject) -> date | None:
    """The latest date any record that counts is about."""
    dates = [subject.dated_on(e) for e in subject.entries.values() if e.is_live]
    return max((d for d in dates if d is not None), default=None)


def follow_up_end(subject: Subject) -> date | None:
    """Where follow-up stops: death, else end of study, else the latest record."""
    death, end = subject.death, subject.end_of_study
    if death is not None:
        return death["died_on"]  # type: ignore[no-any-return]
    if end is not None:
        return end["ended_on"]  # type: ignore[no-any-return]
    return last_dated(subject)


def follow_up_days(subject: Subject) -> int | None:
    """Days from enrolment to the end of follow-up (None when not enrolled)."""
    enrolment = subject.enrolment
    end = follow_up_end(subject)
    if enrolment is None or end is None:
        return None
    enrolled_on: date = enrolment["enrolled_on"]
    return (end - enrolled_on).days
