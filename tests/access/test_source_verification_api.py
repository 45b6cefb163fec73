"""Source data verification over the API and the console: a monitor verifies records of their
own site through the signed write path (``POST /v1/events``, ``sealtrail submit``), and reads
coverage per subject, site and study (``GET .../source-verification``, ``sealtrail report sdv``).

On SQLite (the permission matrix and tests/integration run it on PostgreSQL too), with real
keys and, for the site's client, a real HTTP server.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from werkzeug.serving import make_server

from api.console import main
from domain.account import Role
from infrastructure.bootstrap import Store
from signatures.keys import private_key_to_pem
from tests.access.conftest import assert_problem
from tests.conftest import (
    BACKENDS,
    STUDY,
    Person,
    PersonFactory,
    consent,
    console_env,
    eligibility,
    screening,
    store_asked_for,
)
from tests.e2e.conftest import SUBJECT, Site
from tests.reports.conftest import report as sealtrail_report

SUBJECT_URL = f"/v1/studies/{STUDY}/subjects/{SUBJECT}/source-verification"
ELIGIBILITY = 3


class Trial:
    """RP's coordinator and monitor, SP's monitor and an auditor, on a subject at RP whose
    third entry is its eligibility assessment."""

    def __init__(self, store: Store, person_in: PersonFactory) -> None:
        self.site = Site(store)
        self.store = store
        self.coordinator = person_in(store, "coord1", role=Role.SITE_COORDINATOR, sites=("RP",))
        self.monitor = person_in(store, "mon1", printed_name="Caio Reis", role=Role.MONITOR)
        self.other_monitor = person_in(
            store, "mon2", printed_name="Ivo Sales", role=Role.MONITOR, sites=("SP",)
        )
        self.auditor = person_in(store, "aud1", printed_name="Lia Prado", role=Role.AUDITOR)
        for kind, data in (
            ("Screened", screening()),
            ("ConsentObtained", consent()),
            ("EligibilityAssessed", eligibility()),
        ):
            assert self.site.submit(self.coordinator, kind, data).status_code == 201

    def record_hash(self, entry: int) -> str:
        subject = self.store.app.find_subject(f"{STUDY}/{SUBJECT}")
        assert subject is not None
        return subject.entries[entry].record_hash

    def verification(self, entry: int = ELIGIBILITY, **data: Any) -> dict[str, Any]:
        kind = "EligibilityAssessed" if entry == ELIGIBILITY else "ConsentObtained"
        return {"entry": entry, "entry_kind": kind, "record_hash": self.record_hash(entry), **data}

    def verify(self, by: Person | None = None, **data: Any) -> Any:
        return self.site.submit(by or self.monitor, "SourceVerified", self.verification(**data))

    def coverage(self, query: str = "", by: Person | None = None) -> Any:
        return self.site.client.get(SUBJECT_URL + query, headers=self.site.auth(by or self.monitor))

    def versions(self) -> int:
        subject = self.store.app.find_subject(f"{STUDY}/{SUBJECT}")
        assert subject is not None
        return subject.version


@pytest.fixture
def trial(request: pytest.FixtureRequest, person_in: PersonFactory) -> Trial:
    """On SQLite, or on the backend a test names (indirectly)."""
    return Trial(store_asked_for(request), person_in)


@pytest.mark.requirement("E6-4.2.2-2", "E6-3.11.4-1")
@pytest.mark.parametrize("trial", BACKENDS, indirect=True)
def test_a_monitor_verifies_a_record_and_coverage_counts_it(trial: Trial) -> None:
    assert trial.verify().status_code == 201

    answer = trial.coverage().get_json()
    assert (answer["verified"], answer["total"], answer["not_verified"]) == (1, 1, [])
    every = trial.coverage("?records=all").get_json()
    assert (every["verified"], every["total"]) == (1, 3)
    study = trial.site.client.get(
        "/v1/study/source-verification?site=RP", headers=trial.site.auth(trial.monitor)
    ).get_json()
    assert study["sites"] == [{"site": "RP", "verified": 1, "total": 1}]


@pytest.mark.requirement("E6-3.11.4-1")
def test_a_correction_unverifies_the_record(trial: Trial) -> None:
    assert trial.verify().status_code == 201
    corrected = trial.site.submit(
        trial.coordinator,
        "EntryCorrected",
        {
            "entry": ELIGIBILITY,
            "entry_kind": "EligibilityAssessed",
            "changes": {"assessed_on": {"old": "2011-02-18", "new": "2011-02-17"}},
            "reason": "Date as on the source",
        },
    )
    assert corrected.status_code == 201, corrected.get_data(as_text=True)

    (missing,) = trial.coverage().get_json()["not_verified"]
    assert (missing["entry"], missing["changed_since_verified"]) == (ELIGIBILITY, True)


@pytest.mark.parametrize("trial", BACKENDS, indirect=True)
def test_a_stale_record_hash_is_refused_and_nothing_recorded(trial: Trial) -> None:
    response = trial.verify(record_hash="0" * 64)

    assert_problem(response, 422, title="Record changed since it was read", detail="entry 3")
    assert trial.versions() == 3


@pytest.mark.parametrize(
    ("data", "detail"),
    [
        ({"item": "colour"}, "no field 'colour'"),
        ({"entry_kind": "Enrolled"}, "not a Enrolled"),
        ({"item": "RP-50\n"}, "item"),
        ({"record_hash": "x" * 65}, "record_hash"),
    ],
)
def test_a_verification_that_does_not_fit_is_refused(
    trial: Trial, data: dict[str, Any], detail: str
) -> None:
    response = trial.verify(**data)

    assert response.status_code == 422
    assert detail in response.get_data(as_text=True)
    assert trial.versions() == 3


def test_a_coordinator_may_not_verify_and_another_sites_monitor_finds_no_subject(
    trial: Trial,
) -> None:
    assert_problem(trial.verify(by=trial.coordinator), 403, title="Not permitted")
    assert_problem(trial.verify(by=trial.other_monitor), 404, title="Subject not found")
    assert_problem(trial.coverage(by=trial.other_monitor), 404, title="Subject not found")
    refused = trial.site.client.get(
        "/v1/study/source-verification?site=RP", headers=trial.site.auth(trial.other_monitor)
    )
    assert_problem(refused, 403, title="Not permitted")
    assert trial.versions() == 3


@pytest.mark.parametrize("query", ["?records=some", "?site=RP%0A", "?site=R%00P"])
def test_a_bad_coverage_query_is_a_validation_error(trial: Trial, query: str) -> None:
    response = trial.site.client.get(
        "/v1/study/source-verification" + query, headers=trial.site.auth(trial.auditor)
    )

    assert_problem(response, 422)


# -- the console ---------------------------------------------------------------------------------


@pytest.fixture
def served(trial: Trial) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, trial.site.app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()


def submit(url: str, tmp_path: Path, person: Person, event: dict[str, Any]) -> Result:
    key = tmp_path / f"{person.user_id}.pem"
    key.write_bytes(private_key_to_pem(person.private_key))
    event_file = tmp_path / "event.json"
    event_file.write_text(json.dumps(event), encoding="utf-8")
    arguments = ["submit", "--url", url, "--user", person.user_id, "--key", str(key)]
    env = {"SEALTRAIL_PASSWORD": person.password}
    return CliRunner().invoke(main, [*arguments, str(event_file)], env=env)


def test_a_monitor_verifies_with_the_sites_client(
    trial: Trial, served: str, tmp_path: Path
) -> None:
    event = {"study": STUDY, "subject": SUBJECT, "kind": "SourceVerified"}

    done = submit(served, tmp_path, trial.monitor, {**event, "data": trial.verification()})

    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["version"] == 4
    stale = submit(served, tmp_path, trial.monitor, {**event, "data": trial.verification(2)})
    assert stale.exit_code == 0, stale.output  # the consent, as it stands
    again = submit(served, tmp_path, trial.monitor, {**event, "data": trial.verification(2)})
    assert again.exit_code == 1
    assert "HTTP 422 Source verification not accepted" in again.stderr
    assert again.stderr.count("\n") == 1


def report(store: Store, person: Person, *arguments: str) -> Result:
    """``sealtrail report sdv ARGUMENTS`` on the store, run by ``person``."""
    return sealtrail_report(store, "sdv", *arguments, person=console_env(person))


def test_sealtrail_report_sdv_shows_coverage_by_subject(trial: Trial) -> None:
    assert trial.verify(entry=2).status_code == 201  # the consent, outside the subset

    text = report(trial.store, trial.monitor, "--site", "RP")
    every = report(trial.store, trial.auditor, "--all", "--json")
    one = report(trial.store, trial.monitor, "--subject", SUBJECT)

    assert text.exit_code == 0, text.output
    assert "site RP (risk-based: EligibilityAssessed" in text.stdout
    assert f"{SUBJECT}      RP         0/1     entry 3 EligibilityAssessed" in text.stdout
    assert json.loads(every.stdout)["verified"] == 1
    assert json.loads(every.stdout)["total"] == 3
    assert one.exit_code == 0 and "verified 0 of 1 records (0%)" in one.stdout


@pytest.mark.parametrize("trial", BACKENDS, indirect=True)
def test_sealtrail_report_sdv_refuses_another_sites_person_in_one_line(trial: Trial) -> None:
    site = report(trial.store, trial.other_monitor, "--site", "RP")
    every = report(trial.store, trial.monitor)
    subject = report(trial.store, trial.other_monitor, "--subject", SUBJECT)

    assert (site.exit_code, every.exit_code, subject.exit_code) == (1, 1, 1)
    assert "does not act for site 'RP'" in site.stderr
    assert "has not been screened" in subject.stderr
    assert site.stderr.count("\n") == 1
