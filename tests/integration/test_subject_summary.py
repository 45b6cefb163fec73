"""The subject summary view: derived from events only, rebuilt identically, applied once."""

from __future__ import annotations

from infrastructure.bootstrap import Store, open_store
from tests.conftest import PersonFactory
from tests.projections.conftest import count, infusion, opening, record_all

STREAM = "NCT01297972/RP-101"


def followed_subject(store: Store, person_in: PersonFactory) -> None:
    record_all(
        store,
        person_in(store),
        [
            *opening(),
            infusion(1, "2011-03-10T13:00:00Z"),
            infusion(2, "2011-03-17T13:00:00Z", dose="1.35"),
            count("2011-04-01", "8.1", "0.6", "30"),
            # Entered later, collected earlier: it must not hide the newer count.
            count("2011-03-01", "6.9", "0.3", "9"),
        ],
    )


def test_the_summary_shows_status_infusions_cumulative_dose_and_the_latest_count(
    store: Store, person_in: PersonFactory
) -> None:
    followed_subject(store, person_in)

    summary = store.views.get(STREAM)

    assert summary is not None
    assert summary["status"] == "enrolled"
    assert [i["infusion_number"] for i in summary["msc_infusions"]] == [1, 2]
    assert summary["cumulative_msc_dose"] == {"value": "4.05", "unit": "10^6 cells/kg"}
    latest = summary["latest_blood_count"]
    assert (latest["collected_on"], latest["entry"]) == ("2011-04-01", 7)
    assert latest["results"]["haemoglobin"] == {"value": "8.1", "unit": "g/dL"}
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
    head = store.app.recorder.max_notification_id()
    other = open_store(store.settings)
    try:
        assert other.views.catch_up() == head  # every position, accounts' events included
        assert store.views.catch_up() == 0
    finally:
        other.close()
    summary = store.views.get(STREAM)
    assert summary is not None and len(summary["msc_infusions"]) == 2
