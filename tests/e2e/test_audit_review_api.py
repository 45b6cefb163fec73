"""``GET /v1/study/audit-review``: auditors and sponsor data managers read it, nobody else."""

from __future__ import annotations

import pytest

from domain.account import Role
from infrastructure.bootstrap import Store
from tests.conftest import STUDY, open_person, screening
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
    assert review["period"] == {"from": None, "to": None}
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
