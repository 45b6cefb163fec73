"""``sealtrail report audit-review`` on RP-01's records, entered years after their dates.

Whether an entry falls outside the site's working hours depends on when the test runs, so these
tests read the other flags (tests/unit/test_audit_review.py crafts each flag's events).
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

from infrastructure.bootstrap import Store
from tests.reports.conftest import RECORDS, SUBJECT, report

TODAY = datetime.now(UTC).date().isoformat()


def late_entries(findings: list[dict[str, object]]) -> list[object]:
    return [f["entry"] for f in findings if f["flag"] == "late_entry"]


def test_the_json_review_flags_each_late_entry_of_the_coordinator(followed: Store) -> None:
    done = report(followed, "audit-review", "--format", "json", "--site", "RP")

    assert done.exit_code == 0, done.output
    review = json.loads(done.stdout)
    ours = [f for f in review["findings"] if f["subject"] == SUBJECT]
    # Every record of RP-01 but the two changes (entries 19 and 20) is dated, and late.
    assert late_entries(ours) == [n for n in range(1, len(RECORDS) + 1) if n not in (19, 20)]
    coordinator = next(p for p in review["people"] if p["user_id"] == "coord1")
    assert (coordinator["corrections"], coordinator["voids"]) == (1, 1)
    assert coordinator["entries"] == len(RECORDS) - 2 + 2  # RP-01's records and RP-02's two
    assert review["findings_count"] == len(review["findings"])
    assert len(review["findings_sha256"]) == 64


def test_the_csv_review_has_a_row_per_finding_and_the_text_one_a_line_per_person(
    followed: Store, tmp_path: Path
) -> None:
    out = tmp_path / "review.csv"
    as_csv = report(followed, "audit-review", "--format", "csv", "--out", str(out))
    as_text = report(followed, "audit-review")
    as_json = json.loads(report(followed, "audit-review", "--format", "json").stdout)

    assert as_csv.exit_code == 0 and as_csv.stdout == f"{out}\n"
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert len(rows) == as_json["findings_count"]
    assert {row["flag"] for row in rows} >= {"late_entry"}
    assert as_text.exit_code == 0, as_text.output
    assert as_text.stdout.startswith("Audit-trail review of NCT01297972, every site, recorded")
    assert f"SHA-256 {as_json['findings_sha256']}" in as_text.stdout
    assert "RP     coord1" in as_text.stdout


def test_a_period_before_anything_was_recorded_has_no_findings(followed: Store) -> None:
    done = report(followed, "audit-review", "--format", "json", "--to", "2020-01-01")

    review = json.loads(done.stdout)
    assert (review["findings"], review["people"]) == ([], [])
    assert review["period"] == {"from": None, "to": "2020-01-01"}


def test_a_period_that_ends_before_it_begins_is_refused_in_one_line(followed: Store) -> None:
    done = report(followed, "audit-review", "--from", TODAY, "--to", "2020-01-01")

    assert done.exit_code == 1
    assert done.stdout == ""
    assert done.stderr == (
        f"sealtrail: Audit review invalid: the period begins on {TODAY}, after it ends "
        "(2020-01-01)\n"
    )
