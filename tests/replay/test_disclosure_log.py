"""Who saw and exported what (issue 18, point 6): every replay, history, report and packet
handed out is a signed event of the log, naming who, what scope, the SHA-256 of the exact bytes
and the log it was built from; and the log answers "who took a copy of RP-101's data"."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from domain.account import Role
from domain.authorship import Authorship, authored
from domain.disclosure import HISTORY, REPLAY, SUMMARY, DisclosureLog
from infrastructure.application.server_logs import server_body
from infrastructure.bootstrap import Store
from signatures.authorship import sign_body
from signatures.keys import key_id
from tests.conftest import BACKENDS, Person, PersonFactory, console_env
from tests.e2e.conftest import Site
from tests.integration.test_tamper_evidence import drop_triggers
from tests.integration.test_tamper_suite import insert_raw
from tests.replay.conftest import OTHER, SUBJECT, screening

STUDY = "NCT01297972"
URL = f"/v1/studies/{STUDY}/subjects"
SEALTRAIL = str(Path(sys.executable).parent / "sealtrail")


def screened(store: Store, person_in: PersonFactory) -> tuple[Person, Person, Site]:
    """RP-101 at site RP and RP-102 at site SP, with RP's coordinator and an auditor."""
    coordinator = person_in(store, sites=("RP", "SP"))
    coordinator.record(store, SUBJECT, "Screened", screening())
    coordinator.record(store, OTHER, "Screened", screening(site="SP"))
    auditor = person_in(store, "audit1", printed_name="Lia Prado", role=Role.AUDITOR, sites=())
    return coordinator, auditor, Site(store)


def screening_position(store: Store) -> str:
    """The log position of RP-101's screening (a replay there shows the subject)."""
    (first,) = store.reads.history(f"{STUDY}/{SUBJECT}")
    return str(first.position)


@pytest.mark.requirement("LGPD-37-1")
def test_a_replay_and_a_history_are_recorded_with_the_hash_of_what_was_sent(
    store: Store, person_in: PersonFactory
) -> None:
    coordinator, _, site = screened(store, person_in)
    headers = site.auth(coordinator)

    replay = site.client.get(
        f"{URL}/{SUBJECT}", query_string={"position": screening_position(store)}, headers=headers
    )
    history = site.client.get(f"{URL}/{SUBJECT}/history", headers=headers)
    summary = site.client.get(f"{URL}/{SUBJECT}", headers=headers)  # as it stands

    assert (replay.status_code, history.status_code, summary.status_code) == (200, 200, 200)
    copies = store.disclosures.of("coord1")
    assert [(c.what, str(c.scope), c.channel) for c in copies] == [
        (REPLAY, f"{STUDY}/{SUBJECT}", "api"),
        (HISTORY, f"{STUDY}/{SUBJECT}", "api"),
        (SUMMARY, f"{STUDY}/{SUBJECT}", "api"),
    ]
    assert copies[0].sha256 == hashlib.sha256(replay.get_data()).hexdigest()
    assert copies[1].sha256 == hashlib.sha256(history.get_data()).hexdigest()
    assert copies[0].log_size >= 3 and len(copies[0].log_root) == 64
    assert store.verifier(workers=1).verify().ok


@pytest.mark.requirement("LGPD-37-1")
def test_an_auditor_asks_who_took_a_copy_of_one_subjects_data(
    store: Store, person_in: PersonFactory
) -> None:
    coordinator, auditor, site = screened(store, person_in)
    site.client.get(f"{URL}/{SUBJECT}/history", headers=site.auth(coordinator))
    site.client.get(f"{URL}/{OTHER}/history", headers=site.auth(coordinator))
    site.client.get("/v1/study/outcomes", headers=site.auth(auditor))

    answer = site.client.get(
        "/v1/disclosures", query_string={"subject": SUBJECT}, headers=site.auth(auditor)
    )

    assert answer.status_code == 200, answer.get_data(as_text=True)
    # RP-101's history, and the study's outcome report (it holds every subject); not RP-102's.
    assert [(row["user_id"], row["what"], row["scope"]) for row in answer.get_json()] == [
        ("coord1", HISTORY, f"{STUDY}/{SUBJECT}"),
        ("audit1", "outcome report", STUDY),
    ]


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ({"subject": "RP-999"}, 404),
        ({"subject": "RP-50\n"}, 422),
        ({"subject": "RP-\x0050"}, 422),
        ({"study": "NOT-A-STUDY"}, 422),
        ({"limit": "3"}, 422),
    ],
)
def test_a_bad_question_to_the_disclosure_log_is_a_problem_and_records_nothing(
    sqlite_store: Store, person_in: PersonFactory, query: dict[str, str], status: int
) -> None:
    _, auditor, site = screened(sqlite_store, person_in)

    answer = site.client.get("/v1/disclosures", query_string=query, headers=site.auth(auditor))

    assert answer.status_code == status, answer.get_data(as_text=True)
    assert answer.mimetype == "application/problem+json"
    assert sqlite_store.disclosures.of("audit1") == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_site_staff_may_not_read_the_disclosure_log_and_a_refused_read_is_no_copy(
    store: Store, person_in: PersonFactory
) -> None:
    coordinator, _, site = screened(store, person_in)
    outsider = person_in(store, "coord2", printed_name="Rui Lima", sites=("SP",))

    log = site.client.get("/v1/disclosures", headers=site.auth(coordinator))
    other_site = site.client.get(f"{URL}/{SUBJECT}/history", headers=site.auth(outsider))

    assert (log.status_code, other_site.status_code) == (403, 404)
    assert store.disclosures.of("coord1") == []
    assert store.disclosures.of("coord2") == []


@pytest.mark.requirement("LGPD-37-1")
@pytest.mark.parametrize("backend", BACKENDS)
def test_a_console_replay_is_recorded_with_the_hash_of_what_was_printed(
    store: Store, person_in: PersonFactory
) -> None:
    coordinator, auditor, _ = screened(store, person_in)
    replayed = console(
        store,
        coordinator,
        "replay",
        "--subject",
        SUBJECT,
        "--position",
        screening_position(store),
    )

    listed = console(store, auditor, "user", "copies", "--subject", SUBJECT)

    assert replayed.returncode == 0, replayed.stderr
    (copy,) = store.disclosures.of("coord1")
    assert (copy.what, copy.channel) == (REPLAY, "console")
    assert copy.sha256 == hashlib.sha256(replayed.stdout.encode("utf-8")).hexdigest()
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.startswith(f"coord1\t{REPLAY}\t{STUDY}/{SUBJECT}\tconsole\t{copy.sha256}")


@pytest.mark.requirement("LGPD-37-1")
def test_a_copy_the_server_did_not_sign_is_found_by_verify(
    sqlite_store: Store, person_in: PersonFactory
) -> None:
    """An insider with the database and no server key adds a hand-out to hide another."""
    coordinator, _, _ = screened(sqlite_store, person_in)
    impostor = coordinator.private_key
    fields = {
        "user_id": "coord1",
        "what": REPLAY,
        "study": STUDY,
        "subject": SUBJECT,
        "channel": "api",
        "sha256": "0" * 64,
        "log_size": 1,
        "log_root": "0" * 64,
    }
    with authored(forged(impostor, 1, DisclosureLog.Started.kind(), {})):
        log = DisclosureLog.start("coord1")
    with authored(forged(impostor, 2, DisclosureLog.CopyHandedOut.kind(), fields)):
        log.hand_out(site=None, **fields)  # type: ignore[arg-type]
    drop_triggers(sqlite_store)
    for event in log.collect_events():
        insert_raw(sqlite_store, sqlite_store.app.mapper.to_stored_event(event))

    report = sqlite_store.verifier(workers=1).verify()

    assert not report.ok
    assert "a copy handed out is recorded by the server alone" in {
        f.detail for f in report.findings
    }


def forged(
    private_key: Ed25519PrivateKey, version: int, kind: str, fields: dict[str, object]
) -> Authorship:
    """A body of coord1's disclosure log signed by coord1's own valid key, not the server's."""
    body = server_body(
        {"disclosures": "coord1"}, version, kind, fields, key_id(private_key.public_key())
    )
    body["signer"] = {**body["signer"], "user_id": "coord1", "printed_name": "Ana Souza"}
    return Authorship(*sign_body(private_key, body))


def console(store: Store, person: Person, *args: str) -> subprocess.CompletedProcess[str]:
    """``sealtrail ARGS`` run by ``person`` against ``store``."""
    settings = store.settings
    env = {key: value for key, value in os.environ.items() if not key.startswith("SEALTRAIL_")}
    env.update(console_env(person))
    env["SEALTRAIL_HOME"] = str(settings.home)
    env["SEALTRAIL_DATABASE_URL"] = settings.database_url.render_as_string(hide_password=False)
    return subprocess.run([SEALTRAIL, *args], env=env, capture_output=True, text=True, timeout=120)
