"""Hematologic response at a timepoint (NIH definitions), and how it compares with the
investigator's assessment.

Complete: ANC >= 1.0 x 10^9/L, haemoglobin >= 10 g/dL and platelets >= 100 x 10^9/L. Partial:
blood counts no longer meeting the criteria of severe disease (Camitta, blood-count part), but
not complete; by default also transfusion-independent. Otherwise no response. (Townsley et al.,
N Engl J Med 2017;376:1540-50, Table 2.) Every threshold and clock is a setting of the protocol
(:class:`ResponseCriteria`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import Enum

from domain.clinical._wording import grams_per_decilitre, on, per_litre
from domain.clinical.records import BloodCount, Transfusion
from domain.clinical.severity import SeverityCriteria, _severe_blood_criteria_reasons


class ResponseCategory(Enum):
    """The hematologic response at a timepoint."""

    COMPLETE = "complete"
    PARTIAL = "partial"
    NONE = "none"
    NOT_EVALUABLE = "not_evaluable"


@dataclass(frozen=True)
class ResponseCriteria:
    """The protocol's definition of a hematologic response and of when it is assessed.

    Thresholds of a complete response are inclusive (ANC of exactly 1.0 x 10^9/L is enough).

    Attributes:
        complete_neutrophils_at_least: ANC (10^9/L) of a complete response.
        complete_haemoglobin_at_least: haemoglobin (g/dL) of a complete response.
        complete_platelets_at_least: platelets (10^9/L) of a complete response.
        partial_requires_transfusion_independence: a partial response also needs the subject
            to be transfusion-independent (on by default, as many protocols require).
        complete_requires_transfusion_independence: the same for a complete response (off by
            default: the NIH definition of a complete response is the counts alone).
        transfusion_free_days: transfusion-independent means no transfusion of any product on
            this many days up to and including the day of the count assessed (56 = 8 weeks).
            A transfusion 56 days before the count leaves 56 transfusion-free days; 55 does not.
        window_days: the count assessed is the last one collected within this many days either
            side of the timepoint, both ends included.
        days_per_month: a timepoint "month n" is n times this many days after the treatment
            start. 30, because the protocol's own schedule counts in 30-day months (marrow
            chimerism at days 30, 90 and 180 for months 1, 3 and 6), and because a fixed
            number of days puts every subject's month 6 the same distance from the start,
            where calendar months would vary from 181 to 184 days.
    """

    complete_neutrophils_at_least: Decimal = Decimal("1.0")
    complete_haemoglobin_at_least: Decimal = Decimal(10)
    complete_platelets_at_least: Decimal = Decimal(100)
    partial_requires_transfusion_independence: bool = True
    complete_requires_transfusion_independence: bool = False
    transfusion_free_days: int = 56
    window_days: int = 14
    days_per_month: int = 30

    def __post_init__(self) -> None:
        if self.transfusion_free_days < 1:
            raise ValueError("transfusion independence needs at least one transfusion-free day")
        if self.window_days < 0:
            raise ValueError("the assessment window cannot be negative")
        if self.days_per_month < 1:
            raise ValueError("a month is at least one day")

    def timepoint(self, month: int, treatment_start: date) -> date:
        """The day of the month-``month`` assessment for a treatment started on that day."""
        return treatment_start + timedelta(days=month * self.days_per_month)


@dataclass(frozen=True)
class ResponseFinding:
    """The response the store computes at one timepoint from lab and transfusion records.

    Attributes:
        month: the timepoint, in months after the treatment start.
        timepoint: its date.
        category: the response.
        count_used_on: the day of the blood count assessed (None when there was none).
        transfusion_independent: whether no transfusion was given in the transfusion-free
            period up to that count (None when there was no count to assess).
        last_transfusion_on: the last transfusion on or before the count assessed, if any.
        reasons: the sentences an auditor checks it by, ending with the conclusion.
    """

    month: int
    timepoint: date
    category: ResponseCategory
    count_used_on: date | None
    transfusion_independent: bool | None
    last_transfusion_on: date | None
    reasons: tuple[str, ...]


def _at_least(
    label: str, value: Decimal | None, threshold: Decimal, shown: Callable[[Decimal], str]
) -> tuple[bool | None, str]:
    if value is None:
        return None, f"{label} not recorded"
    if value >= threshold:
        return True, f"{label} {shown(value)} is at least {shown(threshold)}"
    return False, f"{label} {shown(value)} is below {shown(threshold)}"


def _all(answers: Iterable[bool | None]) -> bool | None:
    listed = list(answers)
    if False in listed:
        return False
    if None in listed:
        return None
    return True


def _and(left: bool | None, right: bool | None) -> bool | None:
    return _all((left, right))


def _not(answer: bool | None) -> bool | None:
    return None if answer is None else not answer


def _count_in_window(
    counts: Iterable[BloodCount], timepoint: date, window_days: int
) -> BloodCount | None:
    earliest = timepoint - timedelta(days=window_days)
    latest = timepoint + timedelta(days=window_days)
    chosen: BloodCount | None = None
    for count in counts:
        # ">=": of two counts on the same day, the one given later (the later record) is used.
        if earliest <= count.collected_on <= latest and (
            chosen is None or count.collected_on >= chosen.collected_on
        ):
            chosen = count
    return chosen


def hematologic_response(
    month: int,
    treatment_start: date,
    counts: Iterable[BloodCount],
    transfusions: Iterable[Transfusion],
    died_on: date | None,
    criteria: ResponseCriteria,
    severity: SeverityCriteria,
) -> ResponseFinding:
    """The hematologic response at month ``month`` by the protocol's criteria, and why.

    The count assessed is the last one collected within ``criteria.window_days`` of the
    timepoint. A subject who died on or before the timepoint day, or has no count in the
    window, is not evaluable; so is one whose count lacks a value that could change the answer
    (the reasons name it).

    Args:
        month: months after the treatment start (at least 1).
        treatment_start: the day treatment started (day 0 of the timepoints).
        counts: every blood count of the subject, in the order recorded.
        transfusions: every transfusion of the subject.
        died_on: the day of death, if the subject died.
        criteria: the protocol's response criteria.
        severity: the protocol's Camitta thresholds (a partial response no longer meets them).
    """
    if month < 1:
        raise ValueError(f"a response is assessed at month 1 or later, not month {month}")
    timepoint = criteria.timepoint(month, treatment_start)
    window_from = timepoint - timedelta(days=criteria.window_days)
    window_to = timepoint + timedelta(days=criteria.window_days)
    reasons: list[str] = [
        f"month {month} timepoint {on(timepoint)} ({month * criteria.days_per_month} days after "
        f"the treatment start of {on(treatment_start)}); counts from {on(window_from)} to "
        f"{on(window_to)} are eligible"
    ]

    def not_evaluable(why: str) -> ResponseFinding:
        reasons.append(f"not evaluable: {why}")
        return ResponseFinding(
            month, timepoint, ResponseCategory.NOT_EVALUABLE, None, None, None, tuple(reasons)
        )

    if died_on is not None and died_on <= timepoint:
        return not_evaluable(f"died on {on(died_on)}, on or before the timepoint")
    if died_on is not None:
        reasons.append(f"died on {on(died_on)}, after the timepoint")
    count = _count_in_window(counts, timepoint, criteria.window_days)
    if count is None:
        return not_evaluable(f"no blood count between {on(window_from)} and {on(window_to)}")
    reasons.append(f"blood count of {on(count.collected_on)} assessed (the last in the window)")
    last = _last_transfusion(transfusions, count.collected_on)
    independent, independence = _transfusion_independence(count.collected_on, last, criteria)
    reasons.append(independence)
    verdict, why = _verdict(count, independent, criteria, severity)
    reasons += why
    if verdict is None:
        return not_evaluable("a value not recorded on the count assessed could change the response")
    return ResponseFinding(
        month=month,
        timepoint=timepoint,
        category=verdict,
        count_used_on=count.collected_on,
        transfusion_independent=independent,
        last_transfusion_on=None if last is None else last.given_on,
        reasons=tuple(reasons),
    )


def _last_transfusion(transfusions: Iterable[Transfusion], day: date) -> Transfusion | None:
    """The last transfusion given on or before the day, if any."""
    given = sorted((t for t in transfusions if t.given_on <= day), key=lambda t: t.given_on)
    return given[-1] if given else None


def _transfusion_independence(
    counted_on: date, last: Transfusion | None, criteria: ResponseCriteria
) -> tuple[bool, str]:
    """Whether the subject is transfusion-independent at the count, and the reason why.

    Independent means no transfusion on the ``transfusion_free_days`` days ending with the
    day of the count (a transfusion on the day of the count counts against it).
    """
    if last is None:
        return True, "transfusion-independent: no transfusion recorded up to the count"
    free_from = counted_on - timedelta(days=criteria.transfusion_free_days - 1)
    before = (counted_on - last.given_on).days
    product = last.product.value.replace("_", " ")
    what = (
        f"last transfusion {last.units} unit(s) of {product} on {on(last.given_on)}, "
        f"{before} days before the count"
    )
    if last.given_on < free_from:
        return True, (
            f"transfusion-independent: {what}; none in the "
            f"{criteria.transfusion_free_days} days up to it"
        )
    return False, (
        f"not transfusion-independent: {what}, within the "
        f"{criteria.transfusion_free_days} transfusion-free days required"
    )


def _complete_counts(
    count: BloodCount, criteria: ResponseCriteria
) -> tuple[bool | None, list[str]]:
    """Whether ANC, haemoglobin and platelets all reach a complete response, and why."""
    anc, anc_reason = _at_least(
        "ANC", count.neutrophils, criteria.complete_neutrophils_at_least, per_litre
    )
    hb, hb_reason = _at_least(
        "haemoglobin",
        count.haemoglobin,
        criteria.complete_haemoglobin_at_least,
        grams_per_decilitre,
    )
    plt, plt_reason = _at_least(
        "platelets", count.platelets, criteria.complete_platelets_at_least, per_litre
    )
    return _all((anc, hb, plt)), [anc_reason, hb_reason, plt_reason]


def _verdict(
    count: BloodCount,
    independent: bool,
    criteria: ResponseCriteria,
    severity: SeverityCriteria,
) -> tuple[ResponseCategory | None, list[str]]:
    """The response of the count assessed and the reasons, ending with the conclusion; None
    (and no conclusion) when a value not recorded could change it."""
    complete_counts, complete_reasons = _complete_counts(count, criteria)
    severe_blood, severe_reasons = _severe_blood_criteria_reasons(count, severity)
    reasons = [f"for a complete response, {r}" for r in complete_reasons]
    reasons += [f"for severe disease, {r}" for r in severe_reasons]

    transfusion_ok_complete = independent or not criteria.complete_requires_transfusion_independence
    transfusion_ok_partial = independent or not criteria.partial_requires_transfusion_independence
    complete = _and(complete_counts, transfusion_ok_complete)
    partial = _all((_not(severe_blood), _not(complete), transfusion_ok_partial))

    if complete is True:
        category = ResponseCategory.COMPLETE
        conclusion = "complete response: ANC, haemoglobin and platelets all reach the thresholds"
    elif complete is False and partial is True:
        category = ResponseCategory.PARTIAL
        conclusion = (
            "partial response: the counts no longer meet the criteria of severe disease, "
            "but the response is not complete"
        )
    elif complete is False and partial is False:
        category = ResponseCategory.NONE
        if severe_blood is True:
            conclusion = "no response: the counts still meet the criteria of severe disease"
        elif not transfusion_ok_partial:
            conclusion = (
                "no response: not transfusion-independent, which a partial response requires"
            )
        else:
            conclusion = "no response"
    else:
        return None, reasons
    return category, [*reasons, conclusion]


class Agreement(Enum):
    """How the store's response compares with the investigator's."""

    AGREE = "agree"
    DISAGREE = "disagree"
    NO_INVESTIGATOR_ASSESSMENT = "no_investigator_assessment"


@dataclass(frozen=True)
class ResponseComparison:
    """The computed response beside the investigator's, a disagreement flagged.

    Attributes:
        finding: the response computed by the store from the records.
        investigator: the investigator's assessment, None when not (yet) recorded.
        agreement: agree, disagree, or no investigator assessment.
        summary: one sentence for the report.
    """

    finding: ResponseFinding
    investigator: ResponseCategory | None
    agreement: Agreement
    summary: str

    @property
    def flagged(self) -> bool:
        """True when the two disagree: a discrepancy to resolve before the report."""
        return self.agreement is Agreement.DISAGREE


def compare_with_investigator(
    finding: ResponseFinding, investigator: ResponseCategory | None
) -> ResponseComparison:
    """Put the computed response beside the investigator's assessment of the same timepoint.

    Any difference is a disagreement, including a response the store could not evaluate
    (a count or transfusion not entered, say) that the investigator did assess.
    """
    computed = finding.category.value.replace("_", " ")
    if investigator is None:
        agreement = Agreement.NO_INVESTIGATOR_ASSESSMENT
        summary = f"month {finding.month}: computed {computed}; no investigator assessment"
    else:
        assessed = investigator.value.replace("_", " ")
        if investigator is finding.category:
            agreement = Agreement.AGREE
            summary = f"month {finding.month}: computed {computed}; investigator agrees"
        else:
            agreement = Agreement.DISAGREE
            summary = (
                f"month {finding.month}: DISAGREEMENT: computed {computed}, investigator {assessed}"
            )
    return ResponseComparison(finding, investigator, agreement, summary)
