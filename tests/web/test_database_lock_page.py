"""``/study/database-lock`` through Flask's test client (api/web/database_lock.py): a sponsor
data manager locks a site's database as ``sealtrail lock site`` does, the sponsor's
``DatabaseLocked`` and each subject's ``SubjectLocked`` signed in Python exactly as sign-form.js
signs a list of bodies with their real Ed25519 key, and reopens it
(``/study/database-lock/reopen``) as ``sealtrail reopen site`` does; every refusal shows the
page again and records nothing.

Real stores (SQLite; one PostgreSQL case), real keys, Argon2id passwords; only the access
control's clock is the test's.
"""

from __future__ import annotations

import hashlib

import pytest
from werkzeug.test import TestResponse

from domain.account import SPONSOR_ACCOUNT
from domain.disclosure import SUBJECT_LIST
from domain.subject.locks import LockState
from infrastructure.application.commands import LockDatabase, Signatory
from infrastructure.bootstrap import Store
from infrastructure.identity.sponsor_key import open_sponsor_account
from tests.access.test_subject_locks_api import Trial
from tests.conftest import ON_BOTH_BACKENDS, STUDY, Person
from tests.web.conftest import Browser, signed_in, text
from tests.web.signed_forms import SigningPage

PAGE = "/study/database-lock"


@pytest.fixture
def trial(timed: Store) -> Trial:
    """RP-101 at RP (entries 1-3), its coordinator and investigator, RP's monitor and a
    sponsor data manager; the sponsor's account, as sealtrail init opens it."""
    open_sponsor_account(timed.administration, timed.settings)
    return Trial(timed)


def offered(browser: Browser, site: str = "RP", reason: str = "Analysis") -> TestResponse:
    typed = {"stage": "prepare", "site": site, "reason": reason}
    return browser.submit(PAGE, PAGE, typed)


def signed(
    browser: Browser,
    answer: TestResponse,
    person: Person,
    *,
    to: str = PAGE,
    typed_reason: str = "Analysis",
    **changes: object,
) -> TestResponse:
    """The list of bodies ``answer`` offers, signed as sign-form.js signs it, sent with the
    stage and what the first step asked (site RP, ``typed_reason``)."""
    page = SigningPage(answer)
    form = {**page.signed_each(person, **changes), "stage": "sign"}
    form.update({"site": "RP", "reason": typed_reason})
    return browser.client.post(to, data=form)


def locks(trial: Trial) -> tuple[str, ...]:
    return trial.store.app.account(SPONSOR_ACCOUNT).database_locks


@ON_BOTH_BACKENDS
def test_a_data_manager_locks_a_sites_database_and_its_subjects_signed_in_the_browser(
    trial: Trial,
) -> None:
    trial.ready_to_lock()
    browser = signed_in(trial.store, trial.manager)
    answer = offered(browser)
    bodies = SigningPage(answer).body

    assert [b["kind"] for b in bodies] == ["DatabaseLocked", "SubjectLocked"]
    done = signed(browser, answer, trial.manager)

    assert done.status_code == 302, text(done)
    assert locks(trial) == (f"{STUDY}/RP",)
    assert trial.subject().lock_state is LockState.LOCKED


def test_a_casebook_not_signed_refuses_the_subjects_lock_and_says_why(trial: Trial) -> None:
    browser = signed_in(trial.store, trial.manager)

    answer = signed(browser, offered(browser), trial.manager)

    assert "casebook has no current signature" in text(answer)
    assert trial.subject().lock_state is LockState.OPEN
    # As at the console, the database lock stands: asked again, the page offers the rest.
    assert locks(trial) == (f"{STUDY}/RP",)
    assert [b["kind"] for b in SigningPage(offered(browser)).body] == ["SubjectLocked"]


def test_bodies_not_offered_nothing_signed_or_nothing_said_record_nothing(trial: Trial) -> None:
    browser = signed_in(trial.store, trial.manager)
    answer = offered(browser)
    token = SigningPage(answer).csrf_token

    changed = signed(browser, answer, trial.manager, reason="other")
    unsigned = browser.client.post(
        PAGE, data={"csrf_token": token, "stage": "sign", "site": "RP", "reason": "Analysis"}
    )
    no_reason = offered(browser, reason=" ")
    no_site = offered(browser, site="ZZ")

    assert "The signed bodies are not those this page offered" in text(changed)
    assert "Nothing was signed" in text(unsigned)
    assert (no_reason.status_code, no_site.status_code) == (400, 400)
    assert locks(trial) == ()


def test_only_a_sponsor_data_manager_locks_the_database(trial: Trial) -> None:
    for person in (trial.investigator, trial.monitor, trial.coordinator):
        assert signed_in(trial.store, person).get(PAGE).status_code == 403
    assert 'href="/study/database-lock"' in text(
        signed_in(trial.store, trial.manager).get("/study")
    )


def test_the_offer_naming_the_subjects_is_a_copy_recorded_and_the_empty_form_is_not(
    trial: Trial,
) -> None:
    browser = signed_in(trial.store, trial.manager)
    before = len(trial.store.disclosures.of(trial.manager.user_id))

    assert browser.get(PAGE).status_code == 200
    assert len(trial.store.disclosures.of(trial.manager.user_id)) == before
    answer = offered(browser)  # the empty form read again for its token, then the offer

    copies = trial.store.disclosures.of(trial.manager.user_id)[before:]
    assert [(copy.what, copy.scope.subject, copy.channel) for copy in copies] == [
        (SUBJECT_LIST, None, "web")
    ]
    assert copies[0].sha256 == hashlib.sha256(answer.get_data()).hexdigest()


REOPEN = "/study/database-lock/reopen"


def locked_at_the_console(trial: Trial, site: str | None = "RP") -> None:
    """The database of ``site`` (None: the study) locked as ``sealtrail lock`` locks it."""
    manager = trial.manager
    trial.store.administration.lock_database(
        LockDatabase(SPONSOR_ACCOUNT, STUDY, "Analysis", site),
        by=Signatory(manager.user_id, manager.printed_name, manager.private_key),
    )


def reopening(browser: Browser, site: str = "RP", reason: str = "A late query") -> TestResponse:
    return browser.submit(REOPEN, REOPEN, {"stage": "prepare", "site": site, "reason": reason})


def reopen_signed(
    browser: Browser, answer: TestResponse, person: Person, **changes: object
) -> TestResponse:
    return signed(browser, answer, person, to=REOPEN, typed_reason="A late query", **changes)


def sponsor_version(trial: Trial) -> int:
    return int(trial.store.app.account(SPONSOR_ACCOUNT).version)


@ON_BOTH_BACKENDS
def test_a_data_manager_reopens_a_sites_locked_database_signed_in_the_browser(
    trial: Trial,
) -> None:
    locked_at_the_console(trial)
    browser = signed_in(trial.store, trial.manager)
    assert f'href="{REOPEN}"' in text(browser.get(PAGE))
    answer = reopening(browser)
    body = SigningPage(answer).body

    assert [b["kind"] for b in body] == ["DatabaseReopened"]
    assert body[0]["account"] == SPONSOR_ACCOUNT
    assert body[0]["data"] == {"study": STUDY, "reason": "A late query", "site": "RP"}
    done = reopen_signed(browser, answer, trial.manager)

    assert done.status_code == 302, text(done)
    assert done.headers["Location"] == "/study"
    assert locks(trial) == ()
    record = trial.store.reads.account_history(SPONSOR_ACCOUNT)[-1]
    assert record.event.authorship.body()["signer"]["user_id"] == trial.manager.user_id
    assert f"{STUDY}/RP reopened" in text(browser.get("/study"))


def test_the_whole_study_is_offered_only_when_it_is_locked(trial: Trial) -> None:
    browser = signed_in(trial.store, trial.manager)
    assert "No database of this study is locked." in text(browser.get(REOPEN))

    locked_at_the_console(trial, None)
    answer = browser.submit(REOPEN, REOPEN, {"stage": "prepare", "site": "", "reason": "Why"})

    assert SigningPage(answer).body[0]["data"] == {"study": STUDY, "reason": "Why"}


def test_a_reopening_refused_shows_the_page_again_and_records_nothing(trial: Trial) -> None:
    locked_at_the_console(trial)
    browser = signed_in(trial.store, trial.manager)
    answer = reopening(browser)
    token = SigningPage(answer).csrf_token
    before = sponsor_version(trial)

    changed = reopen_signed(browser, answer, trial.manager, reason="other")
    unsigned = browser.client.post(
        REOPEN, data={"csrf_token": token, "stage": "sign", "site": "RP", "reason": "A late query"}
    )
    bad_signature = {
        **SigningPage(answer).signed_each(trial.manager),
        "stage": "sign", "site": "RP", "reason": "A late query",
    }  # fmt: skip
    bad_signature["signature"] = bad_signature["signature"].replace('"', '"A', 1)
    forged = browser.client.post(REOPEN, data=bad_signature)
    by_another = reopen_signed(browser, answer, trial.investigator)
    no_reason = reopening(browser, reason=" ")
    not_locked = reopening(browser, site="SP")
    no_token = browser.client.post(
        REOPEN, data={"stage": "prepare", "site": "RP", "reason": "A late query"}
    )

    assert "The signed bodies are not those this page offered" in text(changed)
    assert "Nothing was signed" in text(unsigned)
    assert forged.status_code == 200 and "error-summary" in text(forged)
    assert by_another.status_code == 200 and "error-summary" in text(by_another)
    assert "Say why the database is reopened" in text(no_reason)
    assert "Choose a locked site or the whole study" in text(not_locked)
    assert "A late query</textarea>" in text(not_locked)
    assert (no_reason.status_code, not_locked.status_code, no_token.status_code) == (400, 400, 400)
    assert locks(trial) == (f"{STUDY}/RP",) and sponsor_version(trial) == before


def test_a_stale_reopening_records_nothing(trial: Trial) -> None:
    locked_at_the_console(trial)
    browser = signed_in(trial.store, trial.manager)
    answer = reopening(browser)
    # The study's database locked at the console since the page was read: the version the
    # page offered is taken.
    locked_at_the_console(trial, None)
    before = sponsor_version(trial)

    stale = reopen_signed(browser, answer, trial.manager)

    assert stale.status_code == 200 and "error-summary" in text(stale)
    assert sponsor_version(trial) == before
    assert set(locks(trial)) == {f"{STUDY}/RP", STUDY}


def test_only_a_sponsor_data_manager_reopens_the_database(trial: Trial) -> None:
    locked_at_the_console(trial)
    for person in (trial.investigator, trial.monitor, trial.coordinator):
        browser = signed_in(trial.store, person)
        assert browser.get(REOPEN).status_code == 403
        token = browser.csrf_token("/account")
        sent = browser.client.post(
            REOPEN, data={"csrf_token": token, "stage": "prepare", "site": "RP", "reason": "Why"}
        )
        assert sent.status_code == 403
    assert locks(trial) == (f"{STUDY}/RP",)
