"""``sealtrail report audit-review`` on RP-01's records, entered years after their dates.

Whether an entry falls outside the site's working hours depends on when the test runs, so these
tests read the other flags (tests/unit/test_audit_review.py crafts each flag's events).
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from domain.account import Role
from domain.protocol import NCT01297972
from infrastructure.bootstrap import Store
from signatures.keys import private_key_to_pem
from tests.conftest import BACKENDS, console_env, open_person
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


@pytest.mark.parametrize("followed", BACKENDS, indirect=True)
def test_a_period_that_ends_before_it_begins_is_refused_in_one_line(followed: Store) -> None:
    done = report(followed, "audit-review", "--from", TODAY, "--to", "2020-01-01")

    assert done.exit_code == 1
    assert done.stdout == ""
    assert done.stderr == (
        f"sealtrail: Audit review invalid: the period begins on {TODAY}, after it ends "
        "(2020-01-01)\n"
    )


def reviewer_with_key(store: Store, user_id: str, tmp_path: Path) -> tuple[dict[str, str], str]:
    """A new auditor: their console environment and their private key's file."""
    person = open_person(store, user_id, printed_name="Vera Dias", role=Role.AUDITOR, sites=())
    key_file = tmp_path / f"{user_id}.pem"
    key_file.write_bytes(private_key_to_pem(person.private_key))
    return console_env(person), str(key_file)


@pytest.mark.requirement("E6-4.2.3-1")
@pytest.mark.parametrize("followed", BACKENDS, indirect=True)
def test_a_reviewer_records_their_review_and_the_next_report_starts_the_day_after(
    followed: Store, tmp_path: Path
) -> None:
    person, key = reviewer_with_key(followed, "rev1", tmp_path)
    today = datetime.now(NCT01297972.time_zone).date()  # the study's: periods are its dates
    yesterday = (today - timedelta(days=1)).isoformat()
    scope = ("audit-review", "--site", "SP", "--format", "json")

    done = report(
        followed, *scope, "--to", yesterday, "--conclusion", "Nothing at SP.", "--key", key,
        person=person,
    )  # fmt: skip
    next_one = json.loads(report(followed, *scope).stdout)

    assert done.exit_code == 0, done.output
    shown = json.loads(done.stdout)
    assert (
        done.stderr == f"rev1 recorded their review of 0 findings (from the start to {yesterday})\n"
    )
    event = followed.reads.audit_trail_reviews()[-1]
    assert (event.site, event.reviewed_from, event.reviewed_to.isoformat()) == (
        "SP",
        None,
        yesterday,
    )
    assert (event.findings, event.findings_sha256) == (0, shown["findings_sha256"])
    assert event.conclusion == "Nothing at SP."
    assert next_one["period"]["from"] == today.isoformat()


@pytest.mark.parametrize(
    ("options", "code", "says"),
    [
        (("--conclusion", "  "), 1, "sealtrail: Audit review invalid: a review says what the "),
        (("--conclusion", "fine\x07"), 1, "sealtrail: Audit review invalid: a conclusion holds "),
        (("--from", "2030-01-01", "--to", "2030-01-31", "--conclusion", "ok"), 1,
         "sealtrail: Audit review invalid: the period ends on 2030-01-31, after today"),
    ],
)  # fmt: skip
def test_a_review_that_says_nothing_is_refused_in_one_line_and_records_nothing(
    followed: Store, tmp_path: Path, options: tuple[str, ...], code: int, says: str
) -> None:
    person, key = reviewer_with_key(followed, f"rev{len(options)}{code}{len(says)}", tmp_path)
    before = len(followed.reads.audit_trail_reviews())

    done = report(followed, "audit-review", *options, "--key", key, person=person)

    assert done.exit_code == code
    assert done.stdout == ""
    assert done.stderr.startswith(says) and done.stderr.count("\n") == 1
    assert len(followed.reads.audit_trail_reviews()) == before


@pytest.mark.parametrize(
    ("options", "says"),
    [
        (("--conclusion", "fine"), "--conclusion and --key go together"),
        (("--site", "RP\n"), "'RP\\n' is not a site code"),
    ],
)
def test_a_conclusion_without_a_key_or_a_site_that_is_no_code_is_wrong_usage(
    followed: Store, options: tuple[str, ...], says: str
) -> None:
    done = report(followed, "audit-review", *options)

    assert done.exit_code == 2
    assert done.stdout == ""
    assert says in done.stderr
