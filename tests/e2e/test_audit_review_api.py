"""``GET /v1/study/audit-review``: auditors and sponsor data managers read it, nobody else."""

from __future__ import annotations

from typing import Any

import pytest

from domain.account import Role
from infrastructure.bootstrap import Store
from infrastructure.identity.sponsor_key import open_sponsor_account
from infrastructure.packets.build import build_packet
from infrastructure.packets.verify import verify_packet
from tests.access.conftest import Admin
from tests.conftest import STUDY, Person, open_person, screening
from tests.e2e.conftest import SUBJECT, Site

REVIEW = f"/v1/study/audit-review?study={STUDY}"


def test_an_auditor_reads_the_review_and_a_coordinator_and_a_monitor_are_refused(
    store: Store, site: Site
) -> None:
    coordinator = open_person(store)
    auditor = open_person(store, "audit1", role=Role.AUDITOR, sites=())
    monitor = open_person(store, "mon1", role=Role.MONITOR)
    assert site.submit(coordinator, "Screened", screening()).status_code == 201

    read = site.client.get(REVIEW + "&site=RP", headers=site.auth(auditor))
    by_coordinator = site.client.get(REVIEW, headers=site.auth(coordinator))
    by_monitor = site.client.get(REVIEW, headers=site.auth(monitor))

    assert read.status_code == 200, read.get_data(as_text=True)
    review = read.get_json()
    late = [f for f in review["findings"] if f["flag"] == "late_entry"]
    assert [(f["subject"], f["entry"], f["user_id"]) for f in late] == [(SUBJECT, 1, "coord1")]
    assert review["people"][0]["entries"] == 1
    assert review["period"]["from"] is None
    for refused in (by_coordinator, by_monitor):
        assert refused.status_code == 403
        assert refused.mimetype == "application/problem+json"
        assert refused.get_json()["title"] == "Not permitted"


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize(
    ("query", "title"),
    [
        ("&from=2026-02-01&to=2026-01-01", "Audit review invalid"),
        ("&from=2026-02-30", "Unprocessable Entity"),
        ("&site=RP%0A", "Unprocessable Entity"),
        ("&since=2026-01-01", "Unprocessable Entity"),
    ],
)
def test_a_malformed_or_inverted_period_is_a_problem(
    store: Store, site: Site, query: str, title: str
) -> None:
    auditor = open_person(store, "audit1", role=Role.AUDITOR, sites=())

    refused = site.client.get(REVIEW + query, headers=site.auth(auditor))

    assert refused.status_code == 422, refused.get_data(as_text=True)
    assert refused.mimetype == "application/problem+json"
    assert refused.get_json()["title"] == title


def signed_review(store: Store, person: Person, **data: Any) -> dict[str, Any]:
    """``person``'s signed AuditTrailReviewed on their own account, as POST /v1/accounts takes."""
    signer = Admin(person.user_id, person.printed_name, person.private_key, person.password, store)
    return {"events": [signer.signed(person.user_id, "AuditTrailReviewed", data)]}


def test_a_recorded_review_is_signed_verified_packed_and_the_next_review_starts_after_it(
    store: Store, site: Site
) -> None:
    coordinator = open_person(store)
    auditor = open_person(store, "audit1", role=Role.AUDITOR, sites=())
    assert site.submit(coordinator, "Screened", screening()).status_code == 201
    read = site.client.get(REVIEW + "&to=2026-01-31", headers=site.auth(auditor)).get_json()
    seen = {
        "study": STUDY, "reviewed_to": "2026-01-31", "findings": read["findings_count"],
        "findings_sha256": read["findings_sha256"], "conclusion": "One late screening, explained.",
    }  # fmt: skip

    recorded = site.client.post(
        "/v1/accounts", json=signed_review(store, auditor, **seen), headers=site.auth(auditor)
    )
    next_one = site.client.get(REVIEW, headers=site.auth(auditor)).get_json()

    assert recorded.status_code == 201, recorded.get_data(as_text=True)
    assert next_one["period"]["from"] == "2026-02-01"
    history = site.client.get("/v1/accounts/audit1/history", headers=site.auth(auditor))
    assert history.get_json()[-1]["kind"] == "AuditTrailReviewed"
    assert store.verifier(workers=1).verify().findings == []
    open_sponsor_account(store.administration, store.settings)
    assert verify_packet(build_packet(store, documents=False)).findings == []


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize(
    ("who", "on", "changes", "status", "title"),
    [
        ("audit1", "audit1", {"conclusion": " "}, 422, "Audit review invalid"),
        ("audit1", "audit1", {"reviewed_from": "2026-02-01"}, 422, "Audit review invalid"),
        ("audit1", "audit1", {"findings_sha256": "0" * 63}, 422, "Unprocessable Entity"),
        ("audit1", "audit1", {"conclusion": "fine\u0000"}, 422, "Unprocessable Entity"),
        ("coord1", "coord1", {}, 403, "Not permitted"),
        ("mon1", "mon1", {}, 403, "Not permitted"),
        ("audit1", "coord1", {}, 403, "Not permitted"),
    ],
)
def test_a_review_that_says_nothing_or_by_a_role_that_may_not_review_records_nothing(
    store: Store, site: Site, who: str, on: str, changes: dict[str, Any], status: int, title: str
) -> None:
    people = {
        "coord1": open_person(store),
        "audit1": open_person(store, "audit1", role=Role.AUDITOR, sites=()),
        "mon1": open_person(store, "mon1", role=Role.MONITOR),
    }
    signer = people[who]
    data = {
        "study": STUDY, "reviewed_to": "2026-01-31", "findings": 0,
        "findings_sha256": "0" * 64, "conclusion": "Nothing to report.", **changes,
    }  # fmt: skip
    admin = Admin(signer.user_id, signer.printed_name, signer.private_key, signer.password, store)
    before = store.app.account(on).version

    refused = site.client.post(
        "/v1/accounts",
        json={"events": [admin.signed(on, "AuditTrailReviewed", data)]},
        headers=site.auth(signer),
    )

    assert refused.status_code == status, refused.get_data(as_text=True)
    assert refused.get_json()["title"] == title
    assert store.app.account(on).version == before
