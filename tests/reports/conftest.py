"""A store with one followed subject (a correction, a void, a serious adverse event) for reports.

Built once per module: the records go through ``Records.record`` as a site's signed
submissions do.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from api.console import main
from domain.account import Role
from infrastructure.bootstrap import Store
from tests.conftest import (
    ELIGIBLE,
    Person,
    make_settings,
    new_store,
    open_person,
    reader_env,
    scratch_database,
)

SUBJECT = "RP-01"
CORRECTED_ENTRY = 14  # a blood count, its haemoglobin corrected by entry 19
VOIDED_ENTRY = 17  # a platelet transfusion, voided by entry 20
CHART_DPI = 40

_REPORTERS: dict[Path, dict[str, str]] = {}


def reporter(store: Store) -> dict[str, str]:
    """The store's sponsor data manager (made at the first report), who may run every report."""
    home = store.settings.home
    if home not in _REPORTERS:
        _REPORTERS[home] = reader_env(store, Role.SPONSOR_DATA_MANAGER, "dm1")
    return _REPORTERS[home]


def report(store: Store, *args: str, person: dict[str, str] | None = None) -> Result:
    """``sealtrail report ARGS`` on the store, run by ``person`` (default: its data manager)."""
    env = {
        "SEALTRAIL_HOME": str(store.settings.home),
        "SEALTRAIL_DATABASE_URL": store.settings.database_url.render_as_string(False),
        **(reporter(store) if person is None else person),
    }
    return CliRunner().invoke(main, ["report", *args], env=env, catch_exceptions=False)


def q(value: str, unit: str) -> dict[str, str]:
    return {"value": value, "unit": unit}


def count(on: str, hb: str, anc: str, plt: str) -> dict[str, Any]:
    return {
        "collected_on": on,
        "results": {
            "haemoglobin": q(hb, "g/dL"),
            "neutrophils": q(anc, "10^9/L"),
            "platelets": q(plt, "10^9/L"),
            "reticulocytes": q("15", "10^9/L"),
        },
        "reticulocyte_method": "manual",
    }


def infusion(number: int, at: str, lot: str) -> dict[str, Any]:
    vitals = {"heart_rate": q("80", "/min"), "temperature": q("36.6", "Cel")}
    return {
        "infusion_number": number,
        "dose": q("2.7", "10^6 cells/kg"),
        "product_lot": lot,
        "donor_code": "UD-01",
        "viability": q("95", "%"),
        "given_at": at,
        "vital_signs_before": vitals,
        "vital_signs_after": vitals,
        "infusion_reaction": False,
    }


RECORDS: list[tuple[str, dict[str, Any]]] = [
    ("Screened", {"site": "RP", "sex": "F", "age": 34, "screened_on": "2011-02-14"}),
    ("ConsentObtained", {"tcle_version": "2.0", "consented_on": "2011-02-14"}),
    ("EligibilityAssessed", {"criteria": ELIGIBLE, "assessed_on": "2011-02-18"}),
    ("Enrolled", {"enrolled_on": "2011-02-21"}),
    ("BloodCountRecorded", count("2011-02-21", "6.8", "0.31", "9")),
    *[
        ("RatgDoseGiven", {"day": d, "dose": q("3.5", "mg/kg"), "given_on": f"2011-02-{21 + d}"})
        for d in range(1, 6)
    ],
    ("CyclosporineStarted", {"dose": q("5", "mg/kg/day"), "started_on": "2011-02-22"}),
    ("MscInfusionGiven", infusion(1, "2011-03-10T13:30:00Z", "MSC-2011-014")),
    ("TransfusionGiven", {"given_on": "2011-03-12", "product": "red_cells", "units": 2}),
    ("BloodCountRecorded", count("2011-03-14", "7.0", "0.28", "11")),
    ("MscInfusionGiven", infusion(2, "2011-03-17T13:30:00Z", "MSC-2011-015")),
    (
        "AdverseEventReported",
        {
            "adverse_event": "AE-01",
            "term": "Febrile neutropenia",
            "category": "febrile_neutropenia",
            "grade": 3,
            "serious": True,
            "seriousness": ["hospitalisation"],
            "relatedness_msc": "unlikely",
            "relatedness_ratg": "possible",
            "relatedness_cyclosporine": "unlikely",
            "expected": True,
            "onset_on": "2011-03-25",
            "learned_on": "2011-03-26",
            "outcome": "recovering",
        },
    ),
    ("TransfusionGiven", {"given_on": "2011-03-26", "product": "platelets", "units": 1}),
    ("BloodCountRecorded", count("2011-03-28", "7.4", "0.42", "12")),
    (
        "EntryCorrected",
        {
            "entry": CORRECTED_ENTRY,
            "entry_kind": "BloodCountRecorded",
            "changes": {
                "results": {
                    "old": count("2011-03-14", "7.0", "0.28", "11")["results"],
                    "new": count("2011-03-14", "7.1", "0.28", "11")["results"],
                }
            },
            "reason": "transcription error: the lab report reads 7.1",
        },
    ),
    (
        "EntryVoided",
        {
            "entry": VOIDED_ENTRY,
            "entry_kind": "TransfusionGiven",
            "reason": "entered for the wrong subject",
        },
    ),
    (
        "SeriousAdverseEventNotified",
        {
            "adverse_event": "AE-01",
            "notified_on": "2011-03-30",
            "recipient": "CONEP",
            "follow_up": False,
        },
    ),
    (
        "AdverseEventFollowedUp",
        {
            "adverse_event": "AE-01",
            "followed_up_on": "2011-04-05",
            "changes": {"outcome": "recovered", "resolved_on": "2011-04-02"},
        },
    ),
    (
        "AdverseEventReported",
        {
            "adverse_event": "AE-02",
            "term": "Nausea",
            "category": "other",
            "grade": 1,
            "serious": False,
            "seriousness": [],
            "relatedness_msc": "unlikely",
            "relatedness_ratg": "unlikely",
            "relatedness_cyclosporine": "possible",
            "expected": True,
            "onset_on": "2011-04-03",
            "learned_on": "2011-04-04",
            "outcome": "recovered",
            "resolved_on": "2011-04-04",
        },
    ),
    (
        "ProtocolDeviationRecorded",
        {
            "occurred_on": "2011-03-20",
            "category": "schedule",
            "description": "Blood count taken two days out of window",
            "major": False,
        },
    ),
]


def coordinator_in(store: Store) -> Person:
    """A site coordinator of RP with a registered key."""
    return open_person(store, "coord1")


@pytest.fixture(scope="module")
def followed(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Store]:
    """A store holding RP-01's records (and a screen failure, RP-02): on SQLite, or on the
    backend a test names (indirectly)."""
    home: Path = tmp_path_factory.mktemp("reports")
    on_postgres = getattr(request, "param", "sqlite") == "postgres"
    with scratch_database() if on_postgres else nullcontext(None) as url:
        yield from _followed(home, url)


def _followed(home: Path, url: str | None) -> Iterator[Store]:
    store = new_store(make_settings(home, url))
    try:
        coordinator = coordinator_in(store)
        for kind, data in RECORDS:
            coordinator.record(store, SUBJECT, kind, data)
        for kind, data in [
            ("Screened", {"site": "RP", "sex": "M", "age": 70, "screened_on": "2011-03-01"}),
            ("ScreenFailed", {"failed_on": "2011-03-02", "reason": "age above 65"}),
        ]:
            coordinator.record(store, "RP-02", kind, data)
        yield store
    finally:
        store.close()
