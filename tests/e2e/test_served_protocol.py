"""The protocol the store serves, pinned: the study's serious-adverse-event clocks.

The clock tests in tests/unit build rule sets of their own, so a change to the protocol file
(domain/protocols/NCT01297972.toml) would pass them all. These read the clocks as the served
application applies them, through the API, and pin them to what the study's reporting rules
say: a serious adverse event that caused death or threatened life is notified within 7
calendar days of the sponsor learning of it, any other within 15 (every rule set of the
protocol carries these clocks; the earliest is applied to the 2011-2013 study's events). The
dates each rule set applies from are pinned in tests/unit/test_served_reporting_rules.py.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from domain.protocol import protocol_for
from tests.conftest import STUDY, PersonFactory, consent, eligibility, enrolment, screening
from tests.e2e.conftest import Site

FATAL_OR_LIFE_THREATENING_DAYS = 7
OTHER_SERIOUS_DAYS = 15
RULE_SETS = {
    "Anvisa RDC 9/2015": date(2015, 2, 20),
    "Anvisa RDC 260/2018": date(2018, 12, 21),
    "Anvisa RDC 506/2021": date(2021, 7, 1),
}
LEARNED_ON = date(2011, 3, 12)


def serious_event(name: str, criterion: str) -> dict[str, Any]:
    return {
        "adverse_event": name,
        "term": "Pneumonia",
        "category": "infection",
        "pathogen": "bacterial",
        "grade": 4 if criterion == "life_threatening" else 3,
        "serious": True,
        "seriousness": [criterion],
        "relatedness_msc": "unlikely",
        "relatedness_ratg": "possible",
        "relatedness_cyclosporine": "unrelated",
        "expected": False,
        "onset_on": LEARNED_ON.isoformat(),
        "learned_on": LEARNED_ON.isoformat(),
        "outcome": "recovering",
    }


def test_the_served_protocol_notifies_within_7_days_for_a_threat_to_life_and_15_otherwise(
    site: Site, person_in: PersonFactory
) -> None:
    coordinator = person_in(site.store)
    for kind, data in [
        ("Screened", screening()),
        ("ConsentObtained", consent()),
        ("EligibilityAssessed", eligibility()),
        ("Enrolled", enrolment()),
        ("AdverseEventReported", serious_event("AE-01", "hospitalisation")),
        ("AdverseEventReported", serious_event("AE-02", "life_threatening")),
    ]:
        response = site.submit(coordinator, kind, data, subject="RP-101")
        assert response.status_code == 201, response.get_data(as_text=True)

    summary = site.client.get(
        f"/v1/studies/{STUDY}/subjects/RP-101", headers=site.auth(coordinator)
    ).get_json()

    clocks = {event["adverse_event"]: event["notification"] for event in summary["adverse_events"]}
    assert clocks["AE-01"]["days_allowed"] == OTHER_SERIOUS_DAYS
    assert clocks["AE-01"]["due_on"] == str(LEARNED_ON + timedelta(days=OTHER_SERIOUS_DAYS))
    assert clocks["AE-02"]["days_allowed"] == FATAL_OR_LIFE_THREATENING_DAYS
    assert clocks["AE-02"]["due_on"] == str(
        LEARNED_ON + timedelta(days=FATAL_OR_LIFE_THREATENING_DAYS)
    )
    # the study ran before any of the rule sets: the earliest is applied, and says so
    assert {clock["rule_set"] for clock in clocks.values()} == {"Anvisa RDC 9/2015"}


def test_every_rule_set_of_the_served_protocol_has_the_7_and_15_day_clocks() -> None:
    served = protocol_for(STUDY).reporting.rule_sets

    assert {rule_set.name: rule_set.in_force_from for rule_set in served} == RULE_SETS
    assert {
        (rule_set.fatal_or_life_threatening_days, rule_set.other_serious_days)
        for rule_set in served
    } == {(FATAL_OR_LIFE_THREATENING_DAYS, OTHER_SERIOUS_DAYS)}
