"""Every kind of record and every rule over the HTTP API: ``POST /v1/events`` answers 201 with
the record as signed, and each refusal answers 422 problem+json with a clear ``detail``,
leaving the subject at its version.

One real SQLite store and one coordinator serve the whole module (the store, the account and
its Argon2 password are the slow part); each test writes to a subject of its own.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import TestResponse

from api.schemas.records import DATA_SCHEMAS
from domain.subject import QUERY_KINDS
from domain.subject.locks import LOCK_STEPS
from infrastructure.bootstrap import Store
from tests.conftest import (
    STUDY,
    Person,
    consent,
    eligibility,
    enrolment,
    haemoglobin,
    infusion,
    make_settings,
    new_store,
    open_person,
    screening,
)
from tests.e2e.conftest import Site
from tests.e2e.test_api import Unchanged, assert_field_errors, assert_problem

Step = tuple[str, dict[str, Any]]
SUBJECT_CODES = (f"RP-{n}" for n in itertools.count(200))


class Writer:
    """A coordinator of site RP writing to one subject through the API, token in hand."""

    def __init__(self, site: Site, person: Person, headers: dict[str, str]) -> None:
        self.site = site
        self.person = person
        self.headers = headers
        self.subject = next(SUBJECT_CODES)

    def post(self, kind: str, data: dict[str, Any]) -> TestResponse:
        body = self.person.body(self.subject, kind, data)
        return self.site.client.post(
            "/v1/events",
            json={"event": body, "signature": self.person.sign(body)},
            headers=self.headers,
        )

    def steps(self, steps: list[Step]) -> None:
        """Record each step, in order, in one batch; each must be accepted."""
        submissions = []
        first = self.person.next_version(self.subject)
        for version, (kind, data) in enumerate(steps, start=first):
            body = self.person.body(self.subject, kind, data, version=version)
            submissions.append({"event": body, "signature": self.person.sign(body)})
        response = self.site.client.post("/v1/events/batch", json=submissions, headers=self.headers)
        assert response.status_code == 201, response.get_data(as_text=True)

    def history(self) -> list[dict[str, Any]]:
        response = self.site.client.get(
            f"/v1/studies/{STUDY}/subjects/{self.subject}/history", headers=self.headers
        )
        assert response.status_code == 200
        entries: list[dict[str, Any]] = response.get_json()
        return entries

    def summary(self) -> dict[str, Any]:
        response = self.site.client.get(
            f"/v1/studies/{STUDY}/subjects/{self.subject}", headers=self.headers
        )
        assert response.status_code == 200
        summary: dict[str, Any] = response.get_json()
        return summary

    def unchanged(self) -> Unchanged:
        return Unchanged(self.site.store, self.subject)


@pytest.fixture(scope="module")
def shared_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Site, Person, str]]:
    store: Store = new_store(make_settings(Path(tmp_path_factory.mktemp("records"))))
    person = open_person(store)
    site = Site(store)
    try:
        yield site, person, site.token(person)
    finally:
        store.close()


@pytest.fixture
def writer(shared_site: tuple[Site, Person, str]) -> Writer:
    site, person, token = shared_site
    return Writer(site, person, {"Authorization": f"Bearer {token}"})


# -- wire data of each kind ----------------------------------------------------------------------


def q(value: str, unit: str) -> dict[str, str]:
    return {"value": value, "unit": unit}


def in_days(days: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=days)).isoformat()


SCREENED: list[Step] = [("Screened", screening()), ("ConsentObtained", consent())]
ENROLLED: list[Step] = [
    *SCREENED,
    ("EligibilityAssessed", eligibility()),
    ("Enrolled", enrolment()),
]
CYCLOSPORINE: Step = (
    "CyclosporineStarted",
    {"dose": q("5", "mg/kg/day"), "started_on": "2011-02-21"},
)


def blood_count(**results: dict[str, str]) -> dict[str, Any]:
    return {
        "collected_on": "2011-03-01",
        "results": results
        or {
            "haemoglobin": q("7.2", "g/dL"),
            "neutrophils": q("0.31", "10^9/L"),
            "platelets": q("12", "10^9/L"),
            "reticulocytes": q("18", "10^9/L"),
            "leukocytes": q("1.4", "10^9/L"),
        },
        "reticulocyte_method": "manual",
    }


def adverse_event(name: str = "AE-01", **overrides: Any) -> dict[str, Any]:
    return {
        "adverse_event": name,
        "term": "Nausea",
        "category": "other",
        "grade": 2,
        "serious": False,
        "seriousness": [],
        "relatedness_msc": "unlikely",
        "relatedness_ratg": "possible",
        "relatedness_cyclosporine": "unrelated",
        "expected": True,
        "onset_on": "2011-03-12",
        "learned_on": "2011-03-12",
        "outcome": "recovering",
        **overrides,
    }


SERIOUS_INFECTION: dict[str, Any] = {
    "term": "Pneumonia",
    "category": "infection",
    "pathogen": "bacterial",
    "grade": 3,
    "serious": True,
    "seriousness": ["hospitalisation"],
}
FATAL: dict[str, Any] = {
    **SERIOUS_INFECTION,
    "term": "Invasive fungal infection",
    "pathogen": "fungal",
    "grade": 5,
    "seriousness": ["death"],
    "onset_on": "2011-05-20",
    "learned_on": "2011-05-20",
    "outcome": "fatal",
    "resolved_on": "2011-06-01",
}
TRANSFUSION = {"given_on": "2011-03-02", "product": "red_cells", "units": 2}
DEATH = {"died_on": "2011-06-01", "cause": "Heart failure"}

# (kind, the steps before it, its data)
KINDS: list[tuple[str, list[Step], dict[str, Any]]] = [
    ("Screened", [], screening()),
    ("ScreenFailed", SCREENED, {"failed_on": "2011-02-18", "reason": "EX2 applies"}),
    ("ConsentObtained", SCREENED, {"tcle_version": "3.0", "consented_on": "2011-05-02"}),
    ("EligibilityAssessed", SCREENED, eligibility()),
    ("Enrolled", [*SCREENED, ("EligibilityAssessed", eligibility())], enrolment()),
    ("RatgDoseGiven", ENROLLED, {"day": 1, "dose": q("3.5", "mg/kg"), "given_on": "2011-02-21"}),
    ("CyclosporineStarted", ENROLLED, CYCLOSPORINE[1]),
    (
        "CyclosporineDoseAdjusted",
        [*ENROLLED, CYCLOSPORINE],
        {"dose": q("4", "mg/kg/day"), "effective_on": "2011-03-01", "reason": "trough high"},
    ),
    (
        "CyclosporineStopped",
        [*ENROLLED, CYCLOSPORINE],
        {"stopped_on": "2011-08-20", "reason": "six months completed"},
    ),
    (
        "CyclosporineTroughMeasured",
        [*ENROLLED, CYCLOSPORINE],
        {"level": q("180", "ng/mL"), "collected_on": "2011-03-01"},
    ),
    ("MscInfusionGiven", ENROLLED, infusion(1)),
    ("BloodCountRecorded", ENROLLED, blood_count()),
    ("BoneMarrowExamined", SCREENED, {"examined_on": "2011-02-16", "cellularity": q("10", "%")}),
    ("TransfusionGiven", ENROLLED, TRANSFUSION),
    (
        "ChimerismAssessed",
        ENROLLED,
        {
            "study_day": 30,
            "method": "VNTR",
            "sample_collected_on": "2011-04-09",
            "donor_signal_detected": False,
        },
    ),
    ("AdverseEventReported", ENROLLED, adverse_event(**SERIOUS_INFECTION)),
    (
        "AdverseEventFollowedUp",
        [*ENROLLED, ("AdverseEventReported", adverse_event())],
        {
            "adverse_event": "AE-01",
            "followed_up_on": "2011-03-20",
            "changes": {"outcome": "recovered", "resolved_on": "2011-03-19"},
        },
    ),
    (
        "SeriousAdverseEventNotified",
        [*ENROLLED, ("AdverseEventReported", adverse_event(**SERIOUS_INFECTION))],
        {
            "adverse_event": "AE-01",
            "notified_on": "2011-03-14",
            "recipient": "CONEP",
            "follow_up": False,
        },
    ),
    (
        "SubjectDied",
        [*ENROLLED, ("AdverseEventReported", adverse_event("AE-09", **FATAL))],
        {**DEATH, "cause": "Invasive fungal infection", "adverse_event": "AE-09"},
    ),
    (
        "ResponseAssessed",
        ENROLLED,
        {"month": 6, "response": "partial", "assessed_on": "2011-08-20"},
    ),
    (
        "ProtocolDeviationRecorded",
        ENROLLED,
        {
            "occurred_on": "2011-03-17",
            "category": "schedule",
            "description": "late",
            "major": False,
        },
    ),
    (
        "SubjectWithdrawn",
        ENROLLED,
        {"withdrawn_on": "2011-05-02", "reason": "moved away", "decided_by": "subject"},
    ),
    (
        "EndOfStudyRecorded",
        [*ENROLLED, ("SubjectDied", DEATH)],
        {"ended_on": "2011-06-01", "reason": "death"},
    ),
    (
        "PerformanceStatusRecorded",
        SCREENED,
        {"month": 0, "scale": "ECOG", "score": 1, "assessed_on": "2011-02-15"},
    ),
    (
        "EntryCorrected",
        [*ENROLLED, ("TransfusionGiven", TRANSFUSION)],
        {
            "entry": 5,
            "entry_kind": "TransfusionGiven",
            "changes": {"units": {"old": 2, "new": 3}},
            "reason": "transcription error",
        },
    ),
    (
        "EntryVoided",
        [*ENROLLED, ("TransfusionGiven", TRANSFUSION)],
        {"entry": 5, "entry_kind": "TransfusionGiven", "reason": "entered twice"},
    ),
]


def test_every_kind_of_record_is_covered_here() -> None:
    # A signature over records (or a casebook) goes through POST /v1/signatures and its ceremony
    # (tests/access/test_record_signing_api.py); on POST /v1/events it is refused. Queries are
    # the monitor's and the site's dialogue, tested by role in tests/access/test_queries.py;
    # the lock steps are a data manager's and an investigator's (test_subject_locks_api.py); a
    # source verification names a record hash (tests/access/test_source_verification_api.py).
    lock_steps = {step.kind() for step in LOCK_STEPS}
    elsewhere = {"RecordsSigned", "CasebookSigned", "SourceVerified"}
    assert {kind for kind, _, _ in KINDS} == (
        set(DATA_SCHEMAS) - elsewhere - QUERY_KINDS - lock_steps
    )


@pytest.mark.parametrize(("kind", "before", "data"), KINDS, ids=[k[0] for k in KINDS])
def test_each_kind_is_accepted_with_201_and_reads_back_as_signed(
    writer: Writer, kind: str, before: list[Step], data: dict[str, Any]
) -> None:
    if before:
        writer.steps(before)

    response = writer.post(kind, data)

    assert response.status_code == 201, response.get_data(as_text=True)
    receipt = response.get_json()
    assert (receipt["kind"], receipt["version"]) == (kind, len(before) + 1)
    recorded = writer.history()[-1]
    assert (recorded["kind"], recorded["version"]) == (kind, len(before) + 1)
    assert recorded["data"] == data
    assert json.loads(recorded["signed_body"])["data"] == data


# -- every rule, refused with 422 and a clear detail; nothing changes -----------------------------

INFUSED_5: list[Step] = [*ENROLLED, *(("MscInfusionGiven", infusion(n)) for n in range(1, 6))]
DEAD: list[Step] = [*ENROLLED, ("SubjectDied", DEATH)]
WITHDRAWN: list[Step] = [
    *ENROLLED,
    (
        "SubjectWithdrawn",
        {"withdrawn_on": "2011-05-02", "reason": "moved", "decided_by": "subject"},
    ),
]
RESPONSE_6 = {"month": 6, "response": "none", "assessed_on": "2011-08-20"}
CHIMERISM_30 = {
    "study_day": 30,
    "method": "FISH",
    "sample_collected_on": "2011-04-09",
    "donor_signal_detected": False,
}
RATG_1 = {"day": 1, "dose": q("3.5", "mg/kg"), "given_on": "2011-02-21"}
ALL_BUT_EX9 = {k: v for k, v in eligibility()["criteria"].items() if k != "EX9"}

# (id, the steps before, kind, data, problem title, what the detail says)
REFUSALS: list[tuple[str, list[Step], str, dict[str, Any], str, str]] = [
    (
        "clinical-before-consent",
        [("Screened", screening())],
        "BloodCountRecorded",
        blood_count(),
        "Informed consent required first",
        "no signed TCLE",
    ),
    (
        "criterion-unanswered",
        SCREENED,
        "EligibilityAssessed",
        {"criteria": ALL_BUT_EX9, "assessed_on": "2011-02-18"},
        "Eligibility not met",
        "criteria not answered: EX9",
    ),
    (
        "criterion-unknown",
        SCREENED,
        "EligibilityAssessed",
        {"criteria": {**eligibility()["criteria"], "EX10": False}, "assessed_on": "2011-02-18"},
        "Eligibility not met",
        "criteria not in the protocol: EX10",
    ),
    (
        "inclusion-not-met",
        [*SCREENED, ("EligibilityAssessed", eligibility(IN3=False))],
        "Enrolled",
        enrolment(),
        "Eligibility not met",
        "inclusion IN3 not met",
    ),
    (
        "exclusion-applies",
        [*SCREENED, ("EligibilityAssessed", eligibility(EX7=True))],
        "Enrolled",
        enrolment(),
        "Eligibility not met",
        "exclusion EX7 applies (Pregnancy)",
    ),
    (
        "age-17",
        [
            ("Screened", screening(age=17)),
            ("ConsentObtained", consent()),
            ("EligibilityAssessed", eligibility()),
        ],
        "Enrolled",
        enrolment(),
        "Eligibility not met",
        "age 17 is outside 18-65 years",
    ),
    (
        "age-66",
        [
            ("Screened", screening(age=66)),
            ("ConsentObtained", consent()),
            ("EligibilityAssessed", eligibility()),
        ],
        "Enrolled",
        enrolment(),
        "Eligibility not met",
        "age 66 is outside 18-65 years",
    ),
    (
        "no-assessment",
        SCREENED,
        "Enrolled",
        enrolment(),
        "Eligibility not met",
        "eligibility has not been assessed",
    ),
    (
        "ratg-day-6",
        ENROLLED,
        "RatgDoseGiven",
        {**RATG_1, "day": 6},
        "rATG outside its course",
        "days 1-5, not day 6",
    ),
    (
        "ratg-day-twice",
        [*ENROLLED, ("RatgDoseGiven", RATG_1)],
        "RatgDoseGiven",
        RATG_1,
        "rATG outside its course",
        "rATG day 1 is recorded",
    ),
    (
        "ratg-not-consecutive",
        [*ENROLLED, ("RatgDoseGiven", RATG_1)],
        "RatgDoseGiven",
        {**RATG_1, "day": 2, "given_on": "2011-02-23"},
        "rATG outside its course",
        "rATG day 2 falls on 2011-02-22",
    ),
    (
        "msc-sixth",
        INFUSED_5,
        "MscInfusionGiven",
        infusion(6),
        "MSC infusion out of sequence",
        "at most 5",
    ),
    (
        "msc-out-of-sequence",
        ENROLLED,
        "MscInfusionGiven",
        infusion(2),
        "MSC infusion out of sequence",
        "the next is 1",
    ),
    (
        "msc-too-soon",
        [*ENROLLED, ("MscInfusionGiven", infusion(1))],
        "MscInfusionGiven",
        infusion(2, given_at="2011-03-12T13:00:00Z"),
        "MSC infusion too soon",
        "at least 5 days apart; infusion 1 was 2 days from this one",
    ),
    (
        "future",
        ENROLLED,
        "BloodCountRecorded",
        {**blood_count(), "collected_on": in_days(2)},
        "Dated in the future",
        "after today at the site",
    ),
    (
        "after-death",
        DEAD,
        "BloodCountRecorded",
        {**blood_count(), "collected_on": "2011-06-02"},
        "Dated after death",
        "the subject died on 2011-06-01",
    ),
    (
        "death-before-records",
        [*ENROLLED, ("BloodCountRecorded", {**blood_count(), "collected_on": "2011-06-10"})],
        "SubjectDied",
        DEATH,
        "Dated after death",
        "records are dated after 2011-06-01",
    ),
    (
        "grade-5-not-fatal",
        ENROLLED,
        "AdverseEventReported",
        adverse_event(**{**FATAL, "outcome": "not_recovered"}),
        "Death record and adverse event disagree",
        "grade 5 and a fatal outcome go together",
    ),
    (
        "death-names-grade-2",
        [*ENROLLED, ("AdverseEventReported", adverse_event())],
        "SubjectDied",
        {**DEATH, "adverse_event": "AE-01"},
        "Death record and adverse event disagree",
        "which is grade 2, not 5",
    ),
    (
        "death-off-grade-5-date",
        [*ENROLLED, ("AdverseEventReported", adverse_event(**FATAL))],
        "SubjectDied",
        {**DEATH, "died_on": "2011-06-02"},
        "Death record and adverse event disagree",
        "the death is dated 2011-06-02",
    ),
    (
        "serious-without-criterion",
        ENROLLED,
        "AdverseEventReported",
        adverse_event(**{**SERIOUS_INFECTION, "seriousness": []}),
        "Seriousness criteria inconsistent",
        "names at least one criterion",
    ),
    (
        "criterion-not-serious",
        ENROLLED,
        "AdverseEventReported",
        adverse_event(seriousness=["hospitalisation"]),
        "Seriousness criteria inconsistent",
        "given for a non-serious event",
    ),
    (
        "infection-without-pathogen",
        ENROLLED,
        "AdverseEventReported",
        adverse_event(**{k: v for k, v in SERIOUS_INFECTION.items() if k != "pathogen"}),
        "Value out of range",
        "names its pathogen",
    ),
    (
        "grade-0",
        ENROLLED,
        "AdverseEventReported",
        adverse_event(grade=0),
        "Value out of range",
        "CTCAE grade 0 is not one of 1-5",
    ),
    (
        "grade-6",
        ENROLLED,
        "AdverseEventReported",
        adverse_event(grade=6),
        "Value out of range",
        "CTCAE grade 6 is not one of 1-5",
    ),
    (
        "negative-count",
        ENROLLED,
        "BloodCountRecorded",
        blood_count(platelets=q("-12", "10^9/L")),
        "Value out of range",
        "platelets cannot be negative",
    ),
    (
        "wrong-unit",
        ENROLLED,
        "BloodCountRecorded",
        blood_count(haemoglobin=q("72", "g/L")),
        "Unit not accepted",
        "recorded in g/dL, not g/L",
    ),
    (
        "viability-over-100",
        ENROLLED,
        "MscInfusionGiven",
        {**infusion(1), "viability": q("130", "%")},
        "Value out of range",
        "cell viability is a percentage from 0 to 100, not 130",
    ),
    (
        "instant-with-no-date-at-the-site",
        ENROLLED,
        "MscInfusionGiven",
        infusion(1, given_at="0001-01-01T00:00:00Z"),
        "Value out of range",
        "0001-01-01T00:00:00+00:00 has no date in the site's time zone (America/Sao_Paulo)",
    ),
    (
        "cellularity-over-100",
        SCREENED,
        "BoneMarrowExamined",
        {"examined_on": "2011-02-16", "cellularity": q("105", "%")},
        "Value out of range",
        "marrow cellularity is a percentage from 0 to 100, not 105",
    ),
    (
        "transfusion-0-units",
        ENROLLED,
        "TransfusionGiven",
        {**TRANSFUSION, "units": 0},
        "Value out of range",
        "a transfusion is 1-50 units, not 0",
    ),
    (
        "cyclosporine-adjust-before-start",
        [*ENROLLED, CYCLOSPORINE],
        "CyclosporineDoseAdjusted",
        {"dose": q("4", "mg/kg/day"), "effective_on": "2011-02-20", "reason": "trough high"},
        "Value out of range",
        "before cyclosporine started (2011-02-21)",
    ),
    (
        "cyclosporine-adjust-after-stop",
        [
            *ENROLLED,
            CYCLOSPORINE,
            ("CyclosporineStopped", {"stopped_on": "2011-04-01", "reason": "renal toxicity"}),
        ],
        "CyclosporineDoseAdjusted",
        {"dose": q("4", "mg/kg/day"), "effective_on": "2011-04-05", "reason": "restart"},
        "Cyclosporine not started",
        "cyclosporine was stopped on 2011-04-01",
    ),
    (
        "second-month-6-response",
        [*ENROLLED, ("ResponseAssessed", RESPONSE_6)],
        "ResponseAssessed",
        RESPONSE_6,
        "Recorded already",
        "the month-6 response is recorded",
    ),
    (
        "second-chimerism",
        [*ENROLLED, ("ChimerismAssessed", CHIMERISM_30)],
        "ChimerismAssessed",
        CHIMERISM_30,
        "Recorded already",
        "FISH on study day 30 is recorded",
    ),
    ("second-death", DEAD, "SubjectDied", DEATH, "Recorded already", "the death is recorded"),
    (
        "treatment-after-withdrawal",
        WITHDRAWN,
        "MscInfusionGiven",
        infusion(1),
        "Subject not in the study",
        "withdrew: no MSC treatment is recorded",
    ),
    (
        "end-of-study-death-without-death",
        ENROLLED,
        "EndOfStudyRecorded",
        {"ended_on": "2011-08-21", "reason": "death"},
        "Death record and adverse event disagree",
        "gives death as its reason exactly when a death is recorded",
    ),
]


@pytest.mark.parametrize(
    ("before", "kind", "data", "title", "detail"),
    [r[1:] for r in REFUSALS],
    ids=[r[0] for r in REFUSALS],
)
def test_each_rule_refuses_with_422_and_a_clear_detail_and_changes_nothing(
    writer: Writer, before: list[Step], kind: str, data: dict[str, Any], title: str, detail: str
) -> None:
    if before:
        writer.steps(before)

    with writer.unchanged():
        response = writer.post(kind, data)

        problem = assert_problem(response, 422, title=title, detail=detail)
    assert "errors" not in problem
    assert len(writer.history()) == len(before)


# -- corrections and voids ----------------------------------------------------------------------

TRANSFUSED: list[Step] = [*ENROLLED, ("TransfusionGiven", TRANSFUSION)]


def correction(
    entry: int = 5, kind: str = "TransfusionGiven", reason: str = "typo", **changes: tuple[Any, Any]
) -> dict[str, Any]:
    return {
        "entry": entry,
        "entry_kind": kind,
        "changes": {name: {"old": old, "new": new} for name, (old, new) in changes.items()},
        "reason": reason,
    }


def test_a_correction_changes_the_state_and_the_original_event_stays_as_signed(
    writer: Writer,
) -> None:
    writer.steps(TRANSFUSED)

    response = writer.post("EntryCorrected", correction(units=(2, 3)))

    assert response.status_code == 201, response.get_data(as_text=True)
    history = writer.history()
    assert history[4]["data"] == TRANSFUSION
    assert history[4]["corrected_by"] == [6]
    assert history[5]["data"]["changes"] == {"units": {"old": 2, "new": 3}}
    summary = writer.summary()
    assert summary["corrected"] == [{"entry": 5, "kind": "TransfusionGiven", "corrected_by": [6]}]
    assert summary["version"] == 6


def test_a_void_keeps_the_entry_in_the_history_and_takes_it_out_of_the_state(
    writer: Writer,
) -> None:
    writer.steps(TRANSFUSED)

    response = writer.post(
        "EntryVoided", {"entry": 5, "entry_kind": "TransfusionGiven", "reason": "entered twice"}
    )

    assert response.status_code == 201, response.get_data(as_text=True)
    history = writer.history()
    assert history[4]["data"] == TRANSFUSION
    assert history[4]["voided_by"] == 6
    assert writer.summary()["voided"] == [{"entry": 5, "kind": "TransfusionGiven", "voided_by": 6}]


VOIDED: list[Step] = [
    *TRANSFUSED,
    ("EntryVoided", {"entry": 5, "entry_kind": "TransfusionGiven", "reason": "entered twice"}),
]
TWO_INFUSIONS: list[Step] = [
    *ENROLLED,
    ("MscInfusionGiven", infusion(1)),
    ("MscInfusionGiven", infusion(2)),
]

CORRECTION_REFUSALS: list[tuple[str, list[Step], str, dict[str, Any], str]] = [
    (
        "stale-old-value",
        TRANSFUSED,
        "EntryCorrected",
        correction(units=(4, 3)),
        "units: the entry reads 2, not 4",
    ),
    (
        "same-value",
        TRANSFUSED,
        "EntryCorrected",
        correction(units=(2, 2)),
        "units: the new value is the old one",
    ),
    (
        "blank-reason",
        TRANSFUSED,
        "EntryCorrected",
        correction(reason="   ", units=(2, 3)),
        "a reason is given for every change",
    ),
    (
        "wrong-entry-kind",
        TRANSFUSED,
        "EntryCorrected",
        correction(kind="BloodCountRecorded", collected_on=("2011-03-01", "2011-03-02")),
        "entry 5 is a TransfusionGiven, not a BloodCountRecorded",
    ),
    (
        "entry-not-found",
        TRANSFUSED,
        "EntryCorrected",
        correction(entry=42, units=(2, 3)),
        "has no entry 42",
    ),
    (
        "voided-entry",
        VOIDED,
        "EntryCorrected",
        correction(units=(2, 3)),
        "entry 5 was voided by entry 6",
    ),
    (
        "not-correctable-field",
        TWO_INFUSIONS,
        "EntryCorrected",
        correction(6, "MscInfusionGiven", infusion_number=(2, 3)),
        "'infusion_number' is not a correctable field",
    ),
    (
        "void-screened",
        TRANSFUSED,
        "EntryVoided",
        {"entry": 1, "entry_kind": "Screened", "reason": "wrong"},
        "a Screened is not voided",
    ),
    (
        "void-enrolled",
        TRANSFUSED,
        "EntryVoided",
        {"entry": 4, "entry_kind": "Enrolled", "reason": "wrong"},
        "a Enrolled is not voided",
    ),
    (
        "to-zero-units",
        TRANSFUSED,
        "EntryCorrected",
        correction(units=(2, 0)),
        "a transfusion is 1-50 units, not 0",
    ),
    (
        "to-negative-count",
        [*ENROLLED, ("BloodCountRecorded", blood_count(platelets=q("12", "10^9/L")))],
        "EntryCorrected",
        correction(
            5,
            "BloodCountRecorded",
            results=({"platelets": q("12", "10^9/L")}, {"platelets": q("-12", "10^9/L")}),
        ),
        "platelets cannot be negative",
    ),
    (
        "to-future-date",
        TRANSFUSED,
        "EntryCorrected",
        correction(given_on=("2011-03-02", in_days(2))),
        "after today at the site",
    ),
    (
        "infusion-2-days-after-another",
        TWO_INFUSIONS,
        "EntryCorrected",
        correction(
            6, "MscInfusionGiven", given_at=("2011-03-17T13:00:00Z", "2011-03-12T13:00:00Z")
        ),
        "infusion 1 was 2 days from this one",
    ),
]


@pytest.mark.parametrize(
    ("before", "kind", "data", "detail"),
    [r[1:] for r in CORRECTION_REFUSALS],
    ids=[r[0] for r in CORRECTION_REFUSALS],
)
def test_a_correction_or_void_that_does_not_fit_is_refused_with_422_and_changes_nothing(
    writer: Writer, before: list[Step], kind: str, data: dict[str, Any], detail: str
) -> None:
    writer.steps(before)

    with writer.unchanged():
        response = writer.post(kind, data)

        assert_problem(response, 422, detail=detail)


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        (
            {"results": {"old": None, "new": {"haemoglobin": q("7.2", "g/dL")}}},
            {"results": ["not a field of TransfusionGiven"]},
        ),
        (
            {"units": {"new": 3}},
            {"units": {"value": {"old": ["Missing data for required field."]}}},
        ),
        (
            {"units": {"old": 2}},
            {"units": {"value": {"new": ["Missing data for required field."]}}},
        ),
        ({"units": {"old": 2, "new": "three"}}, {"units": ["Not a valid integer."]}),
    ],
    ids=["field-of-another-kind", "old-missing", "new-missing", "new-mistyped"],
)
def test_a_malformed_correction_answers_field_by_field_errors(
    writer: Writer, changes: dict[str, Any], errors: dict[str, Any]
) -> None:
    writer.steps(TRANSFUSED)
    data = {"entry": 5, "entry_kind": "TransfusionGiven", "changes": changes, "reason": "typo"}

    with writer.unchanged():
        response = writer.post("EntryCorrected", data)

        assert assert_field_errors(response) == {"event": {"data": {"changes": errors}}}


def test_a_correction_naming_a_kind_that_does_not_exist_is_a_field_error(writer: Writer) -> None:
    writer.steps(TRANSFUSED)

    with writer.unchanged():
        response = writer.post("EntryCorrected", correction(kind="Transfusion", units=(2, 3)))

        errors = assert_field_errors(response)
    assert list(errors["event"]["data"]) == ["entry_kind"]


def test_an_implausible_value_is_accepted_and_flagged(writer: Writer) -> None:
    writer.steps(ENROLLED)

    response = writer.post("BloodCountRecorded", blood_count(haemoglobin=q("31", "g/dL")))

    assert response.status_code == 201, response.get_data(as_text=True)
    flags = json.dumps(writer.summary()["flags"])
    assert "haemoglobin implausible" in flags


def test_a_blood_count_of_one_analyte_is_a_blood_count(writer: Writer) -> None:
    writer.steps(SCREENED)

    response = writer.post("BloodCountRecorded", haemoglobin("7.1"))

    assert response.status_code == 201, response.get_data(as_text=True)
