"""SDTMIG EX, Exposure: one row per rATG dose, per cyclosporine dosing interval, per MSC infusion.

Each cyclosporine start or adjustment opens a dosing interval that the next one (or the stop)
closes: that is the rule here; which items fill EXDOSE, EXLOT, EXADJ and EXSTDTC the kinds
declare.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta

from domain.subject import EVENT_CLASSES, Entry, Record, Subject
from domain.subject.treatment import (
    CyclosporineDoseAdjusted,
    CyclosporineStarted,
    CyclosporineStopped,
    MscInfusionGiven,
    RatgDoseGiven,
)
from projections.sdtm.codes import CYCLOSPORINE, INTRAVENOUS, MSC, ORAL, RATG, SUSPENSION
from projections.sdtm.declared import declared_origin, kinds_filling, origin, with_declared
from projections.sdtm.dictionary import Dataset, Variable, identifiers, sequence
from projections.sdtm.rows import Row, day, numbered, traced
from projections.sdtm.values import declared_rows, declared_values

READS: tuple[type[Record], ...] = (
    RatgDoseGiven,
    CyclosporineStarted,
    CyclosporineDoseAdjusted,
    CyclosporineStopped,
    MscInfusionGiven,
)
"""The kinds the rules below read."""
PRODUCTS: Mapping[type[Record], tuple[str, str, str]] = {
    RatgDoseGiven: (RATG, "", INTRAVENOUS),
    CyclosporineStarted: (CYCLOSPORINE, "", ORAL),
    CyclosporineDoseAdjusted: (CYCLOSPORINE, "", ORAL),
    MscInfusionGiven: (MSC, SUSPENSION, INTRAVENOUS),
}
"""What no record states of each administration: the product's name, dose form and route."""

EX = with_declared(
    Dataset(
        "EX",
        "Exposure",
        "One record per rATG dose, per cyclosporine dosing interval and per MSC infusion, sorted "
        "by USUBJID, then the day of EXSTDTC and the entry.",
        (
            *identifiers("EX"),
            *sequence("EX"),
            Variable(
                "EXTRT",
                "Name of Actual Treatment",
                "Char",
                f"{RATG}; {CYCLOSPORINE}; {MSC}",
                f"{RatgDoseGiven.kind()}; {CyclosporineStarted.kind()}, "
                f"{CyclosporineDoseAdjusted.kind()}; {MscInfusionGiven.kind()}",
                "Named after the record kind.",
            ),
            Variable(
                "EXDOSE",
                "Dose per Administration",
                "Num",
                origin=f"{kinds_filling('EX', 'EXDOSE')}: dose.value",
                derivation="The decimal as recorded (its digits kept).",
            ),
            Variable(
                "EXDOSU",
                "Dose Units",
                "Char",
                "mg/kg (rATG); mg/kg/day (cyclosporine); 10^6 cells/kg (MSC)",
                "As EXDOSE: dose.unit",
                "As recorded (the protocol fixes each product's unit).",
            ),
            Variable(
                "EXDOSFRM",
                "Dose Form",
                "Char",
                SUSPENSION,
                "Assigned",
                f"{SUSPENSION} for MSC (cells are infused in suspension); empty for rATG and "
                "cyclosporine, whose form sealtrail does not record.",
            ),
            Variable(
                "EXROUTE",
                "Route of Administration",
                "Char",
                f"{INTRAVENOUS}, {ORAL}",
                "Assigned",
                f"{INTRAVENOUS} for rATG and MSC, {ORAL} for cyclosporine, as the protocol gives "
                "them.",
            ),
            Variable(
                "EXLOT",
                "Lot Number",
                "Char",
                origin=declared_origin("EX", "EXLOT"),
                derivation="The MSC product lot; empty for rATG and cyclosporine (not recorded).",
            ),
            Variable(
                "EXADJ",
                "Reason for Dose Adjustment",
                "Char",
                origin=declared_origin("EX", "EXADJ"),
            ),
            Variable(
                "EXSTDTC",
                "Start Date/Time of Treatment",
                "Char",
                "ISO 8601",
                declared_origin("EX", "EXSTDTC"),
                "An MSC infusion's instant in the site's local time (YYYY-MM-DDThh:mm:ss, no "
                "offset); the other records' dates.",
            ),
            Variable(
                "EXENDTC",
                "End Date/Time of Treatment",
                "Char",
                "ISO 8601",
                f"{origin(RatgDoseGiven, 'given_on')}; {origin(MscInfusionGiven, 'given_at')}; "
                f"the next {origin(CyclosporineDoseAdjusted, 'effective_on')}; "
                f"{origin(CyclosporineStopped, 'stopped_on')}",
                "rATG: the day of the dose; MSC: the day of the infusion (its end time is not "
                "recorded); cyclosporine: the day before the next adjustment takes effect (the "
                "start day if that is the same day), else the day it stopped, else empty (ongoing "
                "or not recorded).",
            ),
        ),
    ),
    READS,
)


def exposure(subject: Subject) -> list[Row]:
    """SDTMIG EX: what the subject was given, one row per administration or dosing interval.

    Rules: an rATG dose and an MSC infusion are one row each, ending on their own day; each
    cyclosporine start or adjustment opens a dosing interval that ends the day before the next
    adjustment takes effect, or on the day cyclosporine stopped. A kind no rule here reads
    whose items map to EX adds its rows as declared.
    """
    found = sorted(exposures(subject), key=lambda row: (row[1], row[3][0]))
    return numbered(subject, EX, [(entries, values) for values, _, _, entries in found])


Exposure = tuple[dict[str, str], date, date | None, list[int]]
"""An EX row's values, its first and last day (None: not known) and its source entries."""


def exposures(subject: Subject) -> list[Exposure]:
    """Every EX row of the subject, unsorted (DM reads their days, EX sorts them)."""
    found: list[Exposure] = []
    for entry in [*subject.live(RatgDoseGiven), *subject.infusions]:
        on = subject.dated_on(entry)
        assert on is not None  # both kinds are dated
        found.append((_treatment(subject, entry), on, on, traced(entry)))
    found += _cyclosporine_intervals(subject)
    found += [
        (values, on, None, entries)
        for on, _, entries, values in declared_rows(subject, EX.domain, READS)
    ]
    return found


def _cyclosporine_intervals(subject: Subject) -> list[Exposure]:
    changes = sorted(
        subject.live(CyclosporineStarted, CyclosporineDoseAdjusted),
        key=lambda e: (subject.dated_on(e), e.version),
    )
    stopped = subject.latest(CyclosporineStopped)
    found: list[Exposure] = []
    for n, entry in enumerate(changes):
        start = subject.dated_on(entry)
        assert start is not None  # both kinds are dated
        following = changes[n + 1] if n + 1 < len(changes) else stopped
        end: date | None = None
        ended_by: list[int] = []
        if following is not None:
            next_day = subject.dated_on(following)
            assert next_day is not None
            end = next_day if following is stopped else max(start, next_day - timedelta(days=1))
            ended_by = traced(following)
        values = {**_treatment(subject, entry), "EXENDTC": "" if end is None else day(end)}
        found.append((values, start, end, traced(entry, extra=ended_by)))
    return found


def _treatment(subject: Subject, entry: Entry) -> dict[str, str]:
    """An administration's row: its items as declared, and its product as the protocol names it."""
    kind = EVENT_CLASSES[entry.kind]
    name, form, route = PRODUCTS[kind]
    values = declared_values(EX.domain, kind, entry.fields, subject.protocol.time_zone)
    return {**values, "EXTRT": name, "EXDOSFRM": form, "EXROUTE": route}
