"""The clocks of serious adverse event notification.

Under Anvisa RDC 506/2021 (trials of advanced-therapy products, in force from 1 July 2021) a
serious adverse event that caused death or threatened life is notified within 7 calendar days of
the sponsor learning of it, any other serious adverse event within 15. Each regulation is a
:class:`ReportingRuleSet` of the protocol; the one in force on the day the sponsor learned of
the event sets its clock, so an event is judged by the rules of its day. docs/regulatory.md
("The texts in force") names the source of each fact and what could not be confirmed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import Enum

from domain.clinical._wording import on
from domain.errors import ValueOutOfRange


class SeriousnessCriterion(Enum):
    """Why an adverse event is serious (ICH E2A; the CIOMS I form's boxes).

    The values are the codes the records carry.
    """

    DEATH = "death"
    LIFE_THREATENING = "life_threatening"
    HOSPITALISATION = "hospitalisation"
    DISABILITY = "disability"
    CONGENITAL_ANOMALY = "congenital_anomaly"
    IMPORTANT_MEDICAL_EVENT = "important_medical_event"


_SHORT_CLOCK = frozenset({SeriousnessCriterion.DEATH, SeriousnessCriterion.LIFE_THREATENING})


@dataclass(frozen=True)
class ReportingRuleSet:
    """One regulation's notification clocks and the day it came into force.

    Attributes:
        name: the regulation as a report cites it, e.g. "Anvisa RDC 506/2021".
        in_force_from: the first day it applies.
        fatal_or_life_threatening_days: calendar days allowed for an event that caused death
            or threatened life, counted from the day the sponsor learned of it.
        other_serious_days: calendar days allowed for any other serious adverse event.
    """

    name: str
    in_force_from: date
    fatal_or_life_threatening_days: int = 7
    other_serious_days: int = 15

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ValueError("a reporting rule set is named by the regulation it transcribes")
        if self.fatal_or_life_threatening_days < 0 or self.other_serious_days < 0:
            raise ValueError("a notification clock cannot allow negative days")


@dataclass(frozen=True)
class ReportingClocks:
    """The reporting rule sets of a protocol, the one in force chosen by date."""

    rule_sets: tuple[ReportingRuleSet, ...]

    def __post_init__(self) -> None:
        if not self.rule_sets:
            raise ValueError("a protocol needs at least one reporting rule set")
        days = [rule_set.in_force_from for rule_set in self.rule_sets]
        if len(set(days)) != len(days):
            raise ValueError("two reporting rule sets come into force on the same day")

    @property
    def earliest(self) -> ReportingRuleSet:
        """The rule set that came into force first."""
        return min(self.rule_sets, key=lambda rule_set: rule_set.in_force_from)

    def rule_set_on(self, day: date) -> ReportingRuleSet:
        """The rule set in force on ``day``: the latest to have come into force on or before it.

        Before the earliest came into force, the earliest applies (a notification clock says
        so in its reasons).
        """
        in_force = [rule_set for rule_set in self.rule_sets if rule_set.in_force_from <= day]
        if not in_force:
            return self.earliest
        return max(in_force, key=lambda rule_set: rule_set.in_force_from)


class ClockStatus(Enum):
    """Where a notification stands against its clock."""

    MET = "met"  # first notified on or before the due date
    LATE = "late"  # first notified after the due date
    OVERDUE = "overdue"  # not yet notified, and the due date has passed
    PENDING = "pending"  # not yet notified, and still due (the due date is today or later)


@dataclass(frozen=True)
class NotificationClock:
    """The notification clock of one serious adverse event.

    Attributes:
        rule_set_name: the regulation whose clock applies.
        learned_on: the day the sponsor learned of the event (day 0).
        days_allowed: calendar days the regulation allows for this event.
        due_on: the last day a notification is on time.
        first_notified_on: the day of the first notification, None when not yet notified.
        status: met, late, overdue or pending.
        days_late: days past the due date of the first notification (late) or of today
            (overdue); 0 when met or pending.
        reasons: the sentences an auditor checks it by.
    """

    rule_set_name: str
    learned_on: date
    days_allowed: int
    due_on: date
    first_notified_on: date | None
    status: ClockStatus
    days_late: int
    reasons: tuple[str, ...]


def _criteria(
    seriousness: frozenset[str] | frozenset[SeriousnessCriterion],
) -> frozenset[SeriousnessCriterion]:
    known = {criterion.value for criterion in SeriousnessCriterion}
    codes = {getattr(code, "value", code) for code in seriousness}
    unknown = sorted(str(code) for code in codes if code not in known)
    if unknown:
        raise ValueOutOfRange(
            "unknown seriousness criteria %(unknown)s; the codes are %(known)s",
            unknown=unknown,
            known=sorted(known),
        )
    return frozenset(SeriousnessCriterion(code) for code in codes)


def notification_clock(
    serious: bool,
    seriousness: frozenset[str] | frozenset[SeriousnessCriterion],
    learned_on: date,
    notified_on: Iterable[date],
    today: date,
    clocks: ReportingClocks,
) -> NotificationClock | None:
    """The notification clock of an adverse event: when it is due and whether it was met.

    Args:
        serious: whether the event is serious; a non-serious event has no clock (None).
        seriousness: its seriousness criteria, as :class:`SeriousnessCriterion` values.
            "death" or "life_threatening" sets the short clock, anything else the long one.
        learned_on: the day the sponsor learned of it; it chooses the rule set in force and
            starts the clock (due on learned_on + the days allowed, calendar days).
        notified_on: the days it was notified (initial and follow-ups); the first counts.
        today: the day of the finding, for an event not yet notified.
        clocks: the protocol's reporting rule sets.

    Raises:
        ValueOutOfRange: a seriousness code that is not a :class:`SeriousnessCriterion`, or
            seriousness criteria on an event not marked serious.
    """
    criteria = _criteria(seriousness)
    if not serious:
        if criteria:
            raise ValueOutOfRange(
                "seriousness criteria are recorded on an adverse event not marked serious"
            )
        return None

    rule_set = clocks.rule_set_on(learned_on)
    days_allowed, allowance = _days_allowed(criteria, rule_set)
    due_on = learned_on + timedelta(days=days_allowed)
    first = min(notified_on, default=None)
    status, days_late, standing = _standing(due_on, first, today)
    reasons = [
        _rule_set_in_force(learned_on, rule_set),
        allowance,
        f"due on {on(due_on)}",
        standing,
    ]

    return NotificationClock(
        rule_set_name=rule_set.name,
        learned_on=learned_on,
        days_allowed=days_allowed,
        due_on=due_on,
        first_notified_on=first,
        status=status,
        days_late=days_late,
        reasons=tuple(reasons),
    )


def _rule_set_in_force(learned_on: date, rule_set: ReportingRuleSet) -> str:
    """Which rule set's clocks apply to an event learned of that day, and why."""
    if learned_on < rule_set.in_force_from:
        return (
            f"learned of on {on(learned_on)}, before the earliest rule set ({rule_set.name}, "
            f"in force from {on(rule_set.in_force_from)}); its clocks are applied"
        )
    return (
        f"learned of on {on(learned_on)}; {rule_set.name} was in force (from "
        f"{on(rule_set.in_force_from)})"
    )


def _days_allowed(
    criteria: frozenset[SeriousnessCriterion], rule_set: ReportingRuleSet
) -> tuple[int, str]:
    """The calendar days allowed: the short clock for death or a threat to life."""
    short = sorted(criterion.value for criterion in criteria & _SHORT_CLOCK)
    if short:
        days = rule_set.fatal_or_life_threatening_days
        return days, f"{' and '.join(short)}: notify within {days} calendar days"
    days = rule_set.other_serious_days
    recorded = ", ".join(sorted(c.value for c in criteria)) or "no criterion recorded"
    return days, (
        f"serious ({recorded}), neither death nor life-threatening: notify within "
        f"{days} calendar days"
    )


def _standing(due_on: date, first: date | None, today: date) -> tuple[ClockStatus, int, str]:
    """Met or late by the first notification; overdue or pending on ``today`` without one."""
    if first is not None:
        late = (first - due_on).days
        if late <= 0:
            return ClockStatus.MET, 0, f"met: first notified on {on(first)}"
        return (
            ClockStatus.LATE,
            late,
            f"late: first notified on {on(first)}, {late} day(s) after it was due",
        )
    overdue = (today - due_on).days
    if overdue > 0:
        return (
            ClockStatus.OVERDUE,
            overdue,
            f"overdue: not notified by {on(today)}, {overdue} day(s) past due",
        )
    return (
        ClockStatus.PENDING,
        0,
        f"pending: not yet notified; {-overdue} day(s) left on {on(today)}",
    )
