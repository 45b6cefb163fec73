"""Severity of aplastic anaemia by the Camitta criteria.

Severe when marrow cellularity is below 25 % and at least two of: ANC below 0.5 x 10^9/L,
platelets below 20 x 10^9/L, reticulocytes below 20 x 10^9/L (manual count; below 60 x 10^9/L
automated). Very severe when, in addition, ANC is below 0.2 x 10^9/L. Every threshold is a
setting of the protocol (:class:`SeverityCriteria`); the defaults are those above.

A value that was not recorded makes the assessment "not assessable" only when it could change
the answer: cellularity of 30 % is not severe whatever the counts were.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import Enum

from domain.clinical._wording import at_least, on, per_litre, percent
from domain.clinical.records import BloodCount, MarrowExam, ReticulocyteMethod


class Severity(Enum):
    """The Camitta category of the disease at one assessment."""

    NON_SEVERE = "non_severe"
    SEVERE = "severe"
    VERY_SEVERE = "very_severe"
    NOT_ASSESSABLE = "not_assessable"


class CamittaCriterion(Enum):
    """One criterion of the Camitta definition, named so a finding can list which were met."""

    MARROW_CELLULARITY = "marrow_cellularity"
    NEUTROPHILS = "neutrophils"
    PLATELETS = "platelets"
    RETICULOCYTES = "reticulocytes"
    VERY_SEVERE_NEUTROPHILS = "very_severe_neutrophils"


@dataclass(frozen=True)
class SeverityCriteria:
    """The protocol's thresholds for severe and very severe disease (Camitta).

    Every threshold is strict: a value exactly at it does not meet it (platelets of exactly
    20 x 10^9/L are not below 20).

    Attributes:
        cellularity_below_percent: marrow cellularity below this (%) is hypocellular enough.
        neutrophils_below: ANC below this (10^9/L) meets the neutrophil criterion.
        platelets_below: platelets below this (10^9/L) meet the platelet criterion.
        reticulocytes_below_manual: reticulocytes below this (10^9/L), counted by hand.
        reticulocytes_below_automated: reticulocytes below this (10^9/L), counted by analyser.
        blood_criteria_required: how many of the three blood-count criteria must be met.
        very_severe_neutrophils_below: ANC below this (10^9/L) makes severe disease very severe.
    """

    cellularity_below_percent: Decimal = Decimal(25)
    neutrophils_below: Decimal = Decimal("0.5")
    platelets_below: Decimal = Decimal(20)
    reticulocytes_below_manual: Decimal = Decimal(20)
    reticulocytes_below_automated: Decimal = Decimal(60)
    blood_criteria_required: int = 2
    very_severe_neutrophils_below: Decimal = Decimal("0.2")

    def __post_init__(self) -> None:
        if not 1 <= self.blood_criteria_required <= 3:
            raise ValueError("between 1 and 3 of the blood-count criteria can be required")
        if self.very_severe_neutrophils_below > self.neutrophils_below:
            raise ValueError("the very severe ANC threshold cannot be above the severe one")

    def reticulocytes_below(self, method: ReticulocyteMethod) -> Decimal:
        """The reticulocyte threshold for a count made by this method."""
        if method is ReticulocyteMethod.MANUAL:
            return self.reticulocytes_below_manual
        return self.reticulocytes_below_automated


@dataclass(frozen=True)
class SeverityAssessment:
    """The Camitta category at one assessment, with the criteria met and why, in words.

    Attributes:
        severity: the category.
        criteria_met: the criteria that were met (the very severe one only when the
            disease is, or may be, severe).
        reasons: one sentence per criterion and a conclusion, in the order an auditor checks.
        count_collected_on: the day of the blood count used, if any.
        marrow_examined_on: the day of the marrow examination used, if any.
    """

    severity: Severity
    criteria_met: frozenset[CamittaCriterion]
    reasons: tuple[str, ...]
    count_collected_on: date | None
    marrow_examined_on: date | None


@dataclass(frozen=True)
class _Check:
    criterion: CamittaCriterion
    met: bool | None
    reason: str


def _below(
    criterion: CamittaCriterion,
    label: str,
    value: Decimal | None,
    threshold: Decimal,
    shown: Callable[[Decimal], str],
) -> _Check:
    if value is None:
        return _Check(criterion, None, f"{label} not recorded")
    if value < threshold:
        return _Check(criterion, True, f"{label} {shown(value)} is below {shown(threshold)}")
    return _Check(criterion, False, f"{label} {shown(value)} is not below {shown(threshold)}")


def _blood_checks(count: BloodCount | None, criteria: SeverityCriteria) -> tuple[_Check, ...]:
    if count is None:
        return (
            _Check(CamittaCriterion.NEUTROPHILS, None, "ANC not recorded (no blood count)"),
            _Check(CamittaCriterion.PLATELETS, None, "platelets not recorded (no blood count)"),
            _Check(
                CamittaCriterion.RETICULOCYTES, None, "reticulocytes not recorded (no blood count)"
            ),
        )
    method = count.reticulocyte_method.value
    return (
        _below(
            CamittaCriterion.NEUTROPHILS,
            "ANC",
            count.neutrophils,
            criteria.neutrophils_below,
            per_litre,
        ),
        _below(
            CamittaCriterion.PLATELETS,
            "platelets",
            count.platelets,
            criteria.platelets_below,
            per_litre,
        ),
        _below(
            CamittaCriterion.RETICULOCYTES,
            f"reticulocytes ({method} count)",
            count.reticulocytes,
            criteria.reticulocytes_below(count.reticulocyte_method),
            per_litre,
        ),
    )


def _blood_verdict(
    checks: tuple[_Check, ...], criteria: SeverityCriteria
) -> tuple[bool | None, str]:
    required = criteria.blood_criteria_required
    met = sum(1 for check in checks if check.met is True)
    unknown = sum(1 for check in checks if check.met is None)
    verdict = at_least(required, (check.met for check in checks))
    if verdict is True:
        return True, f"{met} of 3 blood-count criteria met (at least {required} required)"
    if verdict is False:
        also = f", even counting the {unknown} not recorded" if unknown else ""
        return False, (
            f"{met} of 3 blood-count criteria met, fewer than the {required} required{also}"
        )
    return None, (
        f"{met} of 3 blood-count criteria met and {unknown} not recorded: cannot tell whether "
        f"at least {required} are met"
    )


def meets_severe_blood_criteria(count: BloodCount, criteria: SeverityCriteria) -> bool | None:
    """Whether a blood count still meets the blood-count part of severe disease (Camitta).

    That is, at least two (``criteria.blood_criteria_required``) of ANC, platelets and
    reticulocytes below their thresholds, marrow aside. A partial response is a count that
    no longer does.

    Returns:
        True or False; None when a value not recorded could change the answer.
    """
    verdict, _ = _blood_verdict(_blood_checks(count, criteria), criteria)
    return verdict


def _severe_blood_criteria_reasons(
    count: BloodCount, criteria: SeverityCriteria
) -> tuple[bool | None, tuple[str, ...]]:
    """:func:`meets_severe_blood_criteria` with one sentence per criterion and a summary."""
    checks = _blood_checks(count, criteria)
    verdict, summary = _blood_verdict(checks, criteria)
    return verdict, (*(check.reason for check in checks), summary)


def _and(left: bool | None, right: bool | None) -> bool | None:
    if left is False or right is False:
        return False
    if left is None or right is None:
        return None
    return True


def camitta_severity(
    count: BloodCount | None, marrow: MarrowExam | None, criteria: SeverityCriteria
) -> SeverityAssessment:
    """The severity of the aplastic anaemia by the Camitta criteria, and why.

    Args:
        count: the blood count assessed (None when there is none).
        marrow: the marrow examination assessed (None when there is none). Which count goes
            with which marrow is the caller's choice; both dates are kept in the assessment.
        criteria: the protocol's thresholds.

    Returns:
        NON_SEVERE, SEVERE or VERY_SEVERE when the recorded values decide it, whatever the
        missing ones might have been; NOT_ASSESSABLE otherwise, naming what is missing.
    """
    marrow_check = _marrow_check(marrow, criteria)
    blood_checks = _blood_checks(count, criteria)
    blood, blood_summary = _blood_verdict(blood_checks, criteria)
    severe = _and(marrow_check.met, blood)

    checks: list[_Check] = [marrow_check, *blood_checks]
    reasons: list[str] = []
    if count is not None:
        reasons.append(f"blood count of {on(count.collected_on)}")
    reasons.extend(check.reason for check in checks)
    reasons.append(blood_summary)

    very: bool | None = None
    if severe is not False:
        very_check = _below(
            CamittaCriterion.VERY_SEVERE_NEUTROPHILS,
            "for very severe disease, ANC",
            None if count is None else count.neutrophils,
            criteria.very_severe_neutrophils_below,
            per_litre,
        )
        checks.append(very_check)
        reasons.append(very_check.reason)
        very = very_check.met

    severity, conclusion = _conclusion(severe, very, marrow_check, criteria)
    reasons.append(conclusion)

    return SeverityAssessment(
        severity=severity,
        criteria_met=frozenset(check.criterion for check in checks if check.met is True),
        reasons=tuple(reasons),
        count_collected_on=None if count is None else count.collected_on,
        marrow_examined_on=None if marrow is None else marrow.examined_on,
    )


def _marrow_check(marrow: MarrowExam | None, criteria: SeverityCriteria) -> _Check:
    if marrow is None:
        return _Check(
            CamittaCriterion.MARROW_CELLULARITY,
            None,
            "marrow cellularity not recorded (no marrow examination)",
        )
    return _below(
        CamittaCriterion.MARROW_CELLULARITY,
        f"marrow cellularity (examined {on(marrow.examined_on)})",
        marrow.cellularity_percent,
        criteria.cellularity_below_percent,
        percent,
    )


def _conclusion(
    severe: bool | None, very: bool | None, marrow_check: _Check, criteria: SeverityCriteria
) -> tuple[Severity, str]:
    """The Camitta category and the sentence that concludes the assessment."""
    cellularity = percent(criteria.cellularity_below_percent)
    required = criteria.blood_criteria_required
    if severe is False and marrow_check.met is False:
        return (
            Severity.NON_SEVERE,
            f"not severe: marrow cellularity is not below {cellularity}",
        )
    if severe is False:
        return (
            Severity.NON_SEVERE,
            f"not severe: fewer than {required} of the blood-count criteria met",
        )
    if severe is None:
        return (
            Severity.NOT_ASSESSABLE,
            "not assessable: a value not recorded could make the disease severe or not",
        )
    if very is True:
        return Severity.VERY_SEVERE, (
            f"very severe: marrow cellularity below {cellularity}, at least {required} "
            f"blood-count criteria met, and ANC below "
            f"{per_litre(criteria.very_severe_neutrophils_below)}"
        )
    if very is False:
        return Severity.SEVERE, (
            f"severe: marrow cellularity below {cellularity} and at least {required} "
            f"blood-count criteria met"
        )
    return Severity.NOT_ASSESSABLE, (
        "not assessable: at least severe, but ANC is not recorded, so severe and very "
        "severe cannot be told apart"
    )
