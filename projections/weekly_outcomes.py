"""The registry's weekly outcome tables, counted in weeks from the first MSC infusion.

Weeks. Day 0 is the site-calendar date of the subject's first MSC infusion (the live infusion
given first); a record's day is its date minus day 0. Week ``n`` holds days ``7(n-1)`` to
``7n - 1``: week 1 is the infusion day and the six days after it, week 0 is the seven days
before it (the baseline week), week 26 holds day 180, the end of month 6 (six protocol months
of 30 days). In general ``week = day // 7 + 1``. The tables run from week 0 to the week of
month 6; a subject with no infusion has no table.

Per week:

- **cytopenias**: the week's blood count, i.e. the last count that counts collected in that
  week (latest collection date, then latest entry): haemoglobin (g/dL), ANC, platelets and
  reticulocytes (10^9/L), each with its entry;
- **transfusions**: red cell and platelet units given in the week; beside the weeks, the units
  given *before* the first infusion (every transfusion on record dated before day 0) and
  *after* it (day 0 to day 180);
- **infections** and **febrile neutropenia**: the adverse events of those categories, by the
  week of their onset.

The study table gives, for each week, how many subjects had a count and the median of each
value, the units transfused and the subjects transfused, and the infections and febrile
neutropenias that began. Everything comes from the records that count (after corrections,
without voided entries).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from statistics import median
from typing import Any

from domain.subject import Subject
from domain.subject.measurements import TransfusionGiven
from domain.subject_facts import blood_counts
from domain.vocabulary import AdverseEventCategory
from domain.wire import decimal_to_wire, to_wire

DAYS_PER_WEEK = 7
FIRST_WEEK = 0
"""The baseline week: the seven days before the first infusion."""
ANALYTES = ("haemoglobin", "neutrophils", "platelets", "reticulocytes")
PRODUCTS = ("red_cells", "platelets")
CATEGORIES = {
    AdverseEventCategory.INFECTION.value: "infections",
    AdverseEventCategory.FEBRILE_NEUTROPENIA.value: "febrile_neutropenia",
}

WeeklyTable = dict[str, Any]


def week_of(day: int) -> int:
    """The week a day after the first infusion falls in (day 0 is in week 1, day -1 in 0)."""
    return day // DAYS_PER_WEEK + 1


def last_day(subject: Subject) -> int:
    """Day of the end of month 6 (the protocol's safety follow-up, in its 30-day months)."""
    protocol = subject.protocol
    return protocol.schedule.safety_follow_up_months * protocol.response.days_per_month


def first_infusion_day(subject: Subject) -> tuple[date, int] | None:
    """The site-calendar date of the first live MSC infusion, and its entry."""
    dated = [
        (on, entry.version)
        for entry in subject.infusions
        if (on := subject.dated_on(entry)) is not None
    ]
    return min(dated, default=None)


def subject_weeks(subject: Subject) -> WeeklyTable:
    """The weekly outcome table of one subject (``weeks`` is empty before the first infusion)."""
    document: WeeklyTable = {
        "study": subject.study_id,
        "subject": subject.subject_code,
        "site": subject.site,
        "synthetic": subject.synthetic,
        "first_infusion": None,
        "weeks": [],
        "transfusions_before": _no_units(),
        "transfusions_after": _no_units(),
    }
    first = first_infusion_day(subject)
    if first is None:
        return document
    day_zero, infusion_entry = first
    end = last_day(subject)
    weeks: dict[int, dict[str, Any]] = {
        week: {
            "week": week,
            "from_day": DAYS_PER_WEEK * (week - 1),
            "blood_count": None,
            "transfusions": _no_units(),
            "infections": [],
            "febrile_neutropenia": [],
        }
        for week in range(FIRST_WEEK, week_of(end) + 1)
    }

    for entry, count in blood_counts(subject):  # sorted by collection date, then entry
        week = weeks.get(week_of((count.collected_on - day_zero).days))
        if week is not None:
            results = entry["results"]
            week["blood_count"] = {
                "collected_on": count.collected_on.isoformat(),
                "entry": entry.version,
                **{
                    analyte: None if results.get(analyte) is None else to_wire(results[analyte])
                    for analyte in ANALYTES
                },
            }

    for entry in subject.live(TransfusionGiven):
        day = (entry["given_on"] - day_zero).days
        product, units = entry["product"].value, entry["units"]
        if day < 0:
            _add_units(document["transfusions_before"], product, units, entry.version)
        elif day <= end:
            _add_units(document["transfusions_after"], product, units, entry.version)
        week = weeks.get(week_of(day))
        if week is not None:
            _add_units(week["transfusions"], product, units, entry.version)

    for name, event in sorted(subject.adverse_events().items()):
        column = CATEGORIES.get(event["category"].value)
        week = weeks.get(week_of((event["onset_on"] - day_zero).days))
        if column is None or week is None:
            continue
        week[column].append(
            {
                "adverse_event": name,
                "term": event["term"],
                "grade": event["grade"],
                "serious": event["serious"],
                "onset_on": event["onset_on"].isoformat(),
                "entry": event["reported_in"],
            }
        )

    document["first_infusion"] = {"given_on": day_zero.isoformat(), "entry": infusion_entry}
    document["weeks"] = list(weeks.values())
    return document


def _no_units() -> dict[str, Any]:
    return {**{product: 0 for product in PRODUCTS}, "entries": []}


def _add_units(total: dict[str, Any], product: str, units: int, entry: int) -> None:
    total[product] = total.get(product, 0) + units
    total["entries"].append(entry)


def study_weeks(study: str, tables: Sequence[WeeklyTable]) -> WeeklyTable:
    """The study's weekly table from its subjects' tables (subjects with an infusion only)."""
    infused = sorted(
        (t for t in tables if t["first_infusion"] is not None), key=lambda t: t["subject"]
    )
    weeks: dict[int, dict[str, Any]] = {}
    for table in infused:
        for row in table["weeks"]:
            week = weeks.setdefault(row["week"], _empty_study_week(row))
            count = row["blood_count"]
            if count is not None:
                week["subjects_with_count"].append(table["subject"])
                for analyte in ANALYTES:
                    if count[analyte] is not None:
                        week["_values"][analyte].append(Decimal(count[analyte]["value"]))
            transfused = False
            for product in PRODUCTS:
                week["transfusions"][product] += row["transfusions"][product]
                transfused = transfused or row["transfusions"][product] > 0
            if transfused:
                week["subjects_transfused"].append(table["subject"])
            for column in CATEGORIES.values():
                week[column] += [{"subject": table["subject"], **ae} for ae in row[column]]
    rows = []
    for number in sorted(weeks):
        row = weeks[number]
        values = row.pop("_values")
        row["median"] = {
            analyte: decimal_to_wire(_median(values[analyte])) if values[analyte] else None
            for analyte in ANALYTES
        }
        rows.append(row)
    return {
        "study": study,
        "synthetic": any(t["synthetic"] for t in tables),
        "subjects": [t["subject"] for t in infused],
        "weeks": rows,
        "transfusions_before": _study_units(infused, "transfusions_before"),
        "transfusions_after": _study_units(infused, "transfusions_after"),
    }


def _empty_study_week(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "week": row["week"],
        "from_day": row["from_day"],
        "subjects_with_count": [],
        "_values": {analyte: [] for analyte in ANALYTES},
        "transfusions": {product: 0 for product in PRODUCTS},
        "subjects_transfused": [],
        **{column: [] for column in CATEGORIES.values()},
    }


def _study_units(tables: Sequence[WeeklyTable], key: str) -> dict[str, Any]:
    return {
        **{product: sum(t[key][product] for t in tables) for product in PRODUCTS},
        "subjects": [t["subject"] for t in tables if any(t[key][p] for p in PRODUCTS)],
    }


def _median(values: list[Decimal]) -> Decimal:
    # statistics.median of Decimals stays a Decimal (the mean of the middle two when even).
    return Decimal(median(values)).normalize()
