"""What the subject pages read from the summaries: a line per subject, the fields that changed
between two points of a subject's history, and a notification clock judged on a day."""

from __future__ import annotations

from datetime import date

import pytest

from domain.clinical import ResponseCategory
from domain.vocabulary import EndOfStudyReason
from projections.study_dashboard import judged_on
from projections.subject_changes import ADDED, CHANGED, REMOVED, FieldChange, changes_between
from projections.subject_list import subject_line, subject_lines
from projections.subject_summary import summarise
from tests.unit.subjects import (
    blood_count,
    end_of_study,
    enrolled,
    infusion,
    q,
    ratg_dose,
    response,
    screened,
    with_query,
)

pytestmark = pytest.mark.usefixtures("someone_signs")


def test_a_screened_subjects_line_has_no_treatment_no_response_and_is_open() -> None:
    line = subject_line(summarise(screened()))

    assert (line.subject, line.site, line.status, line.screened_on) == (
        "RP-101",
        "RP",
        "screened",
        "2011-02-14",
    )
    assert (line.enrolled_on, line.treatment_start, line.infusions) == (None, None, 0)
    assert (line.response, line.left_on, line.lock_state) == (None, None, "open")
    assert not line.on_treatment


def test_a_treated_subjects_line_shows_its_infusions_and_latest_assessed_response() -> None:
    subject = enrolled()
    subject.give_ratg_dose(**ratg_dose())
    subject.give_msc_infusion(**infusion())
    subject.record_blood_count(
        **blood_count(
            date(2011, 5, 22),
            haemoglobin=q("9.0", "g/dL"),
            neutrophils=q("0.9", "10^9/L"),
            platelets=q("40", "10^9/L"),
        )
    )
    subject.assess_response(**{**response(month=3), "response": ResponseCategory.PARTIAL})

    line = subject_line(summarise(subject))

    assert (line.status, line.enrolled_on, line.treatment_start) == (
        "enrolled",
        "2011-02-21",
        "2011-02-21",
    )
    assert line.infusions == 1 and line.on_treatment
    # Month 3 was assessed (a count in its window, the investigator's call); month 6 not yet.
    assert line.response == {
        "month": 3,
        "criteria": "partial",
        "investigator": "partial",
        "agreement": "agree",
    }


def test_a_subject_who_left_is_not_on_treatment_and_says_when() -> None:
    subject = enrolled()
    subject.give_ratg_dose(**ratg_dose())
    subject.end_study(**end_of_study(EndOfStudyReason.COMPLETED))

    line = subject_line(summarise(subject))

    assert (line.status, line.left_on, line.on_treatment) == ("completed", "2011-08-21", False)


def test_open_and_answered_queries_count_closed_ones_do_not() -> None:
    assert subject_line(summarise(with_query())).open_queries == 1


def test_lines_come_by_site_then_subject_code() -> None:
    codes = ["SP-2", "RP-9", "RP-10"]
    summaries = []
    for code in codes:
        summary = summarise(screened(code=code))
        summaries.append({**summary, "site": code.split("-")[0]})

    assert [line.subject for line in subject_lines(summaries)] == ["RP-10", "RP-9", "SP-2"]


def test_the_changes_between_two_points_name_each_field_added_removed_or_changed() -> None:
    subject = enrolled()
    before = summarise(subject)
    subject.give_msc_infusion(**infusion())
    after = summarise(subject)

    changes = {change.field: change for change in changes_between(before, after)}

    entry = after["msc_infusions"][0]["entry"]
    assert changes[f"msc_infusions[entry {entry}].dose.value"] == FieldChange(
        f"msc_infusions[entry {entry}].dose.value", None, "2.7", ADDED
    )
    assert changes["version"] == FieldChange("version", 4, 5, CHANGED)
    # The empty list was a leaf of its own: it is gone once it holds an infusion.
    assert changes["msc_infusions"] == FieldChange("msc_infusions", [], None, REMOVED)
    assert changes_between(after, after) == []


def test_a_second_item_about_one_entry_is_told_apart_by_its_count() -> None:
    before = {"signatures": [{"entry": 1, "meaning": "review"}]}
    after = {"signatures": [{"entry": 1, "meaning": "review"}, {"entry": 1, "meaning": "approval"}]}

    assert changes_between(before, after) == [
        FieldChange("signatures[entry 1, 2].entry", None, 1, ADDED),
        FieldChange("signatures[entry 1, 2].meaning", None, "approval", ADDED),
    ]


@pytest.mark.parametrize(
    ("first_notified_on", "today", "status", "days_late"),
    [
        (None, date(2011, 3, 10), "pending", 0),
        (None, date(2011, 3, 11), "pending", 0),
        (None, date(2011, 3, 14), "overdue", 3),
        ("2011-03-11", date(2011, 9, 1), "met", 0),
        ("2011-03-13", date(2011, 3, 13), "late", 2),
    ],
)
def test_a_clock_is_judged_on_the_day_it_is_read(
    first_notified_on: str | None, today: date, status: str, days_late: int
) -> None:
    clock = {"due_on": "2011-03-11", "first_notified_on": first_notified_on, "rule_set": "x"}

    judged = judged_on(clock, today)

    assert (judged["status"], judged["days_late"], judged["rule_set"]) == (
        status,
        days_late,
        "x",
    )


def test_a_list_of_items_without_entries_is_compared_by_place() -> None:
    assert changes_between({"days_given": [1, 2]}, {"days_given": [1, 3]}) == [
        FieldChange("days_given[1]", 2, 3, CHANGED)
    ]
