"""``/subjects/<code>/lock-steps/<step>`` through Flask's test client (api/web/lock_steps.py):
a sponsor data manager freezes, locks or asks to unlock a subject, the site's investigator
approves the unlock, each step's body signed in Python exactly as sign-form.js signs it with the
person's real Ed25519 key and recorded by the same service as ``POST /v1/events``; every refusal
shows the form again with the reason and records nothing.

Real stores (SQLite; one PostgreSQL case), real keys, Argon2id passwords; only the access
control's clock is the test's.
"""

from __future__ import annotations

import pytest
from werkzeug.test import TestResponse

from domain.account import Role
from domain.disclosure import SUBJECT_PAGE
from domain.subject.locks import LockState, pending_unlock_request
from infrastructure.bootstrap import Store
from tests.access.conftest import make_person
from tests.access.test_subject_locks_api import Trial
from tests.conftest import ON_BOTH_BACKENDS, Person
from tests.e2e.conftest import SUBJECT
from tests.web.conftest import Browser, text
from tests.web.signed_forms import SigningPage

STEPS = f"/subjects/{SUBJECT}/lock-steps"


@pytest.fixture
def trial(timed: Store) -> Trial:
    """RP-101 at RP (entries 1-3), its coordinator and investigator, RP's monitor and a
    sponsor data manager."""
    return Trial(timed)


def signed_in(store: Store, person: Person) -> Browser:
    browser = Browser(store)
    answer = browser.sign_in(person.user_id, person.password)
    assert answer.status_code == 302, text(answer)
    return browser


def take(
    trial: Trial, person: Person, step: str, typed: dict[str, str], **changes: object
) -> TestResponse:
    """The step's page read, its body signed as sign-form.js signs it, and sent."""
    browser = signed_in(trial.store, person)
    url = f"{STEPS}/{step}"
    form = SigningPage(browser.get(url)).signed(person, typed, **changes)
    return browser.client.post(url, data=form)


def state(trial: Trial) -> LockState:
    return trial.subject().lock_state


@ON_BOTH_BACKENDS
def test_a_data_manager_freezes_asks_to_unlock_and_the_investigator_approves(
    trial: Trial,
) -> None:
    frozen = take(trial, trial.manager, "freeze", {"reason": "Cleaning before lock"})
    assert frozen.status_code == 302, text(frozen)
    assert state(trial) is LockState.FROZEN

    asked = take(trial, trial.manager, "request-unlock", {"reason": "A late lab result"})
    assert asked.status_code == 302, text(asked)
    request = pending_unlock_request(trial.subject())
    assert request == trial.version()

    approved = take(trial, trial.investigator, "approve-unlock", {})
    assert approved.status_code == 302, text(approved)
    assert state(trial) is LockState.OPEN
    assert trial.subject().entries[trial.version()].fields["request"] == request


def test_the_subject_page_offers_each_person_the_steps_that_apply_and_the_page_is_a_copy(
    trial: Trial,
) -> None:
    manager = text(signed_in(trial.store, trial.manager).get(f"/subjects/{SUBJECT}"))
    investigator = text(signed_in(trial.store, trial.investigator).get(f"/subjects/{SUBJECT}"))

    assert f'href="{STEPS}/freeze"' in manager and f'href="{STEPS}/lock"' in manager
    assert f'href="{STEPS}/request-unlock"' not in manager
    assert "/lock-steps/" not in investigator
    signed_in(trial.store, trial.manager).get(f"{STEPS}/freeze")
    last = trial.store.disclosures.of(trial.manager.user_id)[-1]
    assert (last.what, last.scope.subject) == (SUBJECT_PAGE, SUBJECT)


def test_a_lock_of_a_casebook_not_signed_is_refused_with_the_reason_typed_kept(
    trial: Trial,
) -> None:
    before = trial.version()

    answer = take(trial, trial.manager, "lock", {"reason": "Database lock"})

    page = text(answer)
    assert answer.status_code == 200
    assert "casebook has no current signature" in page
    assert "Database lock" in page
    assert trial.version() == before


def test_a_locked_subject_is_offered_the_unlock_request(trial: Trial) -> None:
    trial.ready_to_lock()

    assert take(trial, trial.manager, "lock", {"reason": "End of study"}).status_code == 302
    assert state(trial) is LockState.LOCKED
    manager = text(signed_in(trial.store, trial.manager).get(f"/subjects/{SUBJECT}"))
    assert f'href="{STEPS}/request-unlock"' in manager
    assert signed_in(trial.store, trial.manager).get(f"{STEPS}/lock").status_code == 409


def test_roles_that_never_take_a_step_are_refused_and_another_sites_investigator_finds_none(
    trial: Trial,
) -> None:
    other = make_person(trial.store, "inv2", role=Role.INVESTIGATOR, sites=("SP",))
    for person, step in (
        (trial.monitor, "freeze"),
        (trial.coordinator, "lock"),
        (trial.investigator, "request-unlock"),
        (trial.manager, "approve-unlock"),
    ):
        assert signed_in(trial.store, person).get(f"{STEPS}/{step}").status_code == 403
    assert signed_in(trial.store, other).get(f"{STEPS}/freeze").status_code == 403
    assert signed_in(trial.store, other).get(f"{STEPS}/approve-unlock").status_code == 404
    assert signed_in(trial.store, trial.manager).get(f"{STEPS}/melt").status_code == 404


def test_a_stale_version_another_kind_or_subject_or_nothing_signed_records_nothing(
    trial: Trial,
) -> None:
    before = trial.version()
    browser = signed_in(trial.store, trial.manager)
    url = f"{STEPS}/freeze"
    page = SigningPage(browser.get(url))
    stale = page.signed(trial.manager, {"reason": "Cleaning"}, version=before)
    other_kind = page.signed(trial.manager, {"reason": "Cleaning"}, kind="SubjectLocked")
    other_subject = page.signed(trial.manager, {"reason": "Cleaning"}, subject="SP-201")
    unsigned = {"csrf_token": page.csrf_token, "reason": "Cleaning"}
    no_token = {k: v for k, v in stale.items() if k != "csrf_token"}

    said = [text(browser.client.post(url, data=form)) for form in (stale, other_kind)]
    said += [text(browser.client.post(url, data=form)) for form in (other_subject, unsigned)]

    assert "version" in said[0]
    assert "event.data.scope" in said[1]  # a lock's data has a scope: the schema refuses it
    assert "The signed body is not a SubjectFrozen of RP-101" in said[2]
    assert "Nothing was signed" in said[3]
    assert browser.client.post(url, data=no_token).status_code == 400
    assert trial.version() == before
