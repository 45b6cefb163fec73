"""Data clarification queries: a monitor asks about a record, the site answers, the monitor
closes; each step a signed event of the subject's stream, by the role issue 5 gives it.

Over the real API (Flask test client on a SQLite store, and once on PostgreSQL), with real keys.
"""

from __future__ import annotations

from typing import Any

import pytest

from domain.account import Role
from infrastructure.bootstrap import Store
from tests.access.conftest import assert_problem
from tests.conftest import Person, PersonFactory, consent, haemoglobin, screening
from tests.e2e.conftest import SUBJECT, Site


class Trial:
    """RP's coordinator and monitor, SP's monitor, and an auditor, on a subject at RP whose
    third entry is a blood count."""

    def __init__(self, site: Site, person_in: PersonFactory) -> None:
        self.site = site
        store = site.store
        self.coordinator = person_in(store, "coord1", role=Role.SITE_COORDINATOR, sites=("RP",))
        self.monitor = person_in(store, "mon1", printed_name="Caio Reis", role=Role.MONITOR)
        self.other_monitor = person_in(
            store, "mon2", printed_name="Ivo Sales", role=Role.MONITOR, sites=("SP",)
        )
        self.auditor = person_in(store, "aud1", printed_name="Lia Prado", role=Role.AUDITOR)
        assert site.submit(self.coordinator, "Screened", screening()).status_code == 201
        assert site.submit(self.coordinator, "ConsentObtained", consent()).status_code == 201
        count = site.submit(self.coordinator, "BloodCountRecorded", haemoglobin("76"))
        assert count.status_code == 201, count.get_data(as_text=True)

    def raise_query(self, by: Person | None = None, **data: Any) -> Any:
        asked = {
            "entry": 3,
            "entry_kind": "BloodCountRecorded",
            "item": "results",
            "question": "Haemoglobin 76 g/dL: a decimal point missing?",
            **data,
        }
        return self.site.submit(by or self.monitor, "QueryRaised", asked)

    def state(self) -> dict[str, Any]:
        response = self.site.client.get(
            f"/v1/studies/NCT01297972/subjects/{SUBJECT}", headers=self.site.auth(self.auditor)
        )
        assert response.status_code == 200
        return dict(response.get_json())


@pytest.fixture
def trial(site_client: Site, person_in: PersonFactory) -> Trial:
    return Trial(site_client, person_in)


@pytest.mark.requirement("E6-4.2.2-2")
def test_a_query_is_raised_answered_and_closed_and_the_subject_shows_each_step(
    trial: Trial,
) -> None:
    raised = trial.raise_query()
    opened = trial.state()["queries"]
    answered = trial.site.submit(
        trial.coordinator, "QueryAnswered", {"query": 4, "answer": "Yes: 7.6, corrected."}
    )
    waiting = trial.state()["queries"]
    closed = trial.site.submit(
        trial.monitor, "QueryClosed", {"query": 4, "resolution": "Corrected at source."}
    )

    assert raised.status_code == 201, raised.get_data(as_text=True)
    assert answered.status_code == 201 and closed.status_code == 201
    assert opened == [
        {
            "query": 4,
            "entry": 3,
            "entry_kind": "BloodCountRecorded",
            "item": "results",
            "question": "Haemoglobin 76 g/dL: a decimal point missing?",
            "status": "open",
            "answers": [],
            "closed_by": None,
        }
    ]
    assert waiting[0]["status"] == "answered"
    assert waiting[0]["answers"] == [{"entry": 5, "answer": "Yes: 7.6, corrected."}]
    final = trial.state()["queries"][0]
    assert final["status"] == "closed"
    assert final["closed_by"] == {"entry": 6, "resolution": "Corrected at source."}


@pytest.mark.requirement("E6-4.2.2-2")
def test_the_query_steps_are_signed_events_in_the_history_and_verify_clean(
    trial: Trial,
) -> None:
    trial.raise_query()
    trial.site.submit(trial.coordinator, "QueryAnswered", {"query": 4, "answer": "7.6"})

    history = trial.site.client.get(
        f"/v1/studies/NCT01297972/subjects/{SUBJECT}/history",
        headers=trial.site.auth(trial.auditor),
    ).get_json()
    report = trial.site.store.verifier(workers=1).verify()

    kinds = [(e["kind"], e["signature_manifestation"]["user_id"]) for e in history]
    assert kinds[3:] == [("QueryRaised", "mon1"), ("QueryAnswered", "coord1")]
    assert report.ok, report.findings


@pytest.mark.parametrize(
    ("who", "kind", "data", "detail"),
    [
        ("coordinator", "QueryRaised", None, "a site_coordinator does not raise queries"),
        ("auditor", "QueryRaised", None, "an auditor does not raise queries"),
        ("monitor", "QueryAnswered", {"query": 4, "answer": "x"}, "does not enter clinical data"),
        (
            "coordinator",
            "QueryClosed",
            {"query": 4, "resolution": "x"},
            "a site_coordinator does not raise queries",
        ),
        ("monitor", "BloodCountRecorded", haemoglobin("7.6"), "does not enter clinical data"),
    ],
)
def test_each_step_is_taken_only_by_the_role_that_takes_it(
    trial: Trial, who: str, kind: str, data: dict[str, Any] | None, detail: str
) -> None:
    if data is not None:
        assert trial.raise_query().status_code == 201
    person = getattr(trial, who)
    before = trial.state()["version"]

    if data is None:
        refused = trial.raise_query(by=person)
    else:
        refused = trial.site.submit(person, kind, data)

    assert_problem(refused, 403, detail=detail)
    assert trial.state()["version"] == before


def test_a_monitor_of_another_site_finds_no_subject_to_query(trial: Trial) -> None:
    before = trial.state()["version"]

    refused = trial.raise_query(by=trial.other_monitor)

    # As a subject that does not exist (issue 15, point 11).
    assert_problem(refused, 404, title="Subject not found", detail="has not been screened")
    assert trial.state()["version"] == before


@pytest.mark.parametrize(
    ("data", "status", "detail"),
    [
        ({"entry": 9}, 422, "has no entry 9"),
        (
            {"entry_kind": "TransfusionGiven"},
            422,
            "is a BloodCountRecorded, not a TransfusionGiven",
        ),
        ({"item": "dose"}, 422, "a BloodCountRecorded has no field 'dose'"),
        ({"question": "   "}, 422, "a query asks a question"),
        ({"question": "\u200b\u2060"}, 422, "a query asks a question"),
        ({"entry_kind": "QueryRaised"}, 422, "not a kind of record"),
        ({"entry": 1, "entry_kind": "Screened", "item": 3}, 422, "Not a valid string"),
    ],
)
def test_a_query_that_does_not_fit_its_record_is_refused_and_records_nothing(
    trial: Trial, data: dict[str, Any], status: int, detail: str
) -> None:
    refused = trial.raise_query(**data)

    problem = assert_problem(refused, status)
    assert detail in str(problem), problem
    assert trial.state()["queries"] == []


def test_a_query_about_a_query_is_refused(trial: Trial) -> None:
    trial.raise_query()

    refused = trial.raise_query(entry=4, entry_kind="BloodCountRecorded")

    assert_problem(refused, 422, detail="entry 4 is a QueryRaised, not a BloodCountRecorded")


def test_a_closed_query_takes_no_answer_and_no_second_closing(trial: Trial) -> None:
    trial.raise_query()
    trial.site.submit(trial.monitor, "QueryClosed", {"query": 4, "resolution": "no longer needed"})

    answer = trial.site.submit(trial.coordinator, "QueryAnswered", {"query": 4, "answer": "7.6"})
    again = trial.site.submit(trial.monitor, "QueryClosed", {"query": 4, "resolution": "again"})
    unknown = trial.site.submit(trial.coordinator, "QueryAnswered", {"query": 2, "answer": "7.6"})

    assert_problem(answer, 422, title="Query not accepted", detail="was closed by entry 5")
    assert_problem(again, 422, detail="was closed by entry 5")
    assert_problem(unknown, 422, detail="has no query 2")


def test_a_query_is_neither_corrected_nor_voided_nor_signed(trial: Trial) -> None:
    trial.raise_query()

    voided = trial.site.submit(
        trial.coordinator,
        "EntryVoided",
        {"entry": 4, "entry_kind": "QueryRaised", "reason": "wrong"},
    )

    assert_problem(voided, 422)
    assert trial.state()["queries"][0]["status"] == "open"


def test_a_query_is_raised_on_either_database(store: Store, person_in: PersonFactory) -> None:
    trial = Trial(Site(store), person_in)

    assert trial.raise_query().status_code == 201
    assert trial.state()["queries"][0]["status"] == "open"
