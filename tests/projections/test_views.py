"""What the views say: weekly outcome tables, the study dashboard and the audit index."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from infrastructure.bootstrap import Store
from tests.conftest import PersonFactory
from tests.projections.conftest import Followed, count, course, infusion, opening, record_all

STUDY = "NCT01297972"
STREAM = f"{STUDY}/RP-101"


@pytest.fixture(name="followed")
def followed_store(followed: Followed) -> Store:
    """The store holding the whole course of RP-101 (see conftest.course), read only."""
    return followed.store


def weeks_of(store: Store, stream: str = STREAM) -> dict[int, dict[str, Any]]:
    table = store.views.subject_weekly(stream)
    assert table is not None
    return {row["week"]: row for row in table["weeks"]}


# -- weekly outcome tables -----------------------------------------------------------------------


def test_week_one_starts_on_the_first_infusion_day_and_week_zero_is_the_week_before(
    followed: Store,
) -> None:
    table = followed.views.subject_weekly(STREAM)
    weeks = weeks_of(followed)

    assert table is not None
    assert table["first_infusion"] == {"given_on": "2011-03-10", "entry": 9}
    assert (weeks[0]["from_day"], weeks[1]["from_day"], weeks[2]["from_day"]) == (-7, 0, 7)
    assert min(weeks) == 0 and max(weeks) == 26  # day 180, month 6, is in week 26
    assert weeks[0]["blood_count"]["entry"] == 8  # day -5; the count of day -17 is before
    assert weeks[12]["blood_count"]["entry"] == 17  # day 83


def test_the_weeks_count_is_its_last_count_as_corrected(followed: Store) -> None:
    week = weeks_of(followed)[1]

    assert week["blood_count"]["entry"] == 11  # not entry 10, collected three days earlier
    assert week["blood_count"]["haemoglobin"] == {"value": "7.8", "unit": "g/dL"}  # corrected
    assert weeks_of(followed)[4]["blood_count"] is None


def test_transfusions_count_by_week_and_before_and_after_the_first_infusion_without_voids(
    followed: Store,
) -> None:
    table = followed.views.subject_weekly(STREAM)

    assert table is not None
    assert weeks_of(followed)[1]["transfusions"] == {
        "red_cells": 0,
        "platelets": 2,
        "entries": [21],
    }
    assert table["transfusions_before"] == {"red_cells": 2, "platelets": 0, "entries": [6]}
    assert table["transfusions_after"] == {"red_cells": 0, "platelets": 2, "entries": [21]}


def test_infections_and_febrile_neutropenia_fall_in_the_week_of_their_onset(
    followed: Store,
) -> None:
    weeks = weeks_of(followed)

    assert [ae["adverse_event"] for ae in weeks[2]["infections"]] == ["AE-01"]
    assert [ae["adverse_event"] for ae in weeks[3]["febrile_neutropenia"]] == ["AE-02"]
    listed = [ae for w in weeks.values() for ae in w["infections"] + w["febrile_neutropenia"]]
    assert len(listed) == 2  # AE-03 is neither


def test_a_subject_without_an_infusion_has_no_weeks(
    sqlite_store: Store, person_in: PersonFactory
) -> None:
    record_all(sqlite_store, person_in(sqlite_store), opening())

    table = sqlite_store.views.subject_weekly(STREAM)

    assert table is not None
    assert table["first_infusion"] is None and table["weeks"] == []


def test_the_study_table_gives_each_weeks_median_count_and_units_across_subjects(
    sqlite_store: Store, person_in: PersonFactory
) -> None:
    followed = sqlite_store
    record_all(followed, person_in(followed), course())
    other = person_in(followed, "coord2", printed_name="Bruno Lima")
    record_all(
        followed,
        other,
        [
            *opening(),
            infusion(1, "2011-04-04T13:00:00Z"),
            count("2011-04-05", "8.2", "0.60", "30"),  # day 1, week 1
        ],
        code="RP-102",
    )

    table = followed.views.study_weekly(STUDY)

    week = {row["week"]: row for row in table["weeks"]}[1]
    assert table["subjects"] == ["RP-101", "RP-102"]
    assert week["subjects_with_count"] == ["RP-101", "RP-102"]
    assert week["median"]["haemoglobin"] == "8"  # (7.8 + 8.2) / 2
    assert week["transfusions"] == {"red_cells": 0, "platelets": 2}
    assert week["subjects_transfused"] == ["RP-101"]
    assert table["transfusions_before"] == {"red_cells": 2, "platelets": 0, "subjects": ["RP-101"]}


# -- the dashboard -------------------------------------------------------------------------------


def test_the_dashboard_counts_status_infusions_adverse_events_deaths_and_responses(
    followed: Store,
) -> None:
    board = followed.views.dashboard(STUDY, today=date(2011, 7, 1))

    assert board["subjects"] == 1 and board["by_status"]["enrolled"] == 1
    assert board["by_status"]["died"] == 0
    assert board["infusions"]["given"] == 2
    events = board["adverse_events"]
    assert events["by_grade"] == {"1": 0, "2": 0, "3": 3, "4": 0, "5": 0}
    assert (events["by_seriousness"]["serious"], events["by_seriousness"]["not_serious"]) == (2, 1)
    assert events["by_msc_relatedness"]["related"] == 0
    assert events["by_msc_relatedness"]["by_assessment"]["unlikely"] == 3
    assert board["deaths"] == []
    assert board["responses"]["3"]["investigator"]["partial"] == 1
    assert board["responses"]["3"]["criteria"]["partial"] == 1
    assert board["responses"]["6"]["investigator"]["not_assessed"] == 1


@pytest.mark.parametrize(
    ("today", "status", "days_late"),
    [(date(2011, 7, 5), "pending", 0), (date(2011, 7, 6), "overdue", 1)],
)
def test_an_unnotified_serious_event_is_judged_overdue_against_the_day_it_is_read(
    followed: Store, today: date, status: str, days_late: int
) -> None:
    board = followed.views.dashboard(STUDY, today=today)

    clocks = {n["adverse_event"]: n for n in board["notifications"]}
    assert clocks["AE-03"]["due_on"] == "2011-07-05"
    assert (clocks["AE-03"]["status"], clocks["AE-03"]["days_late"]) == (status, days_late)
    assert (clocks["AE-02"]["status"], clocks["AE-02"]["days_late"]) == ("late", 6)
    overdue = [n["adverse_event"] for n in board["overdue_notifications"]]
    assert overdue == (["AE-03"] if status == "overdue" else [])
    assert board["as_of"] == today.isoformat()


# -- the audit index -----------------------------------------------------------------------------


def test_the_audit_index_shows_each_version_old_to_new_with_its_reason_and_signer(
    followed: Store,
) -> None:
    index = followed.views.audit(STREAM)

    assert index is not None
    record = index["records"][10]
    original, correction = record["versions"]
    assert (record["entry"], record["kind"]) == (11, "BloodCountRecorded")
    assert original["change"] == "original"
    assert original["data"]["results"]["haemoglobin"]["value"] == "7.3"
    assert correction["change"] == "corrected" and correction["entry"] == 19
    haemoglobin = {
        part: correction["changes"]["results"][part]["haemoglobin"]["value"]
        for part in ("old", "new")
    }
    assert haemoglobin == {"old": "7.3", "new": "7.8"}
    assert correction["reason"] == "transcription error"
    assert correction["signature"]["user_id"] == "coord1"
    assert correction["signature"]["printed_name"] == "Ana Souza"
    assert correction["signature"]["meaning"] == "authorship"
    assert correction["signature"]["signed_at"].endswith("Z")
    assert record["voided"] is None


def test_the_audit_index_shows_a_void_with_its_reason_and_signer(followed: Store) -> None:
    index = followed.views.audit(STREAM)

    assert index is not None
    voided = index["records"][11]
    assert voided["kind"] == "TransfusionGiven"
    assert voided["voided"]["entry"] == 20
    assert voided["voided"]["reason"] == "wrong subject"
    assert voided["voided"]["signature"]["user_id"] == "coord1"
    assert len(voided["versions"]) == 1
    assert [r["entry"] for r in index["records"]] == list(range(1, 23))
