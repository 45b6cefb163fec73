"""Measurements: blood counts, marrow examinations, transfusions and donor chimerism."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from domain.clinical import ReticulocyteMethod, TransfusionProduct
from domain.errors import ValueOutOfRange
from domain.protocol import StudyProtocol
from domain.quantities import Quantity
from domain.record_rules import (
    check_measurements,
    check_percentage,
    check_scheduled,
    measurement_flags,
)
from domain.subject.declaration import Sdtm, item
from domain.subject.record import Record, Requirement
from domain.vocabulary import ChimerismMethod

LAB_TESTS: Mapping[str, tuple[str, str]] = {
    "haemoglobin": ("HGB", "Hemoglobin"),
    "neutrophils": ("NEUT", "Neutrophils"),
    "platelets": ("PLAT", "Platelets"),
    "reticulocytes": ("RETI", "Reticulocytes"),
    "leukocytes": ("WBC", "Leukocytes"),
}
"""CDISC LBTESTCD and LBTEST of each analyte a blood count records, in the order rows take."""
MAX_TRANSFUSION_UNITS = 50
PLAUSIBLE_TRANSFUSION_UNITS = 6


class BloodCountRecorded(Record):
    """A blood count: haemoglobin in g/dL, ANC, platelets, reticulocytes, WBC in 10^9/L."""

    DATED_BY = "collected_on"
    COMMAND = "record_blood_count"
    REQUIRES = Requirement.CONSENT
    MAY_PRECEDE_CONSENT = True
    collected_on: date = item("The day the sample was collected", sdtm=Sdtm("LB", "LBDTC"))
    results: Mapping[str, Quantity] = item(
        "Each analyte's result: haemoglobin in g/dL; neutrophils, platelets, reticulocytes and "
        "leukocytes in 10^9/L",
        sdtm=Sdtm("LB", "LBORRES", test_codes=LAB_TESTS),
        named_in="labs",
    )
    reticulocyte_method: ReticulocyteMethod = item(
        "How the reticulocytes were counted", sdtm=Sdtm("LB", "LBMETHOD")
    )

    @classmethod
    def check_values(cls, fields: Mapping[str, Any], protocol: StudyProtocol) -> None:
        results = fields["results"]
        if not results:
            raise ValueOutOfRange("a blood count gives at least one result")
        check_measurements(results, protocol.labs, "blood count")

    @classmethod
    def flags(cls, fields: Mapping[str, Any], protocol: StudyProtocol) -> tuple[str, ...]:
        return measurement_flags(fields["results"], protocol.labs)


class BoneMarrowExamined(Record):
    """A bone marrow biopsy's cellularity, in %."""

    DATED_BY = "examined_on"
    COMMAND = "record_bone_marrow"
    REQUIRES = Requirement.CONSENT
    MAY_PRECEDE_CONSENT = True
    examined_on: date = item("The day of the biopsy")
    cellularity: Quantity = item("The marrow's cellularity", unit="%")

    @classmethod
    def check_values(cls, fields: Mapping[str, Any], protocol: StudyProtocol) -> None:
        check_percentage(fields["cellularity"], "marrow cellularity")


class TransfusionGiven(Record):
    """Red cells or platelets transfused, in units."""

    DATED_BY = "given_on"
    COMMAND = "give_transfusion"
    REQUIRES = Requirement.CONSENT
    given_on: date = item("The day of the transfusion")
    product: TransfusionProduct = item("Red cells or platelets")
    units: int = item("How many units were transfused", unit="units")

    @classmethod
    def check_values(cls, fields: Mapping[str, Any], protocol: StudyProtocol) -> None:
        units = fields["units"]
        if not 1 <= units <= MAX_TRANSFUSION_UNITS:
            raise ValueOutOfRange(
                "a transfusion is 1-%(max_transfusion_units)s units, not %(units)s",
                max_transfusion_units=MAX_TRANSFUSION_UNITS,
                units=units,
            )

    @classmethod
    def flags(cls, fields: Mapping[str, Any], protocol: StudyProtocol) -> tuple[str, ...]:
        return ("units implausible",) if fields["units"] > PLAUSIBLE_TRANSFUSION_UNITS else ()


class ChimerismAssessed(Record):
    """Donor MSC looked for in the marrow (FISH or VNTR) on a scheduled study day."""

    DATED_BY = "sample_collected_on"
    COMMAND = "assess_chimerism"
    REQUIRES = Requirement.ENROLMENT
    ONCE = "{method} on study day {study_day}"
    study_day: int = item("The scheduled study day: 30, 90 or 180")
    method: ChimerismMethod = item("FISH or VNTR")
    sample_collected_on: date = item("The day the marrow sample was collected")
    donor_signal_detected: bool = item("Whether donor cells were found")

    @classmethod
    def check_values(cls, fields: Mapping[str, Any], protocol: StudyProtocol) -> None:
        days = protocol.schedule.chimerism_days
        check_scheduled(fields["study_day"], days, "chimerism is assessed", "on study day")
