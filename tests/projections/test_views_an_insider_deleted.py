"""The study-wide views on the HTTP API check the subjects they cover against the log: a
subject's view row removed from the database by someone with the file and no key is 503 View
not verified, nothing handed out, rather than a table or dashboard that silently leaves the
subject out (the study's rows are recomputed, and sealed, from the subject rows left)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.access.conftest import assert_problem
from tests.e2e.conftest import Site
from tests.insider import connection
from tests.projections.conftest import Followed, opening, record_all

STREAM = "NCT01297972/RP-101"


@pytest.fixture
def site(followed: Followed) -> Iterator[Site]:
    """The API on the store, its views caught up; rebuilt from the log after the test, for
    the module's next one."""
    followed.store.views.catch_up()
    yield Site(followed.store)
    followed.store.views.rebuild()


def delete_row(followed: Followed, table: str) -> None:
    with connection(followed.store.settings.database_url) as execute:
        execute(f"DELETE FROM {table} WHERE stream = ?", (STREAM,))


def read_not_verified(site: Site, followed: Followed, path: str, detail: str) -> None:
    auditor = site.auth(followed.people["auditor1"])  # a sign-in, recorded
    before = followed.store.app.recorder.max_notification_id()

    response = site.client.get(path, headers=auditor)

    assert_problem(response, 503, title="View not verified", detail=detail)
    assert followed.store.app.recorder.max_notification_id() == before  # no copy recorded


def test_the_outcome_table_missing_a_subject_s_summary_row_is_not_verified(
    site: Site, followed: Followed
) -> None:
    delete_row(followed, "view_subject_summary")

    read_not_verified(site, followed, "/v1/study/outcomes", "of the subject summary is missing")


def test_a_dashboard_recomputed_without_a_deleted_summary_row_is_not_verified(
    site: Site, followed: Followed
) -> None:
    delete_row(followed, "view_subject_summary")
    record_all(followed.store, followed.people["coord1"], opening("RP-102")[:1], code="RP-102")

    counted = "{'RP': 1} per site, the log {'RP': 2}"
    read_not_verified(site, followed, "/v1/study/dashboard", counted)


def test_a_weekly_table_recomputed_without_a_deleted_weekly_row_is_not_verified(
    site: Site, followed: Followed
) -> None:
    delete_row(followed, "view_subject_weekly")
    record_all(followed.store, followed.people["coord1"], opening("RP-103")[:1], code="RP-103")

    infused = "the log's infused subjects are ['RP-101']"
    read_not_verified(site, followed, "/v1/study/weekly", infused)
