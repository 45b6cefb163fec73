"""A subject whose haemoglobin was corrected, recorded through the signed path, on each backend."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.wire import instant_from_wire, instant_to_wire
from infrastructure.bootstrap import Store
from tests.conftest import Person, PersonFactory

SUBJECT = "RP-101"
OTHER = "RP-102"
STREAM = f"NCT01297972/{SUBJECT}"


def screening(**overrides: Any) -> dict[str, Any]:
    return {"site": "RP", "sex": "F", "age": 34, "screened_on": "2011-02-14", **overrides}


CONSENT = {"tcle_version": "2.0", "consented_on": "2011-02-14"}


def haemoglobin(value: str) -> dict[str, Any]:
    return {"haemoglobin": {"value": value, "unit": "g/dL"}}


def blood_count(value: str, collected_on: str = "2011-02-21") -> dict[str, Any]:
    return {
        "collected_on": collected_on,
        "results": haemoglobin(value),
        "reticulocyte_method": "automated",
    }


def correction(entry: int, old: str, new: str) -> dict[str, Any]:
    return {
        "entry": entry,
        "entry_kind": "BloodCountRecorded",
        "changes": {"results": {"old": haemoglobin(old), "new": haemoglobin(new)}},
        "reason": "transcription error: 6.8 read for 8.6",
    }


@dataclass
class Corrected:
    """RP-101: screened, consented, a blood count (haemoglobin 6.8 g/dL), and, in a later
    second, that count corrected to 8.6 g/dL; RP-102 screened in between."""

    store: Store
    coordinator: Person
    receipts: dict[str, dict[str, Any]]

    def position(self, name: str) -> int:
        return int(self.receipts[name]["position"])

    def second_after(self, name: str) -> str:
        """The whole second after the event was recorded (receipts write whole seconds)."""
        recorded = instant_from_wire(self.receipts[name]["server_time"])
        return instant_to_wire(recorded + timedelta(seconds=1))

    def second_before(self, name: str) -> str:
        """A whole second before the event was recorded."""
        recorded = instant_from_wire(self.receipts[name]["server_time"])
        return instant_to_wire(recorded - timedelta(seconds=1))


def record_corrected_subject(store: Store, coordinator: Person) -> Corrected:
    """Record the history of :class:`Corrected`; the correction is a clock second later."""
    receipts = {
        "screened": coordinator.record(store, SUBJECT, "Screened", screening()),
        "other screened": coordinator.record(store, OTHER, "Screened", screening(sex="M")),
        "consent": coordinator.record(store, SUBJECT, "ConsentObtained", CONSENT),
        "count": coordinator.record(store, SUBJECT, "BloodCountRecorded", blood_count("6.8")),
    }
    # The API and the CLI take whole seconds: the correction comes after the second that
    # follows the count, so that second falls between the two.
    counted = instant_from_wire(receipts["count"]["server_time"])
    while datetime.now(UTC) <= counted + timedelta(seconds=1):
        time.sleep(0.05)
    receipts["corrected"] = coordinator.record(
        store, SUBJECT, "EntryCorrected", correction(3, "6.8", "8.6")
    )
    return Corrected(store, coordinator, receipts)


@pytest.fixture
def corrected(store: Store, person_in: PersonFactory) -> Corrected:
    """The corrected subject on the backend under test."""
    return record_corrected_subject(store, person_in(store))


@pytest.fixture
def corrected_sqlite(sqlite_store: Store, person_in: PersonFactory) -> Corrected:
    """The corrected subject on SQLite."""
    return record_corrected_subject(sqlite_store, person_in(sqlite_store))


def record_screened_subject(store: Store, coordinator: Person) -> Corrected:
    """RP-101 screened only: for what fails before any replay."""
    receipts = {"screened": coordinator.record(store, SUBJECT, "Screened", screening())}
    return Corrected(store, coordinator, receipts)


@pytest.fixture
def screened(store: Store, person_in: PersonFactory) -> Corrected:
    """RP-101 screened only, on the backend under test."""
    return record_screened_subject(store, person_in(store))


@pytest.fixture
def screened_sqlite(sqlite_store: Store, person_in: PersonFactory) -> Corrected:
    """RP-101 screened only, on SQLite (for the console's tests)."""
    return record_screened_subject(sqlite_store, person_in(sqlite_store))
