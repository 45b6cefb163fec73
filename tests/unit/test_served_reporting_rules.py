"""The study's serious-adverse-event rule sets, by the date each came into force (issue 22, 7).

The clock tests of test_clinical_facts.py build rule sets of their own; these read the served
protocol (domain/protocols/NCT01297972.toml) and pin its dates to the texts: Anvisa RDC
506/2021 came into force on 1 July 2021 and revoked RDC 260/2018 from that day, so an event the
sponsor learned of on 30 June 2021 is judged by RDC 260/2018 and one learned of on 1 July by
RDC 506/2021. RDC 945/2024, in force from 1 January 2025, leaves advanced-therapy products
(this study's mesenchymal stromal cells) out of its scope: an event of 2025 is still judged by
RDC 506/2021. Sources: docs/regulatory.md, "The texts in force".
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from domain.clinical import notification_clock
from domain.protocol import protocol_for
from tests.conftest import STUDY

RDC_260 = "Anvisa RDC 260/2018"
RDC_506 = "Anvisa RDC 506/2021"
RDC_506_IN_FORCE = date(2021, 7, 1)
RDC_945_IN_FORCE = date(2025, 1, 1)

CLOCKS = protocol_for(STUDY).reporting


@pytest.mark.requirement("ANVISA-RDC506-1")
@pytest.mark.parametrize(
    ("learned_on", "rule_set"),
    [
        (RDC_506_IN_FORCE - timedelta(days=1), RDC_260),
        (RDC_506_IN_FORCE, RDC_506),
        (RDC_945_IN_FORCE - timedelta(days=1), RDC_506),
        (RDC_945_IN_FORCE, RDC_506),
        (date(2026, 12, 4), RDC_506),
    ],
)
def test_the_rule_set_in_force_on_the_day_the_sponsor_learned_is_the_one_applied(
    learned_on: date, rule_set: str
) -> None:
    assert CLOCKS.rule_set_on(learned_on).name == rule_set


@pytest.mark.requirement("ANVISA-RDC506-1")
def test_an_event_learned_of_the_day_before_rdc_506_is_judged_by_rdc_260_and_says_so() -> None:
    learned = RDC_506_IN_FORCE - timedelta(days=1)

    clock = notification_clock(True, frozenset({"death"}), learned, [], learned, CLOCKS)

    assert clock is not None
    assert (clock.rule_set_name, clock.days_allowed) == (RDC_260, 7)
    assert clock.reasons[0] == (
        "learned of on 2021-06-30; Anvisa RDC 260/2018 was in force (from 2018-12-21)"
    )


@pytest.mark.requirement("ANVISA-RDC506-1")
def test_an_event_learned_of_after_rdc_945_came_into_force_is_still_judged_by_rdc_506() -> None:
    learned = date(2025, 3, 10)

    clock = notification_clock(
        True, frozenset({"hospitalisation"}), learned, [date(2025, 3, 26)], learned, CLOCKS
    )

    assert clock is not None
    assert (clock.rule_set_name, clock.days_allowed, clock.due_on) == (
        RDC_506,
        15,
        date(2025, 3, 25),
    )
    assert clock.status.value == "late"
    assert clock.reasons[0] == (
        "learned of on 2025-03-10; Anvisa RDC 506/2021 was in force (from 2021-07-01)"
    )


def test_no_rule_set_of_the_study_is_named_after_a_text_that_excludes_advanced_therapy() -> None:
    names = {rule_set.name for rule_set in CLOCKS.rule_sets}

    assert not any("945/2024" in name for name in names)
