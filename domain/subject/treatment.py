"""The study treatment: rabbit ATG, oral cyclosporine and the MSC infusions."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, ClassVar

from domain.clinical import flag_trough
from domain.errors import ValueOutOfRange
from domain.protocol import Measurement, StudyProtocol
from domain.quantities import Quantity
from domain.record_rules import (
    check_amount,
    check_measurements,
    check_percentage,
    dose_flags,
    measurement_flags,
)
from domain.subject.declaration import Sdtm, item
from domain.subject.record import Record

EX_DOSE = (Sdtm("EX", "EXDOSE"), Sdtm("EX", "EXDOSU"))
EX_START = Sdtm("EX", "EXSTDTC")


class RatgDoseGiven(Record):
    """One day's dose of rabbit antithymocyte globulin (days 1-5), in mg/kg."""

    DATED_BY = "given_on"
    COMMAND = "give_ratg_dose"
    TREATMENT = True
    day: int = item("The day of the rATG course, 1-5")
    dose: Quantity = item("The day's dose", unit="mg/kg", sdtm=EX_DOSE)
    given_on: date = item("The day the dose was given", sdtm=(EX_START, Sdtm("EX", "EXENDTC")))

    @classmethod
    def check_values(cls, fields: Mapping[str, Any], protocol: StudyProtocol) -> None:
        check_amount(fields["dose"], protocol.ratg.dose_unit, "rATG dose")
        day = fields["day"]
        if not 1 <= day <= protocol.ratg.days:
            raise ValueOutOfRange(f"rATG is given on days 1-{protocol.ratg.days}, not day {day}")

    @classmethod
    def flags(cls, fields: Mapping[str, Any], protocol: StudyProtocol) -> tuple[str, ...]:
        course = protocol.ratg
        return dose_flags(fields["dose"], Measurement(course.dose_unit, course.plausible), "dose")


class CyclosporineDose(Record):
    """A cyclosporine dose in force from a date: its start, or an adjustment."""

    TREATMENT = True

    @classmethod
    def check_values(cls, fields: Mapping[str, Any], protocol: StudyProtocol) -> None:
        check_amount(fields["dose"], protocol.cyclosporine.dose_unit, "cyclosporine dose")

    @classmethod
    def flags(cls, fields: Mapping[str, Any], protocol: StudyProtocol) -> tuple[str, ...]:
        course = protocol.cyclosporine
        plausible = Measurement(course.dose_unit, course.plausible_dose)
        return dose_flags(fields["dose"], plausible, "dose")


class CyclosporineStarted(CyclosporineDose):
    """Oral cyclosporine started at a dose in mg/kg/day."""

    DATED_BY = "started_on"
    COMMAND = "start_cyclosporine"
    dose: Quantity = item("The starting dose", unit="mg/kg/day", sdtm=EX_DOSE)
    started_on: date = item("The day cyclosporine started", sdtm=EX_START)


class CyclosporineDoseAdjusted(CyclosporineDose):
    """The cyclosporine dose changed (usually to keep the trough in range), with the reason."""

    DATED_BY = "effective_on"
    COMMAND = "adjust_cyclosporine_dose"
    dose: Quantity = item("The new dose", unit="mg/kg/day", sdtm=EX_DOSE)
    effective_on: date = item("The day the new dose took effect", sdtm=EX_START)
    reason: str = item("Why the dose changed", sdtm=Sdtm("EX", "EXADJ"))


class CyclosporineStopped(Record):
    """Cyclosporine stopped, with the reason."""

    DATED_BY = "stopped_on"
    COMMAND = "stop_cyclosporine"
    stopped_on: date = item("The day cyclosporine stopped", sdtm=Sdtm("EX", "EXENDTC"))
    reason: str = item("Why cyclosporine stopped")


class CyclosporineTroughMeasured(Record):
    """A cyclosporine trough level in ng/mL (target 150-250 in NCT01297972)."""

    DATED_BY = "collected_on"
    COMMAND = "record_cyclosporine_trough"
    level: Quantity = item(
        "The trough level",
        unit="ng/mL",
        sdtm=Sdtm("LB", "LBORRES", test_codes={"level": ("CYCLOSPR", "Cyclosporine")}),
    )
    collected_on: date = item("The day the sample was collected", sdtm=Sdtm("LB", "LBDTC"))

    @classmethod
    def check_values(cls, fields: Mapping[str, Any], protocol: StudyProtocol) -> None:
        check_amount(fields["level"], protocol.cyclosporine.trough_unit, "cyclosporine trough")

    @classmethod
    def flags(cls, fields: Mapping[str, Any], protocol: StudyProtocol) -> tuple[str, ...]:
        course = protocol.cyclosporine
        level = fields["level"]
        return flag_trough(level.value, course.trough_target) + dose_flags(
            level, Measurement(course.trough_unit, course.plausible_trough), "level"
        )


class MscInfusionGiven(Record):
    """An infusion of allogeneic bone-marrow mesenchymal stromal cells, and what happened."""

    DATED_BY = "given_at"
    COMMAND = "give_msc_infusion"
    TREATMENT = True
    FIXED: ClassVar[frozenset[str]] = frozenset({"infusion_number"})
    infusion_number: int = item("The infusion's place in the sequence, from 1")
    dose: Quantity = item("The cell dose", unit="10^6 cells/kg", sdtm=EX_DOSE)
    product_lot: str = item("The product's lot", max_length=64, sdtm=Sdtm("EX", "EXLOT"))
    donor_code: str = item("The donor's code", max_length=64)
    viability: Quantity = item("Cell viability", unit="%")
    given_at: datetime = item(
        "When the infusion was given", sdtm=(EX_START, Sdtm("EX", "EXENDTC"), Sdtm("DM", "RFSTDTC"))
    )
    vital_signs_before: Mapping[str, Quantity] = item(
        "Vital signs before the infusion, each in the protocol's unit"
    )
    vital_signs_after: Mapping[str, Quantity] = item(
        "Vital signs after the infusion, each in the protocol's unit"
    )
    infusion_reaction: bool = item("Whether the subject reacted to the infusion")
    reaction_description: str | None = item(
        "Required when infusion_reaction", optional=True, multiline=True
    )

    @classmethod
    def check_values(cls, fields: Mapping[str, Any], protocol: StudyProtocol) -> None:
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

    @classmethod
    def flags(cls, fields: Mapping[str, Any], protocol: StudyProtocol) -> tuple[str, ...]:
        schedule = protocol.msc
        dose = dose_flags(
            fields["dose"], Measurement(schedule.dose_unit, schedule.plausible_dose), "dose"
        )
        before = measurement_flags(fields["vital_signs_before"], protocol.vital_signs)
        after = measurement_flags(fields["vital_signs_after"], protocol.vital_signs)
        reaction = ("infusion reaction",) if fields["infusion_reaction"] else ()
        return (
            dose
            + tuple(f"before: {f}" for f in before)
            + tuple(f"after: {f}" for f in after)
            + reaction
        )
