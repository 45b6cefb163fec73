"""What makes one record's values possible, and which possible values deserve a flag.

These rules look at a single record's fields, so they apply alike to a new record and to a
corrected one (a correction is checked as the record it would leave behind). Rules about a
record's place among the others (order, intervals, dates against death) are the subject's.

Impossible values (a negative count, a viability of 130 %, a unit the protocol does not use)
are refused; implausible ones (a haemoglobin of 24 g/dL) are accepted and flagged, because the
site may be right and the monitor will ask.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from domain.clinical import flag_trough, flag_value
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
MAX_TRANSFUSION_UNITS = 50
PLAUSIBLE_TRANSFUSION_UNITS = 6

Fields = Mapping[str, Any]
FieldCheck = Callable[[Fields, StudyProtocol], None]
FieldFlags = Callable[[Fields, StudyProtocol], tuple[str, ...]]


def check_record(kind: str, fields: Fields, protocol: StudyProtocol) -> None:
    """Refuse a record whose own values cannot be true under the protocol.

    Raises:
        UnitNotAccepted, ValueOutOfRange, SeriousnessCriterionMissing, DeathRecordDisagrees.
    """
    check = VALUE_CHECKS.get(kind)
    if check is not None:
        check(fields, protocol)


def record_flags(kind: str, fields: Fields, protocol: StudyProtocol) -> tuple[str, ...]:
    """Flags a reviewer should see on an accepted record (out of range, implausible)."""
    flags = FLAGS.get(kind)
    return flags(fields, protocol) if flags is not None else ()


# -- value checks ------------------------------------------------------------------------------


def check_unit(quantity: Quantity, unit: str, what: str) -> None:
    """A value is recorded in the protocol's unit for it."""
    if quantity.unit != unit:
        raise UnitNotAccepted(f"{what} is recorded in {unit}, not {quantity.unit}")


def check_not_negative(quantity: Quantity, what: str) -> None:
    """Amounts, counts and concentrations cannot be negative."""
    if quantity.value < Decimal(0):
        raise ValueOutOfRange(f"{what} cannot be negative ({quantity})")


def check_amount(quantity: Quantity, unit: str, what: str) -> None:
    """In the protocol's unit and not negative."""
    check_unit(quantity, unit, what)
    check_not_negative(quantity, what)


def check_percentage(quantity: Quantity, what: str) -> None:
    """A percentage between 0 and 100."""
    check_unit(quantity, PERCENT, what)
    if not Decimal(0) <= quantity.value <= Decimal(100):
        raise ValueOutOfRange(f"{what} is a percentage from 0 to 100, not {quantity.value}")


def check_measurements(
    values: Mapping[str, Quantity], measured: Mapping[str, Measurement], what: str
) -> None:
    """Each value is one the protocol measures, in its unit, not negative."""
    unknown = sorted(set(values) - set(measured))
    if unknown:
        raise UnitNotAccepted(
            f"{what}: {', '.join(unknown)} not measured by this protocol "
            f"(one of: {', '.join(sorted(measured))})"
        )
    for name, quantity in values.items():
        check_amount(quantity, measured[name].unit, name)


def _screened(fields: Fields, _: StudyProtocol) -> None:
    age = fields["age"]
    if not 0 <= age <= 130:
        raise ValueOutOfRange(f"age {age} is not a possible age in years")


def _ratg(fields: Fields, protocol: StudyProtocol) -> None:
    check_amount(fields["dose"], protocol.ratg.dose_unit, "rATG dose")
    day = fields["day"]
    if not 1 <= day <= protocol.ratg.days:
        raise ValueOutOfRange(f"rATG is given on days 1-{protocol.ratg.days}, not day {day}")


def _cyclosporine_dose(fields: Fields, protocol: StudyProtocol) -> None:
    check_amount(fields["dose"], protocol.cyclosporine.dose_unit, "cyclosporine dose")


def _trough(fields: Fields, protocol: StudyProtocol) -> None:
    check_amount(fields["level"], protocol.cyclosporine.trough_unit, "cyclosporine trough")


def _msc(fields: Fields, protocol: StudyProtocol) -> None:
    check_amount(fields["dose"], protocol.msc.dose_unit, "MSC dose")
    number = fields["infusion_number"]
    if not 1 <= number <= protocol.msc.max_infusions:
        raise ValueOutOfRange(
            f"MSC infusions are numbered 1-{protocol.msc.max_infusions}, not {number}"
        )
    check_percentage(fields["viability"], "cell viability")
    check_measurements(fields["vital_signs_before"], protocol.vital_signs, "vital signs before")
    check_measurements(fields["vital_signs_after"], protocol.vital_signs, "vital signs after")
    described = bool(fields.get("reaction_description"))
    if fields["infusion_reaction"] and not described:
        raise ValueOutOfRange("an infusion reaction is described (reaction_description)")
    if described and not fields["infusion_reaction"]:
        raise ValueOutOfRange("a reaction is described but infusion_reaction is false")


def _blood_count(fields: Fields, protocol: StudyProtocol) -> None:
    results = fields["results"]
    if not results:
        raise ValueOutOfRange("a blood count gives at least one result")
    check_measurements(results, protocol.labs, "blood count")


def _marrow(fields: Fields, _: StudyProtocol) -> None:
    check_percentage(fields["cellularity"], "marrow cellularity")


def _transfusion(fields: Fields, _: StudyProtocol) -> None:
    units = fields["units"]
    if not 1 <= units <= MAX_TRANSFUSION_UNITS:
        raise ValueOutOfRange(f"a transfusion is 1-{MAX_TRANSFUSION_UNITS} units, not {units}")


def _chimerism(fields: Fields, protocol: StudyProtocol) -> None:
    day = fields["study_day"]
    if day not in protocol.schedule.chimerism_days:
        days = ", ".join(str(d) for d in protocol.schedule.chimerism_days)
        raise ValueOutOfRange(f"chimerism is assessed on study days {days}, not day {day}")


def check_adverse_event(fields: Fields, _: StudyProtocol | None = None) -> None:
    """An adverse event's own fields agree with each other (CTCAE v5, ICH E2A)."""
    grade = fields["grade"]
    if not 1 <= grade <= 5:
        raise ValueOutOfRange(f"CTCAE grade {grade} is not one of 1-5")
    criteria = {c.value for c in fields["seriousness"]}
    if fields["serious"] and not criteria:
        raise SeriousnessCriterionMissing("a serious adverse event names at least one criterion")
    if not fields["serious"] and criteria:
        raise SeriousnessCriterionMissing(
            f"seriousness criteria ({', '.join(sorted(criteria))}) given for a non-serious event"
        )
    outcome = fields["outcome"]
    if (grade == 5) != (outcome is AdverseEventOutcome.FATAL):
        raise DeathRecordDisagrees(
            "CTCAE grade 5 is death: grade 5 and a fatal outcome go together "
            f"(grade {grade}, outcome {outcome.value})"
        )
    if grade == 5 and "death" not in criteria:
        raise DeathRecordDisagrees("a grade-5 adverse event is serious by the criterion death")
    onset, learned, resolved = fields["onset_on"], fields["learned_on"], fields.get("resolved_on")
    if learned < onset:
        raise ValueOutOfRange(f"learned of on {learned}, before its onset on {onset}")
    if resolved is not None and resolved < onset:
        raise ValueOutOfRange(f"ended on {resolved}, before its onset on {onset}")
    if outcome.has_ended and resolved is None:
        raise ValueOutOfRange(
            f"an outcome of {outcome.value} gives the date it ended (resolved_on)"
        )
    infection = fields["category"] is AdverseEventCategory.INFECTION
    if infection and fields.get("pathogen") is None:
        raise ValueOutOfRange("an infection names its pathogen (or unknown)")
    if not infection and fields.get("pathogen") is not None:
        raise ValueOutOfRange("a pathogen is given for infections only")


def _follow_up(fields: Fields, _: StudyProtocol) -> None:
    if not fields["changes"]:
        raise ValueOutOfRange("a follow-up changes at least one field of the adverse event")
    fixed = sorted(set(fields["changes"]) & {"adverse_event", "term", "category", "onset_on"})
    if fixed:
        raise ValueOutOfRange(
            f"a follow-up does not change {', '.join(fixed)}: correct the report instead"
        )


def _response(fields: Fields, protocol: StudyProtocol) -> None:
    month = fields["month"]
    if month not in protocol.schedule.response_months:
        months = ", ".join(str(m) for m in protocol.schedule.response_months)
        raise ValueOutOfRange(f"response is assessed at months {months}, not month {month}")


VALUE_CHECKS: dict[str, FieldCheck] = {
    "Screened": _screened,
    "RatgDoseGiven": _ratg,
    "CyclosporineStarted": _cyclosporine_dose,
    "CyclosporineDoseAdjusted": _cyclosporine_dose,
    "CyclosporineTroughMeasured": _trough,
    "MscInfusionGiven": _msc,
    "BloodCountRecorded": _blood_count,
    "BoneMarrowExamined": _marrow,
    "TransfusionGiven": _transfusion,
    "ChimerismAssessed": _chimerism,
    "AdverseEventReported": check_adverse_event,
    "AdverseEventFollowedUp": _follow_up,
    "ResponseAssessed": _response,
}


# -- flags -------------------------------------------------------------------------------------


def _measurement_flags(
    values: Mapping[str, Quantity], measured: Mapping[str, Measurement]
) -> tuple[str, ...]:
    flags = []
    for name, quantity in sorted(values.items()):
        measurement = measured[name]
        for flag in flag_value(quantity.value, measurement.reference, measurement.plausible):
            flags.append(f"{name} {flag}")
    return tuple(flags)


def _dose_flags(quantity: Quantity, measurement: Measurement, what: str) -> tuple[str, ...]:
    return tuple(f"{what} {f}" for f in flag_value(quantity.value, None, measurement.plausible))


def _ratg_flags(fields: Fields, protocol: StudyProtocol) -> tuple[str, ...]:
    course = protocol.ratg
    return _dose_flags(fields["dose"], Measurement(course.dose_unit, course.plausible), "dose")


def _cyclosporine_flags(fields: Fields, protocol: StudyProtocol) -> tuple[str, ...]:
    course = protocol.cyclosporine
    return _dose_flags(fields["dose"], Measurement(course.dose_unit, course.plausible_dose), "dose")


def _trough_flags(fields: Fields, protocol: StudyProtocol) -> tuple[str, ...]:
    course = protocol.cyclosporine
    level = fields["level"]
    return flag_trough(level.value, course.trough_target) + _dose_flags(
        level, Measurement(course.trough_unit, course.plausible_trough), "level"
    )


def _msc_flags(fields: Fields, protocol: StudyProtocol) -> tuple[str, ...]:
    schedule = protocol.msc
    dose = _dose_flags(
        fields["dose"], Measurement(schedule.dose_unit, schedule.plausible_dose), "dose"
    )
    before = _measurement_flags(fields["vital_signs_before"], protocol.vital_signs)
    after = _measurement_flags(fields["vital_signs_after"], protocol.vital_signs)
    reaction = ("infusion reaction",) if fields["infusion_reaction"] else ()
    return (
        dose
        + tuple(f"before: {f}" for f in before)
        + tuple(f"after: {f}" for f in after)
        + reaction
    )


def _blood_count_flags(fields: Fields, protocol: StudyProtocol) -> tuple[str, ...]:
    return _measurement_flags(fields["results"], protocol.labs)


def _transfusion_flags(fields: Fields, _: StudyProtocol) -> tuple[str, ...]:
    return ("units implausible",) if fields["units"] > PLAUSIBLE_TRANSFUSION_UNITS else ()


FLAGS: dict[str, FieldFlags] = {
    "RatgDoseGiven": _ratg_flags,
    "CyclosporineStarted": _cyclosporine_flags,
    "CyclosporineDoseAdjusted": _cyclosporine_flags,
    "CyclosporineTroughMeasured": _trough_flags,
    "MscInfusionGiven": _msc_flags,
    "BloodCountRecorded": _blood_count_flags,
    "TransfusionGiven": _transfusion_flags,
}
