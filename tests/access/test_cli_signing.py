"""``sealtrail sign``: an investigator signs records from the command line, through the API.

The command talks HTTP to a real server (werkzeug's, in a thread, over the test's store): it
reads the records' hashes from the subject's history, signs a ``RecordsSigned`` with the key
file, re-enters the user id and password in the signing ceremony and checks the receipt.
Errors are one line: exit 1 for a refused request, 2 for wrong usage.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from werkzeug.serving import make_server

from api.console import client, main
from domain.account import Role
from infrastructure.bootstrap import Store
from signatures.keys import generate_private_key, private_key_to_pem, public_key_to_text
from tests.access.conftest import make_person
from tests.access.test_record_signing_api import Trial
from tests.conftest import STUDY, Person
from tests.e2e.conftest import SUBJECT


@dataclass
class Served:
    """The trial's store behind a real HTTP server, and where it listens."""

    trial: Trial
    url: str


@pytest.fixture
def served(timed: Store) -> Iterator[Served]:
    trial = Trial(timed)
    server = make_server("127.0.0.1", 0, trial.site.app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Served(trial, f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        thread.join()


def key_file(tmp_path: Path, person: Person) -> Path:
    path = tmp_path / f"{person.user_id}.pem"
    path.write_bytes(private_key_to_pem(person.private_key))
    return path


def sign(
    served: Served,
    tmp_path: Path,
    *entries: str,
    person: Person | None = None,
    meaning: str = "approval",
    password: str | None = None,
) -> Result:
    signer = person or served.trial.investigator
    arguments = ["sign", "--url", served.url, "--user", signer.user_id]
    arguments += ["--key", str(key_file(tmp_path, signer)), "--subject", SUBJECT]
    for entry in entries:
        arguments += ["--entry", entry]
    arguments += ["--meaning", meaning]
    env = {"SEALTRAIL_PASSWORD": signer.password if password is None else password}
    return CliRunner().invoke(main, arguments, env=env, catch_exceptions=False)


def test_an_investigator_signs_records_from_the_command_line(
    served: Served, tmp_path: Path
) -> None:
    done = sign(served, tmp_path, "2", "3")

    assert done.exit_code == 0, done.output
    answer = json.loads(done.stdout)
    assert answer["receipt"]["kind"] == "RecordsSigned"
    assert answer["ceremony"]["components"] == ["user_id", "password"]
    assert [(s["entry"], s["kind"]) for s in answer["signed"]] == [
        (2, "ConsentObtained"),
        (3, "BloodCountRecorded"),
    ]
    subject = served.trial.store.app.find_subject(f"{STUDY}/{SUBJECT}")
    assert subject is not None
    for entry in (2, 3):
        (signature,) = subject.entries[entry].signatures
        assert (signature.printed_name, signature.meaning) == ("Rita Lima", "approval")
        assert subject.entries[entry].covers_current_value(signature)


def test_a_wrong_password_is_refused_in_one_line(served: Served, tmp_path: Path) -> None:
    done = sign(served, tmp_path, "3", password="not the password")

    assert done.exit_code == 1
    assert done.stderr.count("\n") == 1
    assert "HTTP 401" in done.stderr
    assert served.trial.versions() == 3


def test_a_coordinator_is_refused_in_one_line(served: Served, tmp_path: Path) -> None:
    done = sign(served, tmp_path, "3", person=served.trial.coordinator)

    assert done.exit_code == 1
    assert "HTTP 403 Not permitted" in done.stderr
    assert served.trial.versions() == 3


def test_an_investigator_of_another_site_is_refused(served: Served, tmp_path: Path) -> None:
    elsewhere = make_person(served.trial.store, "inv-sp", role=Role.INVESTIGATOR, sites=("SP",))

    done = sign(served, tmp_path, "3", person=elsewhere)

    assert done.exit_code == 1
    # Another site's subject reads as one that does not exist (issue 15, point 11): the client
    # finds no entry 3 to sign, and nothing names the subject's site.
    assert "has no entry 3" in done.stderr or "HTTP 404 Subject not found" in done.stderr
    assert "does not act for site" not in done.stderr


def test_an_entry_the_subject_lacks_is_refused_before_anything_is_signed(
    served: Served, tmp_path: Path
) -> None:
    done = sign(served, tmp_path, "3", "9")

    assert done.exit_code == 1
    assert f"{STUDY}/{SUBJECT} has no entry 9" in done.stderr
    assert served.trial.versions() == 3


def test_authorship_is_not_a_meaning_of_a_signature_over_records(
    served: Served, tmp_path: Path
) -> None:
    done = sign(served, tmp_path, "3", meaning="authorship")

    assert done.exit_code == 2
    assert "'authorship' is not one of 'review', 'approval', 'responsibility'" in done.stderr


def test_signing_without_a_password_off_a_terminal_is_a_usage_error(
    served: Served, tmp_path: Path
) -> None:
    done = sign(served, tmp_path, "3", password="")

    assert done.exit_code == 2
    assert "SEALTRAIL_PASSWORD" in done.stderr


def submit(served: Served, tmp_path: Path, event: dict[str, object]) -> Result:
    """``sealtrail submit`` of ``event`` (a file) as the trial's coordinator."""
    coordinator = served.trial.coordinator
    event_file = tmp_path / "event.json"
    event_file.write_text(json.dumps(event), encoding="utf-8")
    arguments = ["submit", "--url", served.url, "--user", coordinator.user_id]
    arguments += ["--key", str(key_file(tmp_path, coordinator)), str(event_file)]
    env = {"SEALTRAIL_PASSWORD": coordinator.password}
    return CliRunner().invoke(main, arguments, env=env, catch_exceptions=False)


def count() -> dict[str, object]:
    return {
        "study": STUDY,
        "subject": SUBJECT,
        "kind": "BloodCountRecorded",
        "data": {
            "collected_on": "2011-02-22",
            "results": {"haemoglobin": {"value": "7.9", "unit": "g/dL"}},
            "reticulocyte_method": "automated",
        },
    }


def test_submit_signs_the_next_version_read_from_the_subjects_history(
    served: Served, tmp_path: Path
) -> None:
    done = submit(served, tmp_path, count())

    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["version"] == 4
    (*_, stored) = served.trial.store.reads.history(f"{STUDY}/{SUBJECT}")
    assert stored.event.authorship.body()["version"] == 4


def test_submit_of_an_event_file_fixing_a_version_taken_is_a_conflict(
    served: Served, tmp_path: Path
) -> None:
    done = submit(served, tmp_path, {**count(), "version": 3})

    assert done.exit_code == 1
    assert "HTTP 409 Version conflict" in done.stderr
    assert served.trial.versions() == 3


def test_a_kept_session_rereads_the_server_key_when_a_receipt_does_not_verify_with_its_own(
    served: Served, tmp_path: Path
) -> None:
    # A scripted run (the PQ) keeps the server's key for its receipts; one kept before the
    # server's key was rotated (here: any other key) is read again, not trusted nor fatal.
    coordinator = served.trial.coordinator
    session = client.Session(server_key=public_key_to_text(generate_private_key().public_key()))
    sender = client.Sender(
        served.url, coordinator.user_id, key_file(tmp_path, coordinator), coordinator.password,
        session,
    )  # fmt: skip

    receipt = client.submit(sender, meaning="authorship", idempotency_key=None, event=count())

    published = client.public_document(f"{served.url}/v1/server-key")["public_key"]
    assert receipt["version"] == 4
    assert session.server_key == published


def test_a_receipt_that_verifies_with_no_key_the_server_publishes_is_refused(
    served: Served, tmp_path: Path
) -> None:
    coordinator = served.trial.coordinator
    session = client.Session()
    sender = client.Sender(
        served.url, coordinator.user_id, key_file(tmp_path, coordinator), coordinator.password,
        session,
    )  # fmt: skip
    receipt = client.submit(sender, meaning="authorship", idempotency_key=None, event=count())
    assert session.server_key is not None

    # The receipt as a man in the middle would pass it on: another position.
    forged = {**receipt, "position": receipt["position"] + 1}
    for kept in (session, None):
        with pytest.raises(client.ClientError, match="does not verify with the server's key"):
            client.check_receipt(served.url, forged, kept)
