"""Casebook sign-off over ``POST /v1/signatures``: the investigator signs a subject's whole
casebook at a milestone through the signing ceremony; the refusals; ``verify`` accepts what the
store took; a correction after sign-off leaves no current casebook signature.

Real stores (SQLite; the whole path on PostgreSQL once), real keys and passwords, the Flask app.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from werkzeug.test import TestResponse

from domain.account import Role
from domain.delegation import DelegationRule
from domain.protocol import PROTOCOLS
from domain.subject import ABOUT_RECORDS, Subject
from domain.subject.casebook import current_casebook_signature
from infrastructure.bootstrap import Store
from infrastructure.identity.sponsor_key import open_sponsor_account
from infrastructure.packets.build import build_packet
from infrastructure.packets.verify import verify_packet
from tests.access.conftest import Clock, assert_problem, make_person, with_access
from tests.access.test_record_signing_api import Trial, signed
from tests.conftest import STUDY, Person, haemoglobin_correction
from tests.e2e.conftest import SUBJECT

SCREEN_FAILURE = {"failed_on": "2011-02-20", "reason": "Refused the bone marrow biopsy"}


class Casebook(Trial):
    """The trial's subject (entries 1-3), and what signing its casebook sends."""

    def subject(self) -> Subject:
        found = self.store.app.find_subject(f"{STUDY}/{SUBJECT}")
        assert found is not None
        return found

    def leave_the_study(self) -> None:
        """Screen failure (entry 4): the subject leaves, so every milestone is reached."""
        response = self.site.submit(self.coordinator, "ScreenFailed", SCREEN_FAILURE)
        assert response.status_code == 201, response.get_data(as_text=True)

    def sign_casebook(
        self,
        milestone: str = "month_6",
        *,
        by: Person | None = None,
        meaning: str = "responsibility",
        state_hash: str | None = None,
        hashes: dict[int, str] | None = None,
    ) -> TestResponse:
        """Sign the casebook as it stands (or with the state and record hashes given)."""
        signer = by or self.investigator
        subject = self.subject()
        current = {
            n: entry.record_hash
            for n, entry in subject.entries.items()
            if entry.is_live and entry.kind not in ABOUT_RECORDS
        }
        current.update(hashes or {})
        return self.send_casebook(
            milestone,
            state_hash=subject.chain_head if state_hash is None else state_hash,
            entries=[{"entry": n, "record_hash": h} for n, h in sorted(current.items())],
            by=signer,
            meaning=meaning,
        )

    def send_casebook(
        self,
        milestone: str,
        *,
        state_hash: str,
        entries: list[dict[str, Any]],
        by: Person,
        meaning: str = "responsibility",
    ) -> TestResponse:
        """Send a casebook signature over these entries through the ceremony, as ``by``."""
        signer = by
        data = {"milestone": milestone, "state_hash": state_hash, "entries": entries}
        body = signer.body(SUBJECT, "CasebookSigned", data, meaning=meaning)
        payload = {
            "event": body,
            "signature": signer.sign(body),
            "password": signer.password,
            "user_id": signer.user_id,
        }
        return self.site.client.post("/v1/signatures", json=payload, headers=self.site.auth(signer))


@pytest.fixture
def casebook(sqlite_store: Store, clock: Clock) -> Casebook:
    return Casebook(with_access(sqlite_store, clock))


@pytest.mark.requirement("E6-2.12.5-1")
def test_the_casebook_is_signed_through_the_ceremony_and_verifies(timed: Store) -> None:
    casebook = Casebook(timed)
    casebook.leave_the_study()

    answer = signed(casebook.sign_casebook("end_of_study"))

    assert (answer["receipt"]["kind"], answer["receipt"]["version"]) == ("CasebookSigned", 5)
    assert answer["ceremony"]["components"] == ["user_id", "password"]
    current = current_casebook_signature(casebook.subject())
    assert current is not None
    assert (current.signed_in, sorted(current.covers)) == (5, [1, 2, 3, 4])
    assert [len(item["signatures"]) for item in casebook.history()] == [1, 1, 1, 1, 0]
    assert timed.verifier(workers=1).verify().findings == []


@pytest.mark.requirement("P11-11.70-2")
def test_a_correction_after_sign_off_leaves_no_current_casebook_signature(
    casebook: Casebook,
) -> None:
    casebook.leave_the_study()
    signed(casebook.sign_casebook())
    correction = haemoglobin_correction()

    response = casebook.site.submit(casebook.coordinator, "EntryCorrected", correction)

    assert response.status_code == 201, response.get_data(as_text=True)
    assert current_casebook_signature(casebook.subject()) is None
    assert casebook.history()[2]["signatures"][0]["covers_current_value"] is False
    assert casebook.store.verifier(workers=1).verify().findings == []


def test_a_packet_of_a_store_with_a_casebook_signature_verifies(casebook: Casebook) -> None:
    casebook.leave_the_study()
    signed(casebook.sign_casebook("end_of_study"))
    open_sponsor_account(casebook.store.administration, casebook.store.settings)

    report = verify_packet(build_packet(casebook.store, documents=False))

    assert report.findings == []


@pytest.mark.requirement("E6-2.12.5-1")
def test_a_milestone_not_reached_is_refused(casebook: Casebook) -> None:
    response = casebook.sign_casebook("month_6")

    assert_problem(response, 422, title="Milestone not reached", detail="month-6 response")
    assert casebook.versions() == 3


@pytest.mark.requirement("E6-2.12.5-1")
def test_a_stale_state_hash_is_refused(casebook: Casebook) -> None:
    read = casebook.subject().chain_head
    casebook.leave_the_study()

    response = casebook.sign_casebook(state_hash=read)

    assert_problem(response, 422, title="Casebook changed since it was read")
    assert casebook.versions() == 4


def test_a_stale_record_hash_is_refused(casebook: Casebook) -> None:
    casebook.leave_the_study()
    read = casebook.subject().entries[3].record_hash
    correction = haemoglobin_correction()
    corrected = casebook.site.submit(casebook.coordinator, "EntryCorrected", correction)
    assert corrected.status_code == 201

    response = casebook.sign_casebook(hashes={3: read})

    assert_problem(response, 422, title="Record changed since it was read")
    assert casebook.versions() == 5


@pytest.mark.requirement("E6-2.12.5-1")
@pytest.mark.parametrize(
    "role", [Role.SITE_COORDINATOR, Role.MONITOR, Role.AUDITOR, Role.SPONSOR_DATA_MANAGER]
)
def test_only_an_investigator_signs_a_casebook(casebook: Casebook, role: Role) -> None:
    casebook.leave_the_study()
    person = make_person(casebook.store, "someone", role=role, sites=("RP",))

    response = casebook.sign_casebook(by=person)

    assert_problem(response, 403, title="Not permitted", detail="does not sign clinical records")
    assert casebook.versions() == 4


def test_review_is_not_a_meaning_of_a_casebook_signature(casebook: Casebook) -> None:
    casebook.leave_the_study()

    problem = assert_problem(casebook.sign_casebook(meaning="review"), 422)

    assert "CasebookSigned means one of approval, responsibility" in str(problem["errors"])
    assert casebook.versions() == 4


def test_a_casebook_signature_is_not_an_ordinary_event(casebook: Casebook) -> None:
    casebook.leave_the_study()
    subject = casebook.subject()
    data = {
        "milestone": "end_of_study",
        "state_hash": subject.chain_head,
        "entries": [{"entry": 1, "record_hash": subject.entries[1].record_hash}],
    }
    body = casebook.investigator.body(SUBJECT, "CasebookSigned", data, meaning="approval")

    response = casebook.site.submit(casebook.investigator, "CasebookSigned", {}, body=body)

    assert_problem(response, 422, title="Signing ceremony required")
    assert casebook.versions() == 4


def test_another_sites_investigator_does_not_sign_the_casebook(casebook: Casebook) -> None:
    casebook.leave_the_study()
    elsewhere = make_person(casebook.store, "inv-sp", role=Role.INVESTIGATOR, sites=("SP",))

    response = casebook.sign_casebook(by=elsewhere)

    assert_problem(response, 404, title="Subject not found")
    assert casebook.versions() == 4


def test_an_investigator_not_delegated_signing_is_refused_once_the_protocol_requires_it(
    casebook: Casebook, monkeypatch: pytest.MonkeyPatch
) -> None:
    casebook.leave_the_study()
    required = DelegationRule(required_from=datetime.now(UTC).date() - timedelta(days=1))
    monkeypatch.setitem(PROTOCOLS, STUDY, replace(PROTOCOLS[STUDY], delegation=required))

    # inv1 is no site's principal investigator, and nobody delegated signing to them.
    response = casebook.sign_casebook()

    assert_problem(response, 403, detail="signing")
    assert casebook.versions() == 4


# -- a casebook the size of a subject's follow-up -----------------------------------------------


def test_a_casebook_of_more_than_a_hundred_records_is_signed_and_verifies(
    casebook: Casebook,
) -> None:
    casebook.follow_up(140)  # entries 4-143: months of blood counts
    casebook.leave_the_study()

    answer = signed(casebook.sign_casebook("end_of_study"))

    assert (answer["receipt"]["kind"], answer["receipt"]["version"]) == ("CasebookSigned", 145)
    current = current_casebook_signature(casebook.subject())
    assert current is not None
    assert sorted(current.covers) == list(range(1, 145))
    assert casebook.store.verifier(workers=1).verify().findings == []


def test_a_casebook_signature_over_more_records_than_its_limit_is_refused(
    casebook: Casebook,
) -> None:
    casebook.leave_the_study()
    limit = Subject.CasebookSigned.MAX_RECORDS
    too_many = [{"entry": n, "record_hash": "ab" * 32} for n in range(1, limit + 2)]

    response = casebook.send_casebook(
        "end_of_study",
        state_hash=casebook.subject().chain_head,
        entries=too_many,
        by=casebook.investigator,
    )

    problem = assert_problem(response, 422)
    assert f"{limit}" in str(problem["errors"]), problem["errors"]
    assert casebook.versions() == 4


def test_a_signature_over_chosen_records_still_covers_at_most_a_hundred(
    casebook: Casebook,
) -> None:
    casebook.follow_up(98)  # entries 1-101
    hashes = casebook.record_hashes()

    response = casebook.sign(sorted(hashes), meaning="approval")

    assert Subject.RecordsSigned.MAX_RECORDS == 100
    assert "100" in str(assert_problem(response, 422)["errors"])
    assert casebook.versions() == 101


def test_the_openapi_document_gives_each_kind_of_signature_its_own_limit(
    casebook: Casebook,
) -> None:
    document = casebook.site.client.get("/openapi.json").get_json()

    described = document["paths"]["/v1/signatures"]["post"]["description"]
    assert "A ``RecordsSigned`` covers 1 to 100 records" in described
    assert f"``CasebookSigned`` 1 to {Subject.CasebookSigned.MAX_RECORDS:,}" in described
    assert Subject.CasebookSigned.MAX_RECORDS >= 5_000


def test_a_signing_body_larger_than_the_largest_casebook_is_too_large(
    casebook: Casebook,
) -> None:
    casebook.leave_the_study()
    padding = "x" * (2 * 1024 * 1024)

    response = casebook.site.client.post(
        "/v1/signatures",
        json={"event": {}, "signature": padding},
        headers=casebook.site.auth(casebook.investigator),
    )

    assert_problem(response, 413)
    assert casebook.versions() == 4
