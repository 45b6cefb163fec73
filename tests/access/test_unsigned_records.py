"""What is left to sign: ``sealtrail sign-casebook`` from the command line (through a real HTTP
server), and the records no current signature covers, on ``GET /v1/study/unsigned-records``
and ``sealtrail report unsigned``; each refusal in one line, exit 1, nothing recorded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from api.console import main
from domain.account import Role
from domain.subject.casebook import current_casebook_signature
from infrastructure.bootstrap import Store
from tests.access.conftest import Clock, assert_problem, make_person, with_access
from tests.access.test_casebook_signing_api import SCREEN_FAILURE, Casebook
from tests.access.test_cli_signing import Served, key_file
from tests.access.test_cli_signing import served as served  # the fixture, on both backends
from tests.conftest import STUDY, Person, console_env, haemoglobin_correction
from tests.e2e.conftest import SUBJECT
from tests.insider import connection

UNSIGNED = "/v1/study/unsigned-records"


def sign_casebook(served: Served, tmp_path: Path, milestone: str = "end_of_study") -> Result:
    signer = served.trial.investigator
    arguments = ["sign-casebook", "--url", served.url, "--user", signer.user_id]
    arguments += ["--key", str(key_file(tmp_path, signer)), "--subject", SUBJECT]
    arguments += ["--milestone", milestone, "--meaning", "responsibility"]
    env = {"SEALTRAIL_PASSWORD": signer.password}
    return CliRunner().invoke(main, arguments, env=env, catch_exceptions=False)


def test_an_investigator_signs_the_casebook_from_the_command_line(
    served: Served, tmp_path: Path
) -> None:
    trial = served.trial
    assert trial.site.submit(trial.coordinator, "ScreenFailed", SCREEN_FAILURE).status_code == 201

    done = sign_casebook(served, tmp_path)

    assert done.exit_code == 0, done.output
    answer = json.loads(done.stdout)
    assert answer["receipt"]["kind"] == "CasebookSigned"
    assert [s["entry"] for s in answer["signed"]] == [1, 2, 3, 4]
    subject = trial.store.app.find_subject(f"{STUDY}/{SUBJECT}")
    assert subject is not None and current_casebook_signature(subject) is not None


def test_a_casebook_of_more_than_a_hundred_records_is_signed_from_the_command_line(
    served: Served, tmp_path: Path
) -> None:
    trial = served.trial
    trial.follow_up(120)  # entries 4-123
    assert trial.site.submit(trial.coordinator, "ScreenFailed", SCREEN_FAILURE).status_code == 201

    done = sign_casebook(served, tmp_path)

    assert done.exit_code == 0, done.output
    assert [s["entry"] for s in json.loads(done.stdout)["signed"]] == list(range(1, 125))
    assert served.trial.store.verifier(workers=1).verify().findings == []


def test_a_casebook_at_a_milestone_not_reached_is_refused_in_one_line(
    served: Served, tmp_path: Path
) -> None:
    done = sign_casebook(served, tmp_path, "month_6")

    assert done.exit_code == 1
    assert done.stderr.count("\n") == 1
    assert "HTTP 422 Milestone not reached" in done.stderr
    assert served.trial.versions() == 3


@pytest.fixture
def casebook(sqlite_store: Store, clock: Clock) -> Casebook:
    """RP's subject out of the study (entries 1-4), its casebook not yet signed."""
    found = Casebook(with_access(sqlite_store, clock))
    found.leave_the_study()
    return found


def unsigned_on_the_api(casebook: Casebook, person: Person, site: str | None = "RP") -> dict:
    query = "" if site is None else f"?site={site}"
    response = casebook.site.client.get(UNSIGNED + query, headers=casebook.site.auth(person))
    assert response.status_code == 200, response.get_data(as_text=True)
    found: dict = response.get_json()
    return found


def test_the_report_lists_records_no_current_signature_covers(casebook: Casebook) -> None:
    before = unsigned_on_the_api(casebook, casebook.investigator)
    casebook.sign([3], meaning="approval")
    some = unsigned_on_the_api(casebook, casebook.investigator)
    casebook.sign_casebook("end_of_study")
    signed = unsigned_on_the_api(casebook, casebook.investigator)
    correction = haemoglobin_correction()
    casebook.site.submit(casebook.coordinator, "EntryCorrected", correction)
    corrected = unsigned_on_the_api(casebook, casebook.investigator)

    (subject,) = before["subjects"]
    assert (subject["subject"], subject["site"], subject["records"]) == (SUBJECT, "RP", 4)
    assert [r["entry"] for r in subject["unsigned"]] == [1, 2, 3, 4]
    assert [r["entry"] for r in some["subjects"][0]["unsigned"]] == [1, 2, 4]
    assert (signed["unsigned"], signed["fully_signed"]) == (0, 1)
    assert corrected["subjects"][0]["unsigned"] == [{"entry": 3, "kind": "BloodCountRecorded"}]


def test_a_subject_whose_view_rows_an_insider_deleted_is_still_reported(
    casebook: Casebook,
) -> None:
    """The subjects in scope come from the log: a summary row removed from the database by
    someone with the file and no key hides no subject from the unsigned or SDV report."""
    unsigned_on_the_api(casebook, casebook.investigator)  # the views caught up
    with connection(casebook.store.settings.database_url) as execute:
        execute("DELETE FROM view_subject_summary")
    coverage = casebook.site.client.get(
        "/v1/study/source-verification?site=RP&records=all",
        headers=casebook.site.auth(casebook.investigator),
    ).get_json()

    found = unsigned_on_the_api(casebook, casebook.investigator)

    assert [s["subject"] for s in found["subjects"]] == [SUBJECT]
    assert [s["subject"] for s in coverage["subjects"]] == [SUBJECT]


def test_an_audit_index_row_an_insider_deleted_is_not_verified(casebook: Casebook) -> None:
    unsigned_on_the_api(casebook, casebook.investigator)  # the views caught up
    with connection(casebook.store.settings.database_url) as execute:
        execute("DELETE FROM view_audit_index")

    response = casebook.site.client.get(
        UNSIGNED + "?site=RP", headers=casebook.site.auth(casebook.investigator)
    )

    assert_problem(response, 503, title="View not verified", detail="audit index is missing")


def test_a_reader_of_every_site_names_no_site_one_of_own_sites_must(casebook: Casebook) -> None:
    auditor = make_person(casebook.store, "audit1", role=Role.AUDITOR)
    monitor_sp = make_person(casebook.store, "mon-sp", role=Role.MONITOR, sites=("SP",))

    every = unsigned_on_the_api(casebook, auditor, site=None)
    elsewhere = unsigned_on_the_api(casebook, auditor, site="SP")
    mine = casebook.site.client.get(UNSIGNED, headers=casebook.site.auth(casebook.investigator))
    theirs = casebook.site.client.get(UNSIGNED + "?site=RP", headers=casebook.site.auth(monitor_sp))
    bad = casebook.site.client.get(UNSIGNED + "?site=RP%0A", headers=casebook.site.auth(auditor))

    assert (every["site"], len(every["subjects"]), elsewhere["subjects"]) == (None, 1, [])
    assert_problem(mine, 403, detail="only at their own sites")
    assert_problem(theirs, 403, detail="does not act for site")
    assert "site" in assert_problem(bad, 422)["errors"]


def report_unsigned(casebook: Casebook, person: Person, *args: str) -> Result:
    env = {
        "SEALTRAIL_HOME": str(casebook.store.settings.home),
        "SEALTRAIL_DATABASE_URL": casebook.store.settings.database_url.render_as_string(False),
        **console_env(person),
    }
    command = ["report", "unsigned", *args]
    return CliRunner().invoke(main, command, env=env, catch_exceptions=False)


def test_the_console_reports_the_unsigned_records_of_a_site(casebook: Casebook) -> None:
    casebook.sign([3], meaning="approval")

    text = report_unsigned(casebook, casebook.investigator, "--site", "RP")
    as_json = report_unsigned(casebook, casebook.investigator, "--site", "RP", "--json")
    refused = report_unsigned(casebook, casebook.investigator)

    assert text.exit_code == 0, text.output
    assert (
        f"{SUBJECT} (RP): 3 of 4 unsigned: 1 Screened, 2 ConsentObtained, 4 Screen" in text.stdout
    )
    assert json.loads(as_json.stdout)["unsigned"] == 3
    assert refused.exit_code == 1
    assert refused.stderr.count("\n") == 1
    assert "Not permitted" in refused.stderr
