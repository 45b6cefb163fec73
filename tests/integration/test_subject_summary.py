"""The subject summary view: derived from events only, rebuilt identically, applied once."""

from __future__ import annotations

from typing import Any

from infrastructure.bootstrap import Store, open_store
from tests.conftest import PersonFactory, consent, enrolment, haemoglobin, screening


def infusion(number: int, dose: str) -> dict[str, Any]:
    return {
        "infusion_number": number,
        "dose": {"value": dose, "unit": "10^6 cells/kg"},
        "product_lot": f"MSC-2011-0{number}",
        "given_at": f"2011-03-{9 + 7 * number}T10:00:00Z",
    }


def followed_subject(store: Store, person_in: PersonFactory) -> None:
    coordinator = person_in(store)
    for kind, data in [
        ("Screened", screening()),
        ("ConsentObtained", consent()),
        ("Enrolled", enrolment()),
        ("MscInfusionGiven", infusion(1, "2.7")),
        ("MscInfusionGiven", infusion(2, "1.35")),
        ("LabResultRecorded", {**haemoglobin("8.1"), "collected_at": "2011-04-01T08:00:00Z"}),
        # Entered later, collected earlier: it must not hide the newer result.
        ("LabResultRecorded", {**haemoglobin("6.9"), "collected_at": "2011-03-01T08:00:00Z"}),
        (
            "AdverseEventReported",
            {
                "term": "Febrile neutropenia",
                "grade": 3,
                "serious": True,
                "relatedness": "unlikely",
                "onset_on": "2011-03-25",
            },
        ),
    ]:
        coordinator.record(store, "RP-101", kind, data)


def test_the_summary_shows_status_infusions_cumulative_dose_latest_counts_and_open_events(
    store: Store, person_in: PersonFactory
) -> None:
    followed_subject(store, person_in)

    summary = store.views.get("NCT01297972/RP-101")

    assert summary is not None
    assert summary["status"] == "enrolled"
    assert summary["msc_infusions"] == 2
    assert summary["cumulative_msc_dose"] == {"value": "4.05", "unit": "10^6 cells/kg"}
    assert summary["latest_results"]["haemoglobin"] == {
        "value": "8.1",
        "unit": "g/dL",
        "collected_at": "2011-04-01T08:00:00Z",
    }
    assert [event["term"] for event in summary["open_adverse_events"]] == ["Febrile neutropenia"]
    assert summary["version"] == 8


def test_rebuild_gives_the_same_digest_run_after_run_and_as_built_incrementally(
    store: Store, person_in: PersonFactory
) -> None:
    followed_subject(store, person_in)
    store.views.catch_up()
    incremental = store.views.digest()

    assert store.views.rebuild() == incremental
    assert store.views.rebuild() == incremental


def test_each_event_is_applied_once_even_when_two_processes_catch_up(
    store: Store, person_in: PersonFactory
) -> None:
    followed_subject(store, person_in)
    other = open_store(store.settings)
    try:
        assert other.views.catch_up() == 12  # 4 account events and 8 of the subject
        assert store.views.catch_up() == 0
    finally:
        other.close()
    summary = store.views.get("NCT01297972/RP-101")
    assert summary is not None and summary["msc_infusions"] == 2
