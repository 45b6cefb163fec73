"""SDTMIG LB, Laboratory Test Results: each analyte of each blood count, each cyclosporine trough.

The rule here is the reference range and its indicator (the protocol's adult range, or its
trough target, and the domain's flags against them).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

from domain.clinical import ReferenceRange, flag_trough, flag_value
from domain.clinical.lab_flags import LabFlag
from domain.quantities import Quantity
from domain.subject import Record, Subject
from domain.subject.measurements import LAB_TESTS, BloodCountRecorded
from domain.subject.treatment import CyclosporineTroughMeasured
from domain.wire import decimal_to_wire
from projections.sdtm.codes import DRUG_MONITORING, HEMATOLOGY, REFERENCE_INDICATOR, TROUGH_TEST
from projections.sdtm.declared import declared_origin, origin, with_declared
from projections.sdtm.dictionary import Dataset, Variable, identifiers, sequence
from projections.sdtm.rows import Row, numbered, traced
from projections.sdtm.values import declared_records, declared_rows, declared_values

READS: tuple[type[Record], ...] = (BloodCountRecorded, CyclosporineTroughMeasured)
"""The kinds the rule below reads, in the order their rows take on a day."""
RETICULOCYTES = "reticulocytes"
"""The analyte whose counting method LBMETHOD gives."""

LB = with_declared(
    Dataset(
        "LB",
        "Laboratory Test Results",
        "One record per analyte of each blood count, and one per cyclosporine trough, sorted by "
        "USUBJID, then LBDTC, the entry and the order HGB, NEUT, PLAT, RETI, WBC.",
        (
            *identifiers("LB"),
            *sequence("LB"),
            Variable(
                "LBTESTCD",
                "Lab Test or Examination Short Name",
                "Char",
                ", ".join([*(code for code, _ in LAB_TESTS.values()), TROUGH_TEST[0]]),
                f"{origin(BloodCountRecorded, 'results')} (the analyte); "
                f"{CyclosporineTroughMeasured.kind()}",
                f"CDISC LBTESTCD of the analyte; {TROUGH_TEST[0]} is sponsor-defined (CDISC lab "
                "terminology does not cover therapeutic drug monitoring).",
            ),
            Variable(
                "LBTEST",
                "Lab Test or Examination Name",
                "Char",
                ", ".join([*(name for _, name in LAB_TESTS.values()), TROUGH_TEST[1]]),
                "As LBTESTCD",
                "The name of LBTESTCD.",
            ),
            Variable(
                "LBCAT",
                "Category for Lab Test",
                "Char",
                f"{HEMATOLOGY}, {DRUG_MONITORING}",
                "Assigned",
                f"{HEMATOLOGY} for blood counts, {DRUG_MONITORING} for troughs.",
            ),
            Variable(
                "LBORRES",
                "Result or Finding in Original Units",
                "Char",
                origin=f"{origin(BloodCountRecorded, 'results')}.<analyte>.value; "
                f"{origin(CyclosporineTroughMeasured, 'level')}.value",
                derivation="The decimal as recorded (its digits kept).",
            ),
            Variable(
                "LBORRESU",
                "Original Units",
                "Char",
                "g/dL (HGB); 10^9/L (NEUT, PLAT, RETI, WBC); ng/mL (CYCLOSPR)",
                "results.<analyte>.unit; level.unit",
            ),
            Variable(
                "LBORNRLO",
                "Reference Range Lower Limit in Orig Unit",
                "Char",
                origin="Study protocol: labs.<analyte>.reference.low; "
                "cyclosporine.trough_target.low",
                derivation="The protocol's adult reference range; for CYCLOSPR the protocol's "
                "trough target, the range the dose is corrected to.",
            ),
            Variable(
                "LBORNRHI",
                "Reference Range Upper Limit in Orig Unit",
                "Char",
                origin="Study protocol: labs.<analyte>.reference.high; "
                "cyclosporine.trough_target.high",
                derivation="As LBORNRLO.",
            ),
            Variable(
                "LBSTRESC",
                "Character Result/Finding in Std Format",
                "Char",
                origin="As LBORRES",
                derivation="LBORRES unchanged: the protocol's units are the standard units.",
            ),
            Variable(
                "LBSTRESN",
                "Numeric Result/Finding in Standard Units",
                "Num",
                origin="As LBORRES",
                derivation="LBORRES unchanged.",
            ),
            Variable(
                "LBSTRESU",
                "Standard Units",
                "Char",
                "As LBORRESU",
                "As LBORRESU",
                "LBORRESU unchanged (no conversion).",
            ),
            Variable("LBSTNRLO", "Reference Range Lower Limit-Std Units", "Num", "", "As LBORNRLO"),
            Variable("LBSTNRHI", "Reference Range Upper Limit-Std Units", "Num", "", "As LBORNRHI"),
            Variable(
                "LBNRIND",
                "Reference Range Indicator",
                "Char",
                "LOW, NORMAL, HIGH",
                "Derived (domain.clinical.flag_value, flag_trough)",
                "LOW below LBORNRLO, HIGH above LBORNRHI, NORMAL between them (both ends normal); "
                "empty when the protocol gives no range.",
            ),
            Variable(
                "LBSPEC",
                "Specimen Type",
                "Char",
                "BLOOD",
                "Assigned",
                "BLOOD for blood counts; empty for troughs (the specimen is not recorded).",
            ),
            Variable(
                "LBMETHOD",
                "Method of Test or Examination",
                "Char",
                "MANUAL, AUTOMATED",
                declared_origin("LB", "LBMETHOD"),
                "For RETI only: how the reticulocytes were counted, as recorded, upper case.",
            ),
            Variable(
                "LBTPT",
                "Planned Time Point Name",
                "Char",
                "TROUGH",
                "Assigned",
                "TROUGH for cyclosporine levels; empty for blood counts.",
            ),
            Variable(
                "LBDTC",
                "Date/Time of Specimen Collection",
                "Char",
                "ISO 8601",
                "; ".join(origin(kind, "collected_on") for kind in READS),
            ),
        ),
    ),
    READS,
)


def laboratory_results(subject: Subject) -> list[Row]:
    """SDTMIG LB: each analyte of each blood count, and each cyclosporine trough.

    Rules: results are kept as recorded (the protocol's units are the standard units, so
    LBSTRESC/LBSTRESN equal LBORRES); the reference range is the protocol's, and LBNRIND is
    the domain's flag against it (for troughs, against the protocol's trough target). A kind
    no rule here reads whose items map to LB adds its rows as declared.
    """
    protocol, time_zone = subject.protocol, subject.protocol.time_zone
    found: list[tuple[date, int, int, list[int], dict[str, str]]] = []
    order = list(LAB_TESTS)
    for entry in subject.live(BloodCountRecorded):
        results: Mapping[str, Quantity] = entry["results"]
        analytes = sorted(results, key=order.index)
        rows = declared_records(LB.domain, BloodCountRecorded, entry.fields, time_zone)
        for analyte, values in zip(analytes, rows, strict=True):
            reference = protocol.labs[analyte].reference
            flags = () if reference is None else flag_value(results[analyte].value, reference, None)
            values |= _reference(HEMATOLOGY, reference, flags)
            values["LBSPEC"] = "BLOOD"
            if analyte != RETICULOCYTES:
                values.pop("LBMETHOD", None)  # the method is the reticulocyte count's alone
            found.append(
                (entry["collected_on"], entry.version, order.index(analyte), traced(entry), values)
            )
    target = protocol.cyclosporine.trough_target
    for entry in subject.live(CyclosporineTroughMeasured):
        level: Quantity = entry["level"]
        values = declared_values(LB.domain, CyclosporineTroughMeasured, entry.fields, time_zone)
        values |= _reference(
            DRUG_MONITORING,
            ReferenceRange(target.low, target.high),
            flag_trough(level.value, target),
        )
        values["LBTPT"] = "TROUGH"
        found.append((entry["collected_on"], entry.version, len(order), traced(entry), values))
    found += [
        (on, version, len(order) + 1, entries, values)
        for on, version, entries, values in declared_rows(subject, LB.domain, READS)
    ]
    found.sort(key=lambda row: row[:3])
    return numbered(subject, LB, [(entries, values) for *_, entries, values in found])


def _reference(
    category: str, reference: ReferenceRange | None, flags: Iterable[LabFlag]
) -> dict[str, str]:
    """A result's category, the reference range it is read against and where it falls."""
    low = "" if reference is None or reference.low is None else decimal_to_wire(reference.low)
    high = "" if reference is None or reference.high is None else decimal_to_wire(reference.high)
    indicators = [REFERENCE_INDICATOR[f] for f in flags if f in REFERENCE_INDICATOR]
    return {
        "LBCAT": category,
        "LBORNRLO": low,
        "LBORNRHI": high,
        "LBSTNRLO": low,
        "LBSTNRHI": high,
        "LBNRIND": "" if reference is None else (indicators[0] if indicators else "NORMAL"),
    }
