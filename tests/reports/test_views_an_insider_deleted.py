"""Console reports read the subjects they cover from the log, not the views: a subject's view
row removed from the database by someone with the file and no key hides no subject from the
audit trail or the CONEP progress report, and a report that needs the row (the outcome table)
stops in one line, exit 1, rather than leave the subject out."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from infrastructure.bootstrap import Store
from tests.insider import connection
from tests.reports.conftest import SUBJECT, report, reporter

SCREEN_FAILURE = "NCT01297972/RP-02"


@pytest.fixture
def deleted(followed: Store) -> Iterator[Store]:
    """RP-02's subject summary row removed once the views caught up; the views rebuilt from
    the log after the test, for the module's next one."""
    followed.views.catch_up()
    with connection(followed.settings.database_url) as execute:
        execute("DELETE FROM view_subject_summary WHERE stream = ?", (SCREEN_FAILURE,))
    yield followed
    followed.views.rebuild()


def test_the_audit_trail_covers_a_subject_whose_summary_row_an_insider_deleted(
    deleted: Store, tmp_path: Path
) -> None:
    out = tmp_path / "trail.json"

    done = report(deleted, "audit-trail", "--format", "json", "--out", str(out))

    assert done.exit_code == 0, done.output
    assert json.loads(out.read_text(encoding="utf-8"))["subjects"] == [SUBJECT, "RP-02"]


def test_the_progress_report_counts_a_subject_whose_summary_row_an_insider_deleted(
    deleted: Store, tmp_path: Path
) -> None:
    out = tmp_path / "progress.json"

    done = report(deleted, "conep-progress", "--format", "json", "--out", str(out))

    assert done.exit_code == 0, done.output
    data = json.loads(out.read_text(encoding="utf-8"))["data"]
    assert (data["recruited"], data["screen_failures"]) == (2, 1)


def test_the_outcome_table_missing_a_subject_s_summary_row_is_refused_in_one_line(
    deleted: Store,
) -> None:
    reporter(deleted)  # the data manager's account opened before the count
    before = deleted.app.recorder.max_notification_id()

    done = report(deleted, "outcomes", "--json")

    assert done.exit_code == 1
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1
    assert "View not verified" in done.stderr
    assert f"{SCREEN_FAILURE!r} of the subject summary is missing" in done.stderr
    recorded = deleted.app.recorder.select_notifications(before + 1, 10)
    assert recorded  # the sign-in is logged, ...
    assert not [n for n in recorded if "CopyHandedOut" in n.topic]  # ... no copy handed out
