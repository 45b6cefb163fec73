"""The views on the HTTP API: read-only, authenticated, and scoped by site."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Site
from tests.projections.conftest import Followed

SUBJECT_VIEWS = [
    "/v1/studies/NCT01297972/subjects/RP-101/weekly",
    "/v1/studies/NCT01297972/subjects/RP-101/audit",
]
STUDY_VIEWS = ["/v1/study/dashboard", "/v1/study/weekly"]


@pytest.fixture
def site(followed: Followed) -> Site:
    return Site(followed.store)


def test_an_auditor_reads_the_dashboard_with_todays_overdue_notifications_and_the_weekly_table(
    site: Site, followed: Followed
) -> None:
    auditor = site.auth(followed.people["auditor1"])

    board = site.client.get("/v1/study/dashboard", headers=auditor)
    weekly = site.client.get("/v1/study/weekly", headers=auditor)

    assert board.status_code == 200, board.get_data(as_text=True)
    assert board.get_json()["by_status"]["enrolled"] == 1
    assert [n["adverse_event"] for n in board.get_json()["overdue_notifications"]] == ["AE-03"]
    assert weekly.status_code == 200, weekly.get_data(as_text=True)
    assert weekly.get_json()["subjects"] == ["RP-101"]


def test_study_wide_views_are_refused_to_a_role_that_reads_only_its_own_sites(
    site: Site, followed: Followed
) -> None:
    coordinator = site.auth(followed.people["coord1"])

    for path in STUDY_VIEWS:
        response = site.client.get(path, headers=coordinator)
        assert response.status_code == 403, path
        assert response.content_type == "application/problem+json"


def test_a_subjects_views_are_read_at_its_site_and_by_an_auditor_and_refused_elsewhere(
    site: Site, followed: Followed
) -> None:
    own, elsewhere, auditor = (
        site.auth(followed.people[user]) for user in ("coord1", "coord9", "auditor1")
    )

    for path in SUBJECT_VIEWS:
        read = site.client.get(path, headers=own)
        assert read.status_code == 200, read.get_data(as_text=True)
        assert read.get_json()["subject"] == "RP-101"
        # Another site's subject reads as one that does not exist (issue 15, point 11).
        assert site.client.get(path, headers=elsewhere).status_code == 404, path
        assert site.client.get(path, headers=auditor).status_code == 200, path
        missing = site.client.get(path.replace("RP-101", "RP-999"), headers=auditor)
        assert missing.status_code == 404, path


def test_every_view_needs_a_token(site: Site) -> None:
    for path in STUDY_VIEWS + SUBJECT_VIEWS:
        assert site.client.get(path).status_code == 401, path
