"""The study treatment: rabbit ATG, oral cyclosporine and the MSC infusions."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from domain.clinical import flag_trough
from domain.errors import (
    CyclosporineNotStarted,
    InfusionOutOfSequence,
    InfusionTooSoon,
    RatgDayOutOfCourse,
    ValueOutOfRange,
)
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
from domain.subject.record import Record, Requirement

if TYPE_CHECKING:
    from domain.subject.aggregate import Subject

EX_DOSE = (Sdtm("EX", "EXDOSE"), Sdtm("EX", "EXDOSU", part="unit"))
EX_START = Sdtm("EX", "EXSTDTC")


class TreatmentGiven(Record):
    """A dose of a study treatment: given to an enrolled subject still in the study, recorded in
    the protocol's unit and not negative, flagged when outside the doses the protocol finds
    plausible. Each kind says which treatment (``TREATED_WITH``) and where its dosing is."""

    TREATMENT = True
    TREATED_WITH: ClassVar[str] = ""
    """The treatment as refusals name it (``"rATG"``)."""

    @classmethod
    def dosing(cls, protocol: StudyProtocol) -> Measurement:
        """The unit the treatment's dose is recorded in and the doses found plausible."""
        raise NotImplementedError(f"{cls.__name__} says where its dosing is")

    @classmethod
    def admit(cls, subject: Subject, fields: Mapping[str, Any]) -> None:
        subject.check_treatment(cls.TREATED_WITH)

    @classmethod
    def check_values(cls, fields: Mapping[str, Any], protocol: StudyProtocol) -> None:
        check_amount(fields["dose"], cls.dosing(protocol).unit, f"{cls.TREATED_WITH} dose")

    @classmethod
    def flags(cls, fields: Mapping[str, Any], protocol: StudyProtocol) -> tuple[str, ...]:
        return dose_flags(fields["dose"], cls.dosing(protocol), "dose")


class RatgDoseGiven(TreatmentGiven):
    """One day's dose of rabbit antithymocyte globulin (days 1-5), in mg/kg."""

    DATED_BY = "given_on"
    COMMAND = "give_ratg_dose"
    TREATED_WITH = "rATG"
    day: int = item("The day of the rATG course, 1-5")
    dose: Quantity = item("The day's dose", unit="mg/kg", sdtm=EX_DOSE)
    given_on: date = item("The day the dose was given", sdtm=(EX_START, Sdtm("EX", "EXENDTC")))

    @classmethod
    def dosing(cls, protocol: StudyProtocol) -> Measurement:
        return Measurement(protocol.ratg.dose_unit, protocol.ratg.plausible)

    @classmethod
    def check_among(
        cls, subject: Subject, fields: Mapping[str, Any], *, besides: int | None
    ) -> None:
        """Each day of the course once, on consecutive dates (the day's range is checked here,
        before the dose's values)."""
        course = subject.protocol.ratg
        day: int = fields["day"]
        given_on: date = fields["given_on"]
        if not 1 <= day <= course.days:
            raise RatgDayOutOfCourse(
                "rATG is given on days 1-%(days)s, not day %(day)s", days=course.days, day=day
            )
        for earlier in subject.others(cls, besides):
            if earlier["day"] == day:
                raise RatgDayOutOfCourse(
                    "rATG day %(day)s is recorded (entry %(version)s); correct it instead",
                    day=day,
                    version=earlier.version,
                )
            expected = earlier["given_on"] + timedelta(days=day - earlier["day"])
            if given_on != expected:
                raise RatgDayOutOfCourse(
                    "rATG day %(day)s falls on %(expected)s (day %(day2)s was "
                    "%(given_on)s), not %(given_on2)s",
                    day=day,
                    expected=expected,
                    day2=earlier["day"],
                    given_on=earlier["given_on"],
                    given_on2=given_on,
                )


class CyclosporineDose(TreatmentGiven):
    """A cyclosporine dose in force from a date: its start, or an adjustment."""

    TREATED_WITH = "cyclosporine"

    @classmethod
    def dosing(cls, protocol: StudyProtocol) -> Measurement:
        course = protocol.cyclosporine
        return Measurement(course.dose_unit, course.plausible_dose)


class CyclosporineStarted(CyclosporineDose):
    """Oral cyclosporine started at a dose in mg/kg/day."""

    DATED_BY = "started_on"
    COMMAND = "start_cyclosporine"
    ONCE = "the cyclosporine start"
    dose: Quantity = item("The starting dose", unit="mg/kg/day", sdtm=EX_DOSE)
    started_on: date = item("The day cyclosporine started", sdtm=EX_START)

    @classmethod
    def check_among(
        cls, subject: Subject, fields: Mapping[str, Any], *, besides: int | None
    ) -> None:
        """The start stays before every adjustment and the stop."""
        started_on: date = fields["started_on"]
        for entry in subject.live(CyclosporineDoseAdjusted, CyclosporineStopped):
            on = subject.dated_on(entry)
            if on is not None and on < started_on:
                raise ValueOutOfRange(
                    "a %(kind)s (entry %(version)s) is dated %(on)s, before %(started_on)s",
                    kind=entry.kind,
                    version=entry.version,
                    on=on,
                    started_on=started_on,
                )


class CyclosporineDoseAdjusted(CyclosporineDose):
    """The cyclosporine dose changed (usually to keep the trough in range), with the reason."""

    DATED_BY = "effective_on"
    COMMAND = "adjust_cyclosporine_dose"
    dose: Quantity = item("The new dose", unit="mg/kg/day", sdtm=EX_DOSE)
    effective_on: date = item("The day the new dose took effect", sdtm=EX_START)
    reason: str = item("Why the dose changed", sdtm=Sdtm("EX", "EXADJ"))

    @classmethod
    def check_among(
        cls, subject: Subject, fields: Mapping[str, Any], *, besides: int | None
    ) -> None:
        check_running(subject, fields["effective_on"], besides=besides)


class CyclosporineStopped(Record):
    """Cyclosporine stopped, with the reason."""

    DATED_BY = "stopped_on"
    COMMAND = "stop_cyclosporine"
    stopped_on: date = item("The day cyclosporine stopped", sdtm=Sdtm("EX", "EXENDTC"))
    reason: str = item("Why cyclosporine stopped")

    @classmethod
    def check_among(
        cls, subject: Subject, fields: Mapping[str, Any], *, besides: int | None
    ) -> None:
        check_running(subject, fields["stopped_on"], besides=besides)


def check_running(subject: Subject, on: date, *, besides: int | None) -> None:
    """Cyclosporine is started by ``on`` and not stopped (besides by the entry corrected)."""
    started = subject.latest(CyclosporineStarted)
    if started is None:
        raise CyclosporineNotStarted(
            "%(subject_code)s has not started cyclosporine", subject_code=subject.subject_code
        )
    if on < started["started_on"]:
        raise ValueOutOfRange(
            "dated %(on)s, before cyclosporine started (%(started_on)s)",
            on=on,
            started_on=started["started_on"],
        )
    stopped = subject.others(CyclosporineStopped, besides)
    if stopped:
        raise CyclosporineNotStarted(
            "cyclosporine was stopped on %(stopped_on)s (entry %(version)s)",
            stopped_on=stopped[-1]["stopped_on"],
            version=stopped[-1].version,
        )


class CyclosporineTroughMeasured(Record):
    """A cyclosporine trough level in ng/mL (target 150-250 in NCT01297972)."""

    DATED_BY = "collected_on"
    COMMAND = "record_cyclosporine_trough"
    REQUIRES = Requirement.ENROLMENT
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


class MscInfusionGiven(TreatmentGiven):
    """An infusion of allogeneic bone-marrow mesenchymal stromal cells, and what happened."""

    DATED_BY = "given_at"
    COMMAND = "give_msc_infusion"
    TREATED_WITH = "MSC"
    FIXED: ClassVar[frozenset[str]] = frozenset({"infusion_number"})
    infusion_number: int = item("The infusion's place in the sequence, from 1")
    dose: Quantity = item("The cell dose", unit="10^6 cells/kg", sdtm=EX_DOSE)
    product_lot: str = item("The product's lot", max_length=64, sdtm=Sdtm("EX", "EXLOT"))
    donor_code: str = item("The donor's code", max_length=64)
    viability: Quantity = item("Cell viability", unit="%")
    given_at: datetime = item(
        "When the infusion was given",
        sdtm=(EX_START, Sdtm("EX", "EXENDTC", part="day"), Sdtm("DM", "RFSTDTC")),
    )
    vital_signs_before: Mapping[str, Quantity] = item(
        "Vital signs before the infusion, each in the protocol's unit", named_in="vital_signs"
    )
    vital_signs_after: Mapping[str, Quantity] = item(
        "Vital signs after the infusion, each in the protocol's unit", named_in="vital_signs"
    )
    infusion_reaction: bool = item("Whether the subject reacted to the infusion")
    reaction_description: str | None = item(
        "Required when infusion_reaction", optional=True, multiline=True
    )

    @classmethod
    def admit(cls, subject: Subject, fields: Mapping[str, Any]) -> None:
        """Numbered in order, at most the protocol's maximum."""
        super().admit(subject, fields)
        number: int = fields["infusion_number"]
        given = subject.infusions
        # The next number follows the highest infusion that counts: a voided last infusion (one
        # that did not happen) frees its number; a voided earlier one leaves a gap.
        expected = max((e["infusion_number"] for e in given), default=0) + 1
        maximum = subject.protocol.msc.max_infusions
        if number != expected or number > maximum or len(given) >= maximum:
            raise InfusionOutOfSequence(
                "infusion %(number)s given; the next is %(expected)s (at most %(maximum)s)",
                number=number,
                expected=expected,
                maximum=maximum,
            )

    @classmethod
    def check_among(
        cls, subject: Subject, fields: Mapping[str, Any], *, besides: int | None
    ) -> None:
        """Infusions are the protocol's minimum number of days apart."""
        minimum = subject.protocol.msc.min_days_between
        day = subject.as_site_date(fields["given_at"])
        others = subject.others(cls, besides)
        for other in sorted(others, key=lambda e: e["infusion_number"]):
            apart = abs((day - subject.as_site_date(other["given_at"])).days)
            if apart < minimum:
                raise InfusionTooSoon(
                    "infusions are at least %(minimum)s days apart; infusion "
                    "%(infusion_number)s was %(apart)s days from this one",
                    minimum=minimum,
                    infusion_number=other["infusion_number"],
                    apart=apart,
                )

    @classmethod
    def dosing(cls, protocol: StudyProtocol) -> Measurement:
        return Measurement(protocol.msc.dose_unit, protocol.msc.plausible_dose)

    @classmethod
    def check_values(cls, fields: Mapping[str, Any], protocol: StudyProtocol) -> None:
        super().check_values(fields, protocol)
        number = fields["infusion_number"]
        if not 1 <= number <= protocol.msc.max_infusions:
            raise ValueOutOfRange(
                "MSC infusions are numbered 1-%(max_infusions)s, not %(number)s",
                max_infusions=protocol.msc.max_infusions,
                number=number,
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
        dose = super().flags(fields, protocol)
        before = measurement_flags(fields["vital_signs_before"], protocol.vital_signs)
        after = measurement_flags(fields["vital_signs_after"], protocol.vital_signs)
        reaction = ("infusion reaction",) if fields["infusion_reaction"] else ()
        return (
            dose
            + tuple(f"before: {f}" for f in before)
            + tuple(f"after: {f}" for f in after)
            + reaction
        )
