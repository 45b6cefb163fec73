"""``sealtrail validation pq``, the performance qualification, as a sponsor's QA runs it on the
deployment: against gunicorn serving a fresh ``sealtrail init`` store, with the administrator's
key; its signed report, the store left verifying, and the one-line refusals before anything is
recorded."""

from __future__ import annotations

import hashlib
import json
import subprocess
from datetime import date
from pathlib import Path

import pytest
import requests

from api.demonstration.plans import PLANS
from api.demonstration.records import subject_records
from domain.account import Account, Role
from domain.subject import subject_stream
from infrastructure.bootstrap import open_store
from signatures.cosignature import witness_key
from signatures.keys import generate_private_key, private_key_to_pem
from tests.cli_stores import ADMIN_PASSWORD, DEMO_RECORDS, SEALTRAIL, initialised, sealtrail
from tests.conftest import make_settings, open_person
from tests.e2e.test_witnesses import WITNESS_ENVIRONMENT
from tests.resilience.harness import Server, free_port, server_environment

pytestmark = pytest.mark.requirement("URS-validation-3")

STEPS = [
    "accounts",
    "first sign-in",
    "lifecycle",
    "correction",
    "signature",
    "read back",
    "packet",
    "checkpoint",
    "accounts locked",
    "verify",
    "witnesses",
]
PQ_ACCOUNTS = ["pq.coordinator", "pq.investigator", "pq.data_manager"]


def pq(
    home: Path, url: str, out: Path, key: Path | None = None, *extra: str
) -> subprocess.CompletedProcess[str]:
    """``sealtrail validation pq`` as the store's administrator, without the PDFs."""
    return sealtrail(
        "validation", "pq", "--url", url, "--out", str(out), "--no-documents",
        "--as", "admin", "--key", str(key or home / "admin.pem"), *extra,
        home=home,
        extra_env={"SEALTRAIL_PASSWORD": ADMIN_PASSWORD},
    )  # fmt: skip


def pq_accounts_in(home: Path) -> list[str]:
    store = open_store(make_settings(home))
    try:
        return [user for user in PQ_ACCOUNTS if store.app.find_account(user) is not None]
    finally:
        store.close()


def training_dates_of(home: Path, user: str) -> list[date]:
    """The completion dates of the trainings attested for ``user``."""
    store = open_store(make_settings(home))
    try:
        account = store.app.find_account(user)
        assert account is not None
        return [
            event.completed_on
            for event in store.app.events.get(account.id)
            if isinstance(event, Account.TrainingAttested)
        ]
    finally:
        store.close()


def test_the_pq_runs_on_a_served_store_signs_its_report_and_leaves_the_log_verifying(
    home: Path, tmp_path: Path
) -> None:
    with Server(
        server_environment(make_settings(home)), tmp_path / "gunicorn.log", workers=1
    ) as server:
        # A key that is not the administrator's: one line, and no account is opened.
        refused = pq(home, server.url, tmp_path / "refused", key=_another_key(tmp_path))
        assert refused.returncode == 1, refused.stdout + refused.stderr
        assert len(refused.stderr.splitlines()) == 1
        assert "not registered for admin" in refused.stderr
        assert pq_accounts_in(home) == []

        done = pq(home, server.url, tmp_path / "pq")
    assert done.returncode == 0, done.stdout + done.stderr + server.tail()
    assert done.stdout.splitlines()[-1].startswith("PQ PASSED: subject PQ-")

    report = json.loads((tmp_path / "pq" / "pq-report.json").read_text(encoding="utf-8"))
    assert report["kind"] == "sealtrail performance qualification"
    assert report["passed"] is True and report["synthetic"] is True
    assert report["site"] == "PQ" and report["extent"] == "one subject"
    [subject] = report["subjects"]
    assert subject["code"].startswith("PQ-") and subject["demonstrates"] == "RP-01"
    assert report["accounts"] == PQ_ACCOUNTS
    steps = {step["name"]: step for step in report["steps"]}
    assert list(steps) == STEPS
    assert all(step["result"] == "passed" for name, step in steps.items() if name != "witnesses")
    assert steps["witnesses"]["result"] == "not run"
    assert all(step["proves"] for step in report["steps"])
    lifecycle = steps["lifecycle"]["evidence"]["events"]
    assert [event["kind"] for event in lifecycle][:2] == ["Screened", "ConsentObtained"]
    assert "MscInfusionGiven" in [event["kind"] for event in lifecycle]
    assert [event["version"] for event in lifecycle] == list(range(1, len(lifecycle) + 1))
    assert steps["correction"]["evidence"]["corrected_entry"] == 4
    # The records, the correction and the investigator's signature over the records.
    assert report["signed_writes"] == len(lifecycle) + 2
    assert steps["signature"]["evidence"]["signatures"][0]["kind"] == "RecordsSigned"
    packet = (tmp_path / "pq" / "pq-packet.zip").read_bytes()
    assert steps["packet"]["evidence"]["sha256"] == hashlib.sha256(packet).hexdigest()
    assert steps["checkpoint"]["evidence"]["tree_size"] > lifecycle[-1]["leaf_index"]
    assert steps["accounts locked"]["evidence"]["locked"] == PQ_ACCOUNTS
    # A synthetic account's training is attested as of the run, never backdated.
    assert training_dates_of(home, "pq.coordinator") == [date.today()]
    assert "Synthetic data only" in (tmp_path / "pq" / "pq-report.html").read_text("utf-8")
    assert sorted(path.name for path in (tmp_path / "pq" / "keys").iterdir()) == sorted(
        f"{user}.pem" for user in PQ_ACCOUNTS
    )

    # The store still verifies, and the report's seal holds until one word of it is changed.
    assert sealtrail("verify", "--workers", "1", home=home).returncode == 0
    held = sealtrail(
        "validation", "check-record", str(tmp_path / "pq" / "pq-report.json"), home=home
    )
    assert held.returncode == 0, held.stderr
    tampered = tmp_path / "tampered.json"
    another = [{"code": "RP-101", "demonstrates": "RP-01"}]
    tampered.write_text(json.dumps({**report, "subjects": another}), encoding="utf-8")
    broken = sealtrail("validation", "check-record", str(tampered), home=home)
    assert broken.returncode == 1
    assert broken.stderr.startswith("sealtrail: ") and len(broken.stderr.splitlines()) == 1


def test_an_unreachable_url_is_one_line_and_exit_2_with_nothing_recorded(
    home: Path, tmp_path: Path
) -> None:
    done = pq(home, f"http://127.0.0.1:{free_port()}", tmp_path / "pq")
    assert done.returncode == 2
    assert done.stderr.startswith("sealtrail: cannot reach http://127.0.0.1:")
    assert len(done.stderr.splitlines()) == 1
    assert pq_accounts_in(home) == []


def test_an_out_folder_that_cannot_be_written_is_one_line_and_exit_2(
    home: Path, tmp_path: Path
) -> None:
    occupied = tmp_path / "a-file"
    occupied.write_text("not a folder", encoding="utf-8")
    done = pq(home, "http://127.0.0.1:9", occupied / "pq")
    assert done.returncode == 2
    assert done.stderr.startswith(f"sealtrail: cannot write to {occupied / 'pq'}")
    assert len(done.stderr.splitlines()) == 1


def _another_key(tmp_path: Path) -> Path:
    path = tmp_path / "another.pem"
    path.write_bytes(private_key_to_pem(generate_private_key()))
    return path


def test_with_witnesses_the_pq_passes_on_their_quorum_and_fails_on_a_witness_who_never_cosigned(
    home: Path, tmp_path: Path
) -> None:
    witness_key_file = tmp_path / "cep-witness.pem"
    private_key = generate_private_key()
    witness_key_file.write_bytes(private_key_to_pem(private_key))
    store = open_store(make_settings(home))
    try:
        open_person(
            store, "cep-witness", printed_name="CEP witness (synthetic)", role=Role.WITNESS,
            sites=(), private_key=private_key,
        )  # fmt: skip
        store.app.checkpoints.seal()
    finally:
        store.close()
    cosigner = witness_key("cep-witness", private_key).text()
    stranger = witness_key("nobody-witness", generate_private_key()).text()
    with Server(
        server_environment(make_settings(home)), tmp_path / "gunicorn.log", workers=1
    ) as server:
        log_key = requests.get(server.url + "/v1/server-key", timeout=10).json()[
            "note_verifier_key"
        ]
        # The CEP's witness cosigns the log as it stands before the PQ, on its own machine.
        cosigned = subprocess.run(
            [
                SEALTRAIL, "witness", "--url", server.url, "--log-key", log_key,
                "--name", "cep-witness", "--key", str(witness_key_file),
                "--state", str(tmp_path / "cep-witness-state"),
            ],
            capture_output=True, text=True, env=WITNESS_ENVIRONMENT, timeout=60, check=False,
        )  # fmt: skip
        assert cosigned.returncode == 0, cosigned.stderr

        vouched = pq(home, server.url, tmp_path / "pq", None, "--witness", cosigner)
        unvouched = pq(
            home, server.url, tmp_path / "pq-again", None, "--witness", stranger, "--quorum", "1"
        )

    assert vouched.returncode == 0, vouched.stdout + vouched.stderr
    steps = {
        step["name"]: step
        for step in json.loads((tmp_path / "pq" / "pq-report.json").read_text())["steps"]
    }
    assert steps["witnesses"]["result"] == "passed"
    assert unvouched.returncode == 1
    again = {
        step["name"]: step
        for step in json.loads((tmp_path / "pq-again" / "pq-report.json").read_text())["steps"]
    }
    assert again["witnesses"]["result"] == "failed"
    assert "witness-quorum-not-met" in again["witnesses"]["detail"]
    # The packet is verified offline with the same witnesses: not vouched for either.
    assert {name for name, step in again.items() if step["result"] != "passed"} == {
        "packet",
        "checkpoint",
        "witnesses",
    }


@pytest.mark.postgres
def test_the_pq_passes_on_a_store_served_from_postgresql(
    tmp_path: Path, postgres_database: str
) -> None:
    (tmp_path / "server").mkdir()
    home = initialised(tmp_path / "server", postgres_database)
    with Server(
        server_environment(make_settings(home)), tmp_path / "gunicorn.log", workers=1
    ) as server:
        done = pq(home, server.url, tmp_path / "pq")

    assert done.returncode == 0, done.stdout + done.stderr + server.tail()
    report = json.loads((tmp_path / "pq" / "pq-report.json").read_text(encoding="utf-8"))
    assert report["passed"] is True
    assert sealtrail("verify", "--workers", "1", home=home).returncode == 0


def subject_versions_in(home: Path, codes: list[str]) -> dict[str, tuple[int, str]]:
    """Each subject's version and site as the store holds them."""
    store = open_store(make_settings(home))
    try:
        found = {}
        for code in codes:
            subject = store.app.find_subject(subject_stream("NCT01297972", code))
            assert subject is not None, code
            found[code] = (subject.version, subject.site)
        return found
    finally:
        store.close()


@pytest.mark.slow  # about a minute: 1,355 signed writes over HTTP, then a packet of the whole log
def test_with_cohort_the_pq_runs_the_demonstration_cohort_through_the_api_beside_real_subjects(
    demo_home: Path, tmp_path: Path
) -> None:
    # A store holding the demonstration's subjects (locked, as a trial's closed data is): the
    # PQ's synthetic cohort goes beside them at site PQ, under codes of its own.
    real = [plan.code for plan in PLANS]
    before = subject_versions_in(demo_home, real)
    with Server(
        server_environment(make_settings(demo_home)), tmp_path / "gunicorn.log", workers=2
    ) as server:
        done = pq(demo_home, server.url, tmp_path / "pq", None, "--cohort")
    assert done.returncode == 0, done.stdout + done.stderr + server.tail()

    report = json.loads((tmp_path / "pq" / "pq-report.json").read_text(encoding="utf-8"))
    assert report["passed"] is True and report["extent"] == "demonstration cohort"
    steps = {step["name"]: step for step in report["steps"]}
    assert list(steps) == STEPS
    planned = {plan.code: len(subject_records(plan)) for plan in PLANS}
    assert sum(planned.values()) == DEMO_RECORDS
    subjects = steps["lifecycle"]["evidence"]["subjects"]
    assert [(s["demonstrates"], s["records"]) for s in subjects] == list(planned.items())
    codes = [s["code"] for s in subjects]
    assert report["subjects"] == [
        {"code": s["code"], "demonstrates": s["demonstrates"]} for s in subjects
    ]
    assert codes == [f"{codes[0][:-3]}-{n:02d}" for n in range(1, len(PLANS) + 1)]
    assert codes[0].startswith("PQ-")
    # Every record of the cohort, the PQ's correction, and a casebook signature a subject.
    assert len(steps["lifecycle"]["evidence"]["events"]) == DEMO_RECORDS
    signatures = steps["signature"]["evidence"]["signatures"]
    assert [s["subject"] for s in signatures] == codes
    assert {s["kind"] for s in signatures} == {"CasebookSigned"}
    assert report["signed_writes"] == DEMO_RECORDS + 1 + len(PLANS)
    assert steps["read back"]["evidence"]["compared"] == DEMO_RECORDS + 1
    assert steps["read back"]["evidence"]["entries"] == DEMO_RECORDS + 1 + len(PLANS)
    assert done.stdout.splitlines()[-1] == (
        f"PQ PASSED: 9 subjects {codes[0]} to {codes[-1]}, "
        f"{DEMO_RECORDS + 1 + len(PLANS):,} signed writes through the API"
    )

    # The real subjects are as they were; the synthetic ones are at site PQ, each whole.
    assert subject_versions_in(demo_home, real) == before
    assert subject_versions_in(demo_home, codes) == {
        code: (records + (2 if n == 0 else 1), "PQ")
        for n, (code, records) in enumerate(zip(codes, planned.values(), strict=True))
    }
    held = sealtrail(
        "validation", "check-record", str(tmp_path / "pq" / "pq-report.json"), home=demo_home
    )
    assert held.returncode == 0, held.stderr
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps({**report, "signed_writes": 1355 * 2}), encoding="utf-8")
    broken = sealtrail("validation", "check-record", str(tampered), home=demo_home)
    assert broken.returncode == 1 and len(broken.stderr.splitlines()) == 1
