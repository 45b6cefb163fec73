"""The checks and flags record kinds share, about one record's own values.

Each record kind's ``check_values`` and ``flags`` (beside its declaration, in
:mod:`domain.subject`) are made of these. They look at a single record's fields, so they apply
alike to a new record and to a corrected one (a correction is checked as the record it would
leave behind).

Impossible values (a negative count, a viability of 130 %, a unit the protocol does not use)
are refused; implausible ones (a haemoglobin of 24 g/dL) are accepted and flagged, because the
site may be right and the monitor will ask.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from domain.clinical import flag_value
from domain.errors import (
    DeathRecordDisagrees,
    SeriousnessCriterionMissing,
    UnitNotAccepted,
    ValueOutOfRange,
)
from domain.protocol import Measurement, StudyProtocol
from domain.quantities import Quantity
from domain.vocabulary import AdverseEventCategory, AdverseEventOutcome

PERCENT = "%"

Fields = Mapping[str, Any]


# -- value checks ------------------------------------------------------------------------------


def check_unit(quantity: Quantity, unit: str, what: str) -> None:
    """A value is recorded in the protocol's unit for it."""
    if quantity.unit != unit:
        raise UnitNotAccepted(
            "%(what)s is recorded in %(unit)s, not %(unit2)s",
            what=what,
            unit=unit,
            unit2=quantity.unit,
        )


def check_not_negative(quantity: Quantity, what: str) -> None:
    """Amounts, counts and concentrations cannot be negative."""
    if quantity.value < Decimal(0):
        raise ValueOutOfRange(
            "%(what)s cannot be negative (%(quantity)s)", what=what, quantity=quantity
        )


def check_amount(quantity: Quantity, unit: str, what: str) -> None:
    """In the protocol's unit and not negative."""
    check_unit(quantity, unit, what)
    check_not_negative(quantity, what)


def check_percentage(quantity: Quantity, what: str) -> None:
    """A percentage between 0 and 100."""
    check_unit(quantity, PERCENT, what)
    if not Decimal(0) <= quantity.value <= Decimal(100):
        raise ValueOutOfRange(
            "%(what)s is a percentage from 0 to 100, not %(quantity)s",
            what=what,
            quantity=quantity.value,
        )


def check_measurements(
    values: Mapping[str, Quantity], measured: Mapping[str, Measurement], what: str
) -> None:
    """Each value is one the protocol measures, in its unit, not negative."""
    unknown = sorted(set(values) - set(measured))
    if unknown:
        raise UnitNotAccepted(
            "%(what)s: %(join)s not measured by this protocol (one of: %(join2)s)",
            what=what,
            join=", ".join(unknown),
            join2=", ".join(sorted(measured)),
        )
    for name, quantity in values.items():
        check_amount(quantity, measured[name].unit, name)


def check_scheduled(value: int, schedule: tuple[int, ...], what: str, when: str) -> None:
    """A scheduled assessment falls on one of the protocol's days or months.

    ``what`` and ``when`` word the refusal: ``"chimerism is assessed"``, ``"on study day"``.
    """
    if value not in schedule:
        allowed = ", ".join(str(v) for v in schedule)
        unit = when.split()[-1]
        raise ValueOutOfRange(
            "%(what)s %(when)ss %(allowed)s, not %(unit)s %(value)s",
            what=what,
            when=when,
            allowed=allowed,
            unit=unit,
            value=value,
        )


def check_adverse_event(fields: Fields, _: StudyProtocol | None = None) -> None:
    """An adverse event's own fields agree with each other (CTCAE v5, ICH E2A)."""
    grade = fields["grade"]
    if not 1 <= grade <= 5:
        raise ValueOutOfRange("CTCAE grade %(grade)s is not one of 1-5", grade=grade)
    criteria = {c.value for c in fields["seriousness"]}
    if fields["serious"] and not criteria:
        raise SeriousnessCriterionMissing("a serious adverse event names at least one criterion")
    if not fields["serious"] and criteria:
        raise SeriousnessCriterionMissing(
            "seriousness criteria (%(join)s) given for a non-serious event",
            join=", ".join(sorted(criteria)),
        )
    outcome = fields["outcome"]
    if (grade == 5) != (outcome is AdverseEventOutcome.FATAL):
        raise DeathRecordDisagrees(
            "CTCAE grade 5 is death: grade 5 and a fatal outcome go together "
            "(grade %(grade)s, outcome %(outcome)s)",
            grade=grade,
            outcome=outcome.value,
        )
    if grade == 5 and "death" not in criteria:
        raise DeathRecordDisagrees("a grade-5 adverse event is serious by the criterion death")
    onset, learned, resolved = fields["onset_on"], fields["learned_on"], fields.get("resolved_on")
    if learned < onset:
        raise ValueOutOfRange(
            "learned of on %(learned)s, before its onset on %(onset)s", learned=learned, onset=onset
        )
    if resolved is not None and resolved < onset:
        raise ValueOutOfRange(
            "ended on %(resolved)s, before its onset on %(onset)s", resolved=resolved, onset=onset
        )
    if outcome.has_ended and resolved is None:
        raise ValueOutOfRange(
            "an outcome of %(outcome)s gives the date it ended (resolved_on)", outcome=outcome.value
        )
    infection = fields["category"] is AdverseEventCategory.INFECTION
    if infection and fields.get("pathogen") is None:
        raise ValueOutOfRange("an infection names its pathogen (or unknown)")
    if not infection and fields.get("pathogen") is not None:
        raise ValueOutOfRange("a pathogen is given for infections only")


# -- flags -------------------------------------------------------------------------------------


def measurement_flags(
    values: Mapping[str, Quantity], measured: Mapping[str, Measurement]
) -> tuple[str, ...]:
    """Each value outside its reference range or its plausible range, by name."""
    flags = []
    for name, quantity in sorted(values.items()):
        measurement = measured[name]
        for flag in flag_value(quantity.value, measurement.reference, measurement.plausible):
            flags.append(f"{name} {flag}")
    return tuple(flags)


def dose_flags(quantity: Quantity, measurement: Measurement, what: str) -> tuple[str, ...]:
    """A dose or level outside its plausible range."""
    return tuple(f"{what} {f}" for f in flag_value(quantity.value, None, measurement.plausible))
