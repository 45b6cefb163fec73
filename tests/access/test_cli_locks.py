"""``sealtrail freeze``, ``lock subject|site|study``, ``reopen site|study`` and ``unlock
request|approve`` as the data manager and the investigator run them on the store (``--as``,
``--key``); a site's and the study's database lock and reopening (on the console, and as the
sponsor's account events over the API), which no screening passes while locked; a refusal is one
line and exit 1, a missing reason one line and exit 2.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from werkzeug.test import TestResponse

from api.console import main
from api.schemas.submissions import submission_from
from domain.account import SPONSOR_ACCOUNT, Account
from domain.errors import LockStepRefused
from domain.subject.locks import LockState
from infrastructure.application.commands import LockDatabase, Signatory
from infrastructure.application.guards import admit
from infrastructure.identity.sponsor_key import open_sponsor_account
from infrastructure.packets.build import build_packet
from infrastructure.packets.verify import verify_packet
from infrastructure.store.event_store import KNOWN_ACCOUNTS
from projections.lock_state import LOCK_STATE
from signatures.keys import private_key_to_pem
from tests.access.conftest import Admin, Clock, assert_problem, with_access
from tests.access.test_subject_locks_api import Trial
from tests.conftest import BACKENDS, STUDY, Person, screening, store_asked_for
from tests.e2e.conftest import SUBJECT
from tests.insider import connection


def sealtrail(trial: Trial, person: Person, *args: str) -> Result:
    """``sealtrail ARGS --as PERSON --key THEIR_KEY`` on the trial's store."""
    home = trial.store.settings.home
    key = Path(home) / f"{person.user_id}.pem"
    key.write_bytes(private_key_to_pem(person.private_key))
    env = {
        "SEALTRAIL_HOME": str(home),
        "SEALTRAIL_DATABASE_URL": trial.store.settings.database_url.render_as_string(False),
        "SEALTRAIL_PASSWORD": person.password,
    }
    arguments = [*args, "--as", person.user_id, "--key", str(key)]
    return CliRunner().invoke(main, arguments, env=env, catch_exceptions=False)


def refused(done: Result, title: str) -> None:
    assert done.exit_code == 1, done.output
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert done.stderr.startswith(f"sealtrail: {title}: "), done.stderr


@pytest.fixture
def trial(request: pytest.FixtureRequest, clock: Clock) -> Trial:
    """On SQLite, or on the backend a test names (indirectly)."""
    store = with_access(store_asked_for(request), clock)
    open_sponsor_account(store.administration, store.settings)  # as sealtrail init does
    return Trial(store)


def test_a_site_lock_locks_its_subjects_and_refuses_new_screenings(trial: Trial) -> None:
    trial.ready_to_lock()

    done = sealtrail(trial, trial.manager, "lock", "site", "--site", "RP", "--reason", "analysis")
    screened = trial.site.submit(trial.coordinator, "Screened", screening(), subject="RP-102")
    elsewhere = trial.site.submit(trial.manager, "Screened", screening(site="SP"), subject="SP-1")
    again = sealtrail(trial, trial.manager, "lock", "site", "--site", "RP", "--reason", "again")

    assert done.exit_code == 0, done.output
    assert "locked NCT01297972/RP: 1 subject(s) locked now" in done.stdout
    assert trial.subject().lock_state is LockState.LOCKED
    assert_problem(screened, 409, title="Database locked", detail="NCT01297972/RP is locked")
    assert elsewhere.status_code == 403  # not locked there: the data manager screens no one
    assert "locked NCT01297972/RP: 0 subject(s) locked now" in again.stdout  # run again: none left
    assert trial.store.verifier(workers=1).verify().ok


def test_a_site_lock_locks_a_subject_whose_view_row_an_insider_deleted(trial: Trial) -> None:
    """The subjects in scope are read from the log: a view row removed by someone with the
    database file and no key leaves no subject of a locked site open."""
    trial.ready_to_lock()
    trial.store.views.of_study("NCT01297972")  # the views caught up, then a row removed
    with connection(trial.store.settings.database_url) as execute:
        execute("DELETE FROM view_subject_summary")

    done = sealtrail(trial, trial.manager, "lock", "site", "--site", "RP", "--reason", "analysis")

    assert done.exit_code == 0, done.output
    assert "locked NCT01297972/RP: 1 subject(s) locked now" in done.stdout
    assert trial.subject().lock_state is LockState.LOCKED


def test_a_study_lock_refused_for_an_unsigned_casebook_locks_nothing_and_is_run_again(
    trial: Trial,
) -> None:
    trial.leave_the_study()  # no casebook signature yet

    first = sealtrail(trial, trial.manager, "lock", "study", "--reason", "database lock")
    signed = trial.sign_casebook("end_of_study")
    second = sealtrail(trial, trial.manager, "lock", "study", "--reason", "database lock")

    refused(first, "Casebook not signed")
    assert signed.status_code == 201
    assert second.exit_code == 0, second.output
    assert trial.subject().lock_state is LockState.LOCKED
    sponsor = trial.store.app.account(SPONSOR_ACCOUNT)
    assert sponsor.database_locks == ("NCT01297972",)


@pytest.mark.requirement("E6-4.2.6-1")
@pytest.mark.parametrize("trial", BACKENDS, indirect=True)
def test_freeze_lock_and_a_two_party_unlock_from_the_console(trial: Trial) -> None:
    subject = ("--subject", SUBJECT)
    trial.leave_the_study()
    frozen = sealtrail(trial, trial.manager, "freeze", *subject, "--reason", "cleaning")
    assert trial.sign_casebook("end_of_study").status_code == 201  # taken while frozen
    lock = ("lock", "subject", *subject, "--reason", "end of study")
    by_coordinator = sealtrail(trial, trial.coordinator, *lock)
    locked = sealtrail(trial, trial.manager, *lock)
    write = sealtrail(trial, trial.manager, "freeze", *subject, "--reason", "again")
    nothing_to_approve = sealtrail(trial, trial.investigator, "unlock", "approve", *subject)
    asked = sealtrail(trial, trial.manager, "unlock", "request", *subject, "--reason", "Hb typo")
    approved = sealtrail(trial, trial.investigator, "unlock", "approve", *subject)

    assert frozen.exit_code == 0 and locked.exit_code == 0, frozen.output + locked.output
    refused(by_coordinator, "Not permitted")
    refused(write, "Subject locked")
    refused(nothing_to_approve, "Lock step not accepted")
    assert asked.exit_code == 0 and approved.exit_code == 0, asked.output + approved.output
    assert trial.subject().lock_state is LockState.OPEN


def sponsor_version(trial: Trial) -> int:
    return trial.store.app.account(SPONSOR_ACCOUNT).version


def test_a_reopened_site_screens_again_and_its_locked_subjects_stay_locked(trial: Trial) -> None:
    trial.ready_to_lock()
    locked = sealtrail(trial, trial.manager, "lock", "site", "--site", "RP", "--reason", "analysis")

    done = sealtrail(
        trial, trial.manager, "reopen", "site", "--site", "RP", "--reason", "a late subject"
    )
    screened = trial.site.submit(trial.coordinator, "Screened", screening(), subject="RP-102")

    assert locked.exit_code == 0 and done.exit_code == 0, locked.output + done.output
    assert "reopened NCT01297972/RP: subjects are screened there again" in done.stdout
    assert screened.status_code == 201, screened.get_data(as_text=True)
    assert trial.subject().lock_state is LockState.LOCKED
    sponsor = trial.store.app.account(SPONSOR_ACCOUNT)
    assert sponsor.database_locks == ()
    assert trial.store.verifier(workers=1).verify().ok


@pytest.mark.parametrize(
    ("who", "args", "code", "says"),
    [
        ("manager", ("study",), 2, "sealtrail: --reason is required: say why"),
        ("manager", ("site", "--site", "RP", "--reason", " "), 2, "sealtrail: --reason is"),
        ("investigator", ("study", "--reason", "why"), 1, "sealtrail: Not permitted: "),
        ("manager", ("site", "--site", "SP", "--reason", "why"), 1,
         "sealtrail: Lock step not accepted: the database of site SP of NCT01297972 is not locked"),
    ],
)  # fmt: skip
def test_a_reopening_without_a_reason_by_another_role_or_of_an_open_site_records_nothing(
    trial: Trial, who: str, args: tuple[str, ...], code: int, says: str
) -> None:
    trial.ready_to_lock()
    locked = sealtrail(trial, trial.manager, "lock", "study", "--reason", "database lock")
    before = sponsor_version(trial)

    done = sealtrail(trial, getattr(trial, who), "reopen", *args)

    assert locked.exit_code == 0, locked.output
    assert done.exit_code == code, done.output
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert done.stderr.startswith(says), done.stderr
    assert sponsor_version(trial) == before
    assert trial.store.app.account(SPONSOR_ACCOUNT).database_locks == ("NCT01297972",)


@pytest.mark.parametrize("scope", ["site", "study"])
def test_a_subject_lock_naming_a_database_lock_never_recorded_is_refused(
    trial: Trial, scope: str
) -> None:
    trial.ready_to_lock()

    refused = trial.site.submit(trial.manager, "SubjectLocked", {"scope": scope, "reason": "x"})

    assert_problem(refused, 422, title="Lock step not accepted", detail="is not locked")
    assert trial.subject().lock_state is LockState.OPEN


def post_database_step(trial: Trial, person: Person, kind: str) -> TestResponse:
    """``POST /v1/accounts`` of the sponsor's ``kind`` for site RP, signed by ``person``."""
    signer = Admin(
        person.user_id, person.printed_name, person.private_key, person.password, trial.store
    )
    data = {"study": "NCT01297972", "site": "RP", "reason": "analysis"}
    payload = {"events": [signer.signed(SPONSOR_ACCOUNT, kind, data)]}
    return trial.site.client.post("/v1/accounts", json=payload, headers=trial.site.auth(person))


def test_a_database_lock_is_recorded_over_the_api_by_a_data_manager_alone(trial: Trial) -> None:
    def post(person: Person) -> TestResponse:
        return post_database_step(trial, person, Account.DatabaseLocked.__name__)

    by_investigator = post(trial.investigator)
    by_manager = post(trial.manager)
    screened = trial.site.submit(trial.coordinator, "Screened", screening(), subject="RP-102")

    assert_problem(by_investigator, 403, detail="does not freeze, lock and unlock subjects")
    assert by_manager.status_code == 201, by_manager.get_data(as_text=True)
    assert_problem(screened, 409, title="Database locked")
    assert trial.store.app.find_subject("NCT01297972/RP-102") is None


def test_a_database_is_reopened_over_the_api_by_a_data_manager_alone(trial: Trial) -> None:
    def post(person: Person) -> TestResponse:
        return post_database_step(trial, person, Account.DatabaseReopened.__name__)

    assert (
        post_database_step(trial, trial.manager, Account.DatabaseLocked.__name__).status_code == 201
    )
    by_investigator = post(trial.investigator)
    by_manager = post(trial.manager)
    again = post(trial.manager)
    screened = trial.site.submit(trial.coordinator, "Screened", screening(), subject="RP-102")

    assert_problem(by_investigator, 403, detail="does not freeze, lock and unlock subjects")
    assert by_manager.status_code == 201, by_manager.get_data(as_text=True)
    assert_problem(again, 422, title="Lock step not accepted", detail="is not locked")
    assert screened.status_code == 201, screened.get_data(as_text=True)


def test_a_packet_states_the_lock_state_at_its_checkpoint_and_verifies(trial: Trial) -> None:
    trial.ready_to_lock()
    locked = sealtrail(trial, trial.manager, "lock", "site", "--site", "RP", "--reason", "analysis")

    packet = build_packet(trial.store, documents=False)
    report = verify_packet(packet, redraw_documents=False)
    with zipfile.ZipFile(io.BytesIO(packet)) as archive:
        stated = json.loads(archive.read(LOCK_STATE))
        readme = archive.read("README.txt").decode()

    assert locked.exit_code == 0, locked.output
    assert report.findings == []
    assert stated == {
        "study": "NCT01297972",
        "databases_locked": ["NCT01297972/RP"],
        "subjects": {SUBJECT: {"state": "locked", "last_step": 6, "unlock_requested": None}},
    }
    assert LOCK_STATE in readme


@pytest.mark.parametrize("trial", BACKENDS, indirect=True)
def test_a_subject_lock_checked_within_a_site_lock_and_saved_after_a_reopening_is_refused(
    trial: Trial,
) -> None:
    """A subject's lock naming its site's database lock, checked while the site was locked and
    saved once the data manager's reopening is recorded, is refused in its write turn (the
    sponsor's account read again): the store never keeps a lock that verify would then name
    not-authorised (domain.authority)."""
    trial.ready_to_lock()
    store = trial.store
    manager = Signatory(
        trial.manager.user_id, trial.manager.printed_name, trial.manager.private_key
    )
    lock = LockDatabase(SPONSOR_ACCOUNT, STUDY, "analysis", "RP")
    store.administration.lock_database(lock, by=manager)
    actor = store.app.account(trial.manager.user_id)
    sponsor_then = store.app.account(SPONSOR_ACCOUNT)  # as the lock's check read it
    subject = trial.subject()
    data = {"scope": "site", "reason": "analysis"}
    body = trial.manager.body(SUBJECT, "SubjectLocked", data, version=subject.version + 1)
    locked = admit(actor, subject, submission_from(body, trial.manager.sign(body)))
    store.administration.lock_database(
        replace(lock, reason="a query to answer"), by=manager, reopen=True
    )

    with pytest.raises(LockStepRefused, match="NCT01297972/RP is not locked"):
        store.app.save(
            locked, **{KNOWN_ACCOUNTS: {actor.user_id: actor, SPONSOR_ACCOUNT: sponsor_then}}
        )

    assert trial.subject().lock_state is LockState.OPEN
    assert store.verifier(workers=1).verify().ok
