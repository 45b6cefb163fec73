"""Freezing, locking and unlocking a subject over the API: each step a signed event of the
subject's stream, by the role issue 18 gives it; a write to closed records is a 409 of its own,
and nothing is recorded.

Over the real API (Flask test client on a SQLite store, and once on PostgreSQL), with real keys.
"""

from __future__ import annotations

import pytest

from domain.account import Role
from infrastructure.bootstrap import Store
from tests.access.conftest import Clock, assert_problem, make_person, with_access
from tests.access.test_casebook_signing_api import Casebook
from tests.conftest import BACKENDS, haemoglobin, haemoglobin_correction
from tests.e2e.conftest import SUBJECT

LOCKED = {"scope": "subject", "reason": "end of study"}


class Trial(Casebook):
    """The casebook trial's subject at RP (entries 1-3, a blood count third), its coordinator
    and investigator, RP's monitor and a sponsor data manager."""

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self.monitor = make_person(
            store, "mon1", role=Role.MONITOR, sites=("RP",), printed_name="Caio Reis"
        )
        self.manager = make_person(
            store, "dm1", role=Role.SPONSOR_DATA_MANAGER, printed_name="Ana Dias"
        )

    def ready_to_lock(self) -> None:
        """The subject leaves the study (entry 4) and its casebook is signed (entry 5)."""
        self.leave_the_study()
        signed = self.sign_casebook("end_of_study")
        assert signed.status_code == 201, signed.get_data(as_text=True)

    def version(self) -> int:
        return self.subject().version

    def lock_state(self) -> str:
        """The subject's lock state as ``GET`` the subject shows it to the data manager."""
        url = f"/v1/studies/NCT01297972/subjects/{SUBJECT}"
        shown = self.site.client.get(url, headers=self.site.auth(self.manager)).get_json()
        return str(shown["lock_state"])


@pytest.fixture
def trial(sqlite_store: Store, clock: Clock) -> Trial:
    return Trial(with_access(sqlite_store, clock))


def test_a_frozen_subject_answers_409_to_a_record_and_a_correction_and_takes_queries(
    trial: Trial,
) -> None:
    site = trial.site
    frozen = site.submit(trial.manager, "SubjectFrozen", {"reason": "cleaning"})
    before = trial.version()

    new_record = site.submit(trial.coordinator, "BloodCountRecorded", haemoglobin())
    correction = site.submit(trial.coordinator, "EntryCorrected", haemoglobin_correction())

    assert frozen.status_code == 201, frozen.get_data(as_text=True)
    assert_problem(new_record, 409, title="Subject frozen", detail=f"{SUBJECT} is frozen")
    assert_problem(correction, 409, title="Subject frozen")
    assert trial.version() == before
    question = {"entry": 3, "entry_kind": "BloodCountRecorded", "question": "Source says 7.4?"}
    assert site.submit(trial.monitor, "QueryRaised", question).status_code == 201
    answer = {"query": before + 1, "answer": "Yes"}
    assert site.submit(trial.coordinator, "QueryAnswered", answer).status_code == 201


def test_a_coordinator_or_an_investigator_may_not_freeze_or_lock(trial: Trial) -> None:
    site = trial.site
    trial.ready_to_lock()
    by_coordinator = site.submit(trial.coordinator, "SubjectLocked", LOCKED)
    by_investigator = site.submit(trial.investigator, "SubjectFrozen", {"reason": "x"})

    assert_problem(by_coordinator, 403, detail="does not freeze, lock and unlock subjects")
    assert_problem(by_investigator, 403, detail="does not freeze, lock and unlock subjects")
    assert trial.version() == 5


@pytest.mark.requirement("P11-11.10f-1")
def test_a_lock_without_a_current_casebook_signature_is_refused(trial: Trial) -> None:
    refused = trial.site.submit(trial.manager, "SubjectLocked", LOCKED)

    assert_problem(refused, 422, title="Casebook not signed", detail="no current signature")
    assert trial.version() == 3


def test_an_unlock_needs_the_reason_and_both_signatures(trial: Trial) -> None:
    site = trial.site
    trial.ready_to_lock()
    assert site.submit(trial.manager, "SubjectLocked", LOCKED).status_code == 201  # entry 6

    no_reason = site.submit(trial.manager, "SubjectUnlockRequested", {"reason": " "})
    alone = site.submit(trial.investigator, "SubjectUnlocked", {"request": 6})
    requested = site.submit(trial.manager, "SubjectUnlockRequested", {"reason": "typo in Hb"})
    still_locked = site.submit(trial.coordinator, "EntryCorrected", haemoglobin_correction())
    by_manager = site.submit(trial.manager, "SubjectUnlocked", {"request": 7})
    by_coordinator = site.submit(trial.coordinator, "SubjectUnlocked", {"request": 7})
    unlocked = site.submit(trial.investigator, "SubjectUnlocked", {"request": 7})
    corrected = site.submit(trial.coordinator, "EntryCorrected", haemoglobin_correction())

    assert_problem(no_reason, 422, title="Lock step not accepted", detail="reason")
    assert_problem(alone, 422, title="Lock step not accepted", detail="asks first")
    assert requested.status_code == 201
    assert_problem(still_locked, 409, title="Subject locked")
    assert_problem(by_manager, 403, detail="does not sign clinical records")
    assert_problem(by_coordinator, 403, detail="does not sign clinical records")
    assert unlocked.status_code == 201, unlocked.get_data(as_text=True)
    assert corrected.status_code == 201, corrected.get_data(as_text=True)
    assert trial.lock_state() == "open"


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_locked_subject_refuses_writes_and_verifies_on_each_backend(
    timed: Store, backend: str
) -> None:
    trial = Trial(timed)
    site = trial.site
    trial.ready_to_lock()
    locked = site.submit(trial.manager, "SubjectLocked", LOCKED)
    refused = site.submit(trial.coordinator, "BloodCountRecorded", haemoglobin())
    shown = trial.lock_state()
    history = site.client.get(
        f"/v1/studies/NCT01297972/subjects/{SUBJECT}/history", headers=site.auth(trial.manager)
    ).get_json()
    report = site.store.verifier(workers=1).verify()

    assert locked.status_code == 201, locked.get_data(as_text=True)
    assert_problem(refused, 409, title="Subject locked")
    assert shown == "locked"
    assert [(e["kind"], e["signature_manifestation"]["user_id"]) for e in history][3:] == [
        ("ScreenFailed", "coord1"),
        ("CasebookSigned", "inv1"),
        ("SubjectLocked", "dm1"),
    ]
    assert report.ok, report.findings
