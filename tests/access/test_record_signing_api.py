"""``POST /v1/signatures``: an investigator signs records with the signing ceremony (21 CFR
11.50, 11.70, 11.200), and every view of the records shows the signature.

Real stores (SQLite; the write path on PostgreSQL too), real Ed25519 keys, Argon2id passwords,
the Flask app; only the access control's clock is the test's, so the inactivity timeout can
pass without waiting ten minutes.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from werkzeug.test import TestResponse

from domain.account import Role
from infrastructure.application.audit_trail import audit_trail_rows
from infrastructure.bootstrap import Store
from infrastructure.documents.renderings import audit_trail_csv
from infrastructure.documents.reports import audit_trail_pdf, covering_checkpoint
from projections.audit_trail import Period
from signatures.keys import public_key_from_text
from signatures.receipts import verify_receipt
from tests.access.conftest import Clock, assert_problem, make_person, token_for
from tests.conftest import STUDY, Person, consent, haemoglobin, haemoglobin_correction, screening
from tests.e2e.conftest import SUBJECT, Site
from tests.reports.test_documents import page_texts

HISTORY = f"/v1/studies/{STUDY}/subjects/{SUBJECT}/history"


class Trial:
    """A subject at RP (screened, consented, a blood count: entries 1-3), its coordinator,
    and an investigator of RP."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.site = Site(store)
        self.coordinator = make_person(store, "coord1", role=Role.SITE_COORDINATOR, sites=("RP",))
        self.investigator = make_person(
            store, "inv1", role=Role.INVESTIGATOR, sites=("RP",), printed_name="Rita Lima"
        )
        for kind, data in (
            ("Screened", screening()),
            ("ConsentObtained", consent()),
            ("BloodCountRecorded", haemoglobin("7.2")),
        ):
            response = self.site.submit(self.coordinator, kind, data)
            assert response.status_code == 201, response.get_data(as_text=True)

    def follow_up(self, blood_counts: int) -> None:
        """Months of follow-up: ``blood_counts`` more blood counts (entries 4 on)."""
        for count in range(blood_counts):
            data = haemoglobin(f"{7 + count % 3}.{count % 10}")
            response = self.site.submit(self.coordinator, "BloodCountRecorded", data)
            assert response.status_code == 201, response.get_data(as_text=True)

    def history(self, person: Person | None = None) -> list[dict[str, Any]]:
        response = self.site.client.get(HISTORY, headers=self.site.auth(person or self.coordinator))
        assert response.status_code == 200, response.get_data(as_text=True)
        history: list[dict[str, Any]] = response.get_json()
        return history

    def record_hashes(self) -> dict[int, str]:
        """Each entry's record hash as the store's subject has it now (the history shows the
        same: test_the_history_shows_the_signature_on_the_record_it_covers)."""
        subject = self.store.app.find_subject(f"{STUDY}/{SUBJECT}")
        assert subject is not None
        return {n: entry.record_hash for n, entry in subject.entries.items()}

    def sign(
        self,
        entries: list[int],
        *,
        by: Person | None = None,
        meaning: str = "review",
        user_id: str | None = "",
        password: str | None = None,
        headers: dict[str, str] | None = None,
        hashes: dict[int, str] | None = None,
        subject: str = SUBJECT,
    ) -> TestResponse:
        """Sign entries as ``by`` (the investigator), with the record hashes as they stand.

        ``user_id=""`` sends the signer's own user id; None sends no user id (password only).
        """
        signer = by or self.investigator
        current = self.record_hashes() if subject == SUBJECT else {}
        current.update(hashes or {})
        data = {"entries": [{"entry": n, "record_hash": current.get(n, "0" * 64)} for n in entries]}
        body = signer.body(subject, "RecordsSigned", data, meaning=meaning)
        payload: dict[str, Any] = {
            "event": body,
            "signature": signer.sign(body),
            "password": signer.password if password is None else password,
        }
        if user_id is not None:
            payload["user_id"] = user_id or signer.user_id
        return self.site.client.post(
            "/v1/signatures", json=payload, headers=headers or self.site.auth(signer)
        )

    def versions(self) -> int:
        return len(self.history())


@pytest.fixture
def trial(timed: Store) -> Trial:
    return Trial(timed)


def signed(response: TestResponse) -> dict[str, Any]:
    assert response.status_code == 201, response.get_data(as_text=True)
    answer: dict[str, Any] = response.get_json()
    return answer


# -- signing ---------------------------------------------------------------------------------------


def test_an_investigator_signs_one_record_and_gets_a_signed_receipt(trial: Trial) -> None:
    answer = signed(trial.sign([3], meaning="approval"))

    receipt = answer["receipt"]
    assert (receipt["kind"], receipt["version"], receipt["subject"]) == (
        "RecordsSigned",
        4,
        SUBJECT,
    )
    verify_receipt(
        public_key_from_text(trial.site.client.get("/v1/server-key").get_json()["public_key"]),
        receipt,
    )
    assert answer["ceremony"]["components"] == ["user_id", "password"]


@pytest.mark.requirement("P11-11.50-2")
def test_the_history_shows_the_signature_on_the_record_it_covers(trial: Trial) -> None:
    signed(trial.sign([3], meaning="approval"))

    history = trial.history()
    (signature,) = history[2]["signatures"]
    assert signature["printed_name"] == "Rita Lima"
    assert signature["user_id"] == "inv1"
    assert signature["meaning"] == "approval"
    assert signature["signature_entry"] == 4
    assert signature["record_hash"] == history[2]["record_hash"] == trial.record_hashes()[3]
    assert signature["covers_current_value"] is True
    assert signature["signed_at"].endswith("Z")
    assert history[3]["kind"] == "RecordsSigned"
    assert history[3]["signature_manifestation"]["meaning"] == "approval"
    assert [item["signatures"] for item in history[:2]] == [[], []]


def test_one_signature_covers_several_records(trial: Trial) -> None:
    signed(trial.sign([1, 2, 3], meaning="responsibility"))

    history = trial.history()
    for item in history[:3]:
        assert [(s["signature_entry"], s["meaning"]) for s in item["signatures"]] == [
            (4, "responsibility")
        ]
    summary = trial.site.client.get(
        f"/v1/studies/{STUDY}/subjects/{SUBJECT}", headers=trial.site.auth(trial.coordinator)
    ).get_json()
    assert [(s["entry"], s["kind"], s["covers_current_value"]) for s in summary["signatures"]] == [
        (1, "Screened", True),
        (2, "ConsentObtained", True),
        (3, "BloodCountRecorded", True),
    ]


# -- the ceremony ----------------------------------------------------------------------------------


def test_the_first_signing_of_a_session_needs_the_user_id_as_well(trial: Trial) -> None:
    response = trial.sign([3], user_id=None)

    assert_problem(response, 401, title="User id and password required")
    assert trial.versions() == 3


def test_a_later_signing_in_the_same_session_needs_the_password_only(
    trial: Trial, clock: Clock
) -> None:
    signed(trial.sign([2]))
    clock.advance(minutes=9)

    later = signed(trial.sign([3], user_id=None))

    assert later["ceremony"]["components"] == ["password"]


def test_after_the_inactivity_timeout_both_components_are_needed_again(
    trial: Trial, clock: Clock
) -> None:
    signed(trial.sign([2]))
    clock.advance(minutes=10, seconds=1)

    # The session lapsed: the old token opens nothing, and a new session starts over.
    assert_problem(trial.sign([3], user_id=None), 401, title="Session expired")
    fresh = token_for(trial.site, "inv1", trial.investigator.password).get_json()
    headers = {"Authorization": f"Bearer {fresh['access_token']}"}
    assert_problem(
        trial.sign([3], user_id=None, headers=headers), 401, title="User id and password required"
    )
    again = signed(trial.sign([3], headers=headers))

    assert again["ceremony"]["components"] == ["user_id", "password"]


def test_a_wrong_password_is_refused_and_counts_toward_the_lockout(trial: Trial) -> None:
    response = trial.sign([3], password="not the password")

    assert_problem(response, 401, detail="wrong user id or password")
    assert trial.versions() == 3
    failure = trial.store.access.attempts("inv1")[0]
    assert (failure.channel, failure.outcome) == ("signing", "failed")


def test_a_user_id_that_is_not_the_sessions_is_refused(trial: Trial) -> None:
    response = trial.sign([3], user_id="coord1")

    assert_problem(response, 401, detail="wrong user id or password")
    assert trial.versions() == 3


# -- who signs what --------------------------------------------------------------------------------


@pytest.mark.requirement("P11-11.10g-1")
@pytest.mark.parametrize(
    "role", [Role.SITE_COORDINATOR, Role.MONITOR, Role.AUDITOR, Role.SPONSOR_DATA_MANAGER]
)
def test_only_an_investigator_signs(trial: Trial, role: Role) -> None:
    person = make_person(trial.store, "someone", role=role, sites=("RP",))

    response = trial.sign([3], by=person)

    assert_problem(response, 403, title="Not permitted", detail="does not sign clinical records")
    assert trial.versions() == 3
    # Refused before the password was asked for: no signing attempt is logged.
    assert [a.channel for a in trial.store.access.attempts("someone")] == ["token"]


@pytest.mark.requirement("P11-11.10g-1")
def test_an_investigator_of_another_site_does_not_sign_here(trial: Trial) -> None:
    elsewhere = make_person(trial.store, "inv-sp", role=Role.INVESTIGATOR, sites=("SP",))

    response = trial.sign([3], by=elsewhere)

    # Another site's subject is signed as one that does not exist (issue 15, point 11).
    assert_problem(response, 404, title="Subject not found", detail="has not been screened")
    assert trial.versions() == 3


@pytest.mark.requirement("P11-11.100a-1")
def test_a_signature_signed_by_someone_else_is_not_submitted_as_ones_own(trial: Trial) -> None:
    other = make_person(trial.store, "inv2", role=Role.INVESTIGATOR, sites=("RP",))
    hashes = trial.record_hashes()
    body = other.body(
        SUBJECT, "RecordsSigned", {"entries": [{"entry": 3, "record_hash": hashes[3]}]}
    )
    body["meaning"] = "review"
    response = trial.site.client.post(
        "/v1/signatures",
        json={
            "event": body,
            "signature": other.sign(body),
            "password": trial.investigator.password,
            "user_id": "inv1",
        },
        headers=trial.site.auth(trial.investigator),
    )

    assert_problem(response, 403, detail="the body is signed by 'inv2'")


# -- what is signed --------------------------------------------------------------------------------


def test_an_unknown_entry_is_refused(trial: Trial) -> None:
    response = trial.sign([9])

    assert_problem(response, 422, title="Entry not found", detail="has no entry 9")
    assert trial.versions() == 3


def test_an_unknown_subject_is_not_found(trial: Trial) -> None:
    response = trial.sign([1], subject="RP-999")

    assert_problem(response, 404, title="Subject not found")


def test_a_record_changed_since_it_was_read_is_refused(trial: Trial) -> None:
    read = trial.record_hashes()[3]
    correction = haemoglobin_correction()
    assert trial.site.submit(trial.coordinator, "EntryCorrected", correction).status_code == 201

    response = trial.sign([3], hashes={3: read})

    assert_problem(response, 422, title="Record changed since it was read")


@pytest.mark.parametrize("meaning", ["authorship", "witness"])
def test_a_signature_means_review_approval_or_responsibility(trial: Trial, meaning: str) -> None:
    response = trial.sign([3], meaning=meaning)

    problem = assert_problem(response, 422)
    assert "event" in problem["errors"]


def test_a_signature_is_not_an_ordinary_event(trial: Trial) -> None:
    hashes = trial.record_hashes()
    body = trial.investigator.body(
        SUBJECT, "RecordsSigned", {"entries": [{"entry": 3, "record_hash": hashes[3]}]}
    )
    body["meaning"] = "review"

    response = trial.site.submit(trial.investigator, "RecordsSigned", {}, body=body)

    assert_problem(response, 422, title="Signing ceremony required", detail="POST /v1/signatures")
    assert trial.versions() == 3


def test_a_signature_sent_as_an_ordinary_event_by_a_coordinator_is_not_permitted(
    trial: Trial,
) -> None:
    """A ``RecordsSigned`` is submitted as signing clinical records, whichever way it comes."""
    hashes = trial.record_hashes()
    body = trial.coordinator.body(
        SUBJECT, "RecordsSigned", {"entries": [{"entry": 3, "record_hash": hashes[3]}]}
    )
    body["meaning"] = "review"

    response = trial.site.submit(trial.coordinator, "RecordsSigned", {}, body=body)

    assert_problem(response, 403, detail="does not sign clinical records")
    assert trial.versions() == 3


def test_a_signature_is_neither_corrected_nor_voided(trial: Trial) -> None:
    signed(trial.sign([3]))

    response = trial.site.submit(
        trial.investigator,
        "EntryVoided",
        {"entry": 4, "entry_kind": "RecordsSigned", "reason": "signed by mistake"},
    )

    assert_problem(response, 422)
    assert trial.versions() == 4


def test_a_malformed_record_hash_is_a_validation_error(trial: Trial) -> None:
    response = trial.sign([3], hashes={3: "not a hash"})

    problem = assert_problem(response, 422)
    assert "event" in problem["errors"]


# -- a correction after signing, in every view -----------------------------------------------------


def correct_haemoglobin(trial: Trial) -> None:
    correction = haemoglobin_correction()
    response = trial.site.submit(trial.coordinator, "EntryCorrected", correction)
    assert response.status_code == 201, response.get_data(as_text=True)


@pytest.mark.requirement("P11-11.70-2")
def test_a_correction_after_signing_marks_the_signature_as_no_longer_covering(
    trial: Trial,
) -> None:
    signed(trial.sign([2, 3]))

    correct_haemoglobin(trial)

    history = trial.history()
    assert [s["covers_current_value"] for s in history[1]["signatures"]] == [True]
    assert [s["covers_current_value"] for s in history[2]["signatures"]] == [False]
    summary = trial.site.client.get(
        f"/v1/studies/{STUDY}/subjects/{SUBJECT}", headers=trial.site.auth(trial.coordinator)
    ).get_json()
    assert [(s["entry"], s["covers_current_value"]) for s in summary["signatures"]] == [
        (2, True),
        (3, False),
    ]


@pytest.mark.requirement("P11-11.50-2")
def test_the_audit_index_lists_the_signatures_over_each_record(trial: Trial) -> None:
    signed(trial.sign([3], meaning="approval"))
    correct_haemoglobin(trial)

    index = trial.site.client.get(
        f"/v1/studies/{STUDY}/subjects/{SUBJECT}/audit", headers=trial.site.auth(trial.coordinator)
    )

    assert index.status_code == 200, index.get_data(as_text=True)
    record = index.get_json()["records"][2]
    (signature,) = record["signatures"]
    assert signature["entry"] == 4
    assert signature["signature"]["printed_name"] == "Rita Lima"
    assert signature["signature"]["meaning"] == "approval"
    assert signature["covers_current_value"] is False
    assert record["record_hash"] == trial.record_hashes()[3]
    assert signature["record_hash"] != record["record_hash"]


# -- both backends ---------------------------------------------------------------------------------


def test_signing_on_either_backend_records_a_signature_that_verifies(timed: Store) -> None:
    trial = Trial(timed)

    answer = signed(trial.sign([1, 3]))
    second = signed(trial.sign([2], user_id=None))

    assert (answer["receipt"]["version"], second["receipt"]["version"]) == (4, 5)
    assert [len(item["signatures"]) for item in trial.history()] == [1, 1, 1, 0, 0]
    report = timed.verifier(workers=1).verify()
    assert report.findings == []


@pytest.mark.requirement("P11-11.50-2")
def test_the_audit_trail_csv_and_pdf_show_the_signature_and_its_lapse(trial: Trial) -> None:
    signed(trial.sign([3], meaning="approval"))
    correct_haemoglobin(trial)
    rows = audit_trail_rows(trial.store.reads, STUDY, [SUBJECT])

    table = audit_trail_csv(rows).decode("utf-8-sig")
    pdf = audit_trail_pdf(
        trial.store,
        rows,
        study=STUDY,
        codes=[SUBJECT],
        period=Period(),
        checkpoint=covering_checkpoint(trial.store),
        chart_dpi=50,
    )

    lines = list(csv.DictReader(io.StringIO(table)))
    (signature,) = [line for line in lines if line["action"] == "signed"]
    assert (signature["entry"], signature["kind"], signature["field"]) == (
        "3",
        "BloodCountRecorded",
        "electronic signature",
    )
    assert (signature["printed_name"], signature["meaning"]) == ("Rita Lima", "approval")
    assert signature["new"].startswith("approval of record ")
    (lapse,) = [line for line in lines if line["field"] == "signature of entry 4"]
    assert (lapse["old"], lapse["new"]) == (
        "covers the current value",
        "no longer covers the current value",
    )
    text = " ".join(page_texts(pdf))
    assert "1 signed" in text  # the cover counts it
    assert "electronic signature" in text
    assert "no longer covers the current value" in " ".join(text.split())


def test_a_retry_with_the_same_idempotency_key_answers_the_first_receipt(trial: Trial) -> None:
    hashes = trial.record_hashes()
    body = trial.investigator.body(
        SUBJECT,
        "RecordsSigned",
        {"entries": [{"entry": 3, "record_hash": hashes[3]}]},
        meaning="review",
    )
    payload = {
        "event": body,
        "signature": trial.investigator.sign(body),
        "password": trial.investigator.password,
        "user_id": "inv1",
    }
    headers = {**trial.site.auth(trial.investigator), "Idempotency-Key": "sign-rp101-3"}

    first = signed(trial.site.client.post("/v1/signatures", json=payload, headers=headers))
    again = signed(trial.site.client.post("/v1/signatures", json=payload, headers=headers))

    assert again["receipt"] == first["receipt"]
    assert trial.versions() == 4


@pytest.mark.requirement("P11-11.10f-2")
def test_a_stale_expected_version_is_a_conflict(trial: Trial) -> None:
    headers = {**trial.site.auth(trial.investigator), "If-Match": '"2"'}

    response = trial.sign([3], headers=headers)

    assert_problem(response, 409, title="Version conflict")
    assert trial.versions() == 3


def test_a_signature_in_a_batch_of_events_is_refused_with_the_batch(trial: Trial) -> None:
    hashes = trial.record_hashes()
    body = trial.investigator.body(
        SUBJECT,
        "RecordsSigned",
        {"entries": [{"entry": 3, "record_hash": hashes[3]}]},
        meaning="review",
    )

    response = trial.site.client.post(
        "/v1/events/batch",
        json=[{"event": body, "signature": trial.investigator.sign(body)}],
        headers=trial.site.auth(trial.investigator),
    )

    assert_problem(response, 422, title="Signing ceremony required", detail="submission 0")
    assert trial.versions() == 3
