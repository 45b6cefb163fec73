"""A subject's course through NCT01297972 as signed submissions, for the projection tests.

Every record goes through ``Records.record`` with a real signature, as a site's would. The
course has what every view reads: a baseline count, rATG, two MSC infusions, weekly counts,
transfusions before and after the first infusion, an infection and a febrile neutropenia, a
serious adverse event notified late and one never notified, a month-3 response, a correction
and a void.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from domain.account import Role
from infrastructure.bootstrap import Store
from tests.conftest import BACKENDS, ELIGIBLE, Person, open_person, store_on

CELLS = "10^6 cells/kg"
VITALS = {
    "heart_rate": {"value": "82", "unit": "/min"},
    "temperature": {"value": "36.6", "unit": "Cel"},
}

Record = tuple[str, dict[str, Any]]


def count(on: str, hb: str, anc: str, plt: str, ret: str = "15") -> Record:
    """A blood count in the protocol's units."""
    return (
        "BloodCountRecorded",
        {
            "collected_on": on,
            "results": {
                "haemoglobin": {"value": hb, "unit": "g/dL"},
                "neutrophils": {"value": anc, "unit": "10^9/L"},
                "platelets": {"value": plt, "unit": "10^9/L"},
                "reticulocytes": {"value": ret, "unit": "10^9/L"},
            },
            "reticulocyte_method": "automated",
        },
    )


def infusion(number: int, given_at: str, dose: str = "2.7") -> Record:
    """An MSC infusion without reaction."""
    return (
        "MscInfusionGiven",
        {
            "infusion_number": number,
            "dose": {"value": dose, "unit": CELLS},
            "product_lot": f"MSC-2011-0{number}",
            "donor_code": "D-07",
            "viability": {"value": "92", "unit": "%"},
            "given_at": given_at,
            "vital_signs_before": VITALS,
            "vital_signs_after": VITALS,
            "infusion_reaction": False,
        },
    )


def transfusion(on: str, product: str, units: int) -> Record:
    """Red cells or platelets."""
    return ("TransfusionGiven", {"given_on": on, "product": product, "units": units})


def adverse_event(name: str, category: str, onset: str, **fields: Any) -> Record:
    """A grade-3 adverse event, not serious unless the fields say so."""
    data = {
        "adverse_event": name,
        "term": {"febrile_neutropenia": "Febrile neutropenia", "infection": "Pneumonia"}.get(
            category, "Hypertension"
        ),
        "category": category,
        "grade": 3,
        "serious": False,
        "seriousness": [],
        "relatedness_msc": "unlikely",
        "relatedness_ratg": "possible",
        "relatedness_cyclosporine": "unrelated",
        "expected": True,
        "onset_on": onset,
        "learned_on": onset,
        "outcome": "recovered",
        "resolved_on": onset,
        **fields,
    }
    if category == "infection":
        data.setdefault("pathogen", "bacterial")
    return ("AdverseEventReported", data)


def opening(code: str = "RP-101", site: str = "RP") -> list[Record]:
    """Screening to enrolment."""
    return [
        ("Screened", {"site": site, "sex": "F", "age": 34, "screened_on": "2011-02-14"}),
        ("ConsentObtained", {"tcle_version": "2.0", "consented_on": "2011-02-14"}),
        ("EligibilityAssessed", {"criteria": ELIGIBLE, "assessed_on": "2011-02-18"}),
        ("Enrolled", {"enrolled_on": "2011-02-21"}),
    ]


def course() -> list[Record]:
    """The whole course of one subject (entries 1-22); day 0 is 2011-03-10."""
    return [
        *opening(),  # 1-4
        count("2011-02-21", "6.8", "0.31", "9"),  # 5: week -1 (day -17)
        transfusion("2011-02-25", "red_cells", 2),  # 6: before the first infusion
        (
            "RatgDoseGiven",
            {"day": 1, "dose": {"value": "3.5", "unit": "mg/kg"}, "given_on": "2011-03-01"},
        ),  # 7
        count("2011-03-05", "7.0", "0.30", "10"),  # 8: week 0 (day -5)
        infusion(1, "2011-03-10T13:00:00Z"),  # 9: day 0, week 1
        count("2011-03-11", "7.1", "0.35", "11"),  # 10: week 1
        count("2011-03-14", "7.3", "0.40", "12"),  # 11: week 1, the week's count
        transfusion("2011-03-12", "platelets", 1),  # 12: week 1
        infusion(2, "2011-03-17T13:00:00Z", dose="1.35"),  # 13: day 7, week 2
        adverse_event("AE-01", "infection", "2011-03-18"),  # 14: week 2
        adverse_event(  # 15: week 3, serious, notified late
            "AE-02",
            "febrile_neutropenia",
            "2011-03-25",
            serious=True,
            seriousness=["hospitalisation"],
            outcome="recovered",
        ),
        (
            "SeriousAdverseEventNotified",
            {
                "adverse_event": "AE-02",
                "notified_on": "2011-04-15",
                "recipient": "CONEP",
                "follow_up": False,
            },
        ),  # 16
        count("2011-06-01", "9.5", "0.9", "40"),  # 17: day 83, week 12
        (
            "ResponseAssessed",
            {"month": 3, "response": "partial", "assessed_on": "2011-06-10"},
        ),  # 18
        (  # 19: corrects entry 11's haemoglobin
            "EntryCorrected",
            {
                "entry": 11,
                "entry_kind": "BloodCountRecorded",
                "changes": {
                    "results": {
                        "old": count("2011-03-14", "7.3", "0.40", "12")[1]["results"],
                        "new": count("2011-03-14", "7.8", "0.40", "12")[1]["results"],
                    }
                },
                "reason": "transcription error",
            },
        ),
        (
            "EntryVoided",
            {"entry": 12, "entry_kind": "TransfusionGiven", "reason": "wrong subject"},
        ),  # 20
        transfusion("2011-03-13", "platelets", 2),  # 21: week 1, replaces the void
        adverse_event(  # 22: serious, never notified: overdue today
            "AE-03",
            "other",
            "2011-06-20",
            serious=True,
            seriousness=["important_medical_event"],
            outcome="recovering",
            resolved_on=None,
        ),
    ]


def record_all(store: Store, person: Person, records: list[Record], code: str = "RP-101") -> None:
    """Record each, in order, through the application's signed write path."""
    for kind, data in records:
        person.record(store, code, kind, {k: v for k, v in data.items() if v is not None})


@dataclass
class Followed:
    """A store with RP-101's whole course, and its people by user id: ``coord1`` (coordinator
    at RP, who recorded the course), ``coord9`` (coordinator at SP) and ``auditor1``."""

    store: Store
    people: dict[str, Person]


@pytest.fixture(scope="module", params=BACKENDS)
def followed(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Followed]:
    """A store with RP-101's whole course, shared by a module's read-only tests; once on
    SQLite and once on PostgreSQL."""
    backend = str(request.param)
    with store_on(backend, tmp_path_factory.mktemp(f"followed-{backend}"), request) as store:
        people = {
            "coord1": open_person(store, "coord1", printed_name="Ana Souza"),
            "coord9": open_person(store, "coord9", printed_name="Caio Reis", sites=("SP",)),
            "auditor1": open_person(
                store, "auditor1", printed_name="Dora Alves", role=Role.AUDITOR, sites=()
            ),
        }
        record_all(store, people["coord1"], course())
        yield Followed(store, people)
