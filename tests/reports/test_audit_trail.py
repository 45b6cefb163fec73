"""The Part 11 audit trail: every creation, correction and void, field by field, as CSV and JSON."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from domain.subject import Subject
from infrastructure.bootstrap import Store
from projections.audit_trail import COLUMNS, Period, audit_rows
from tests.reports.conftest import CORRECTED_ENTRY, SUBJECT, VOIDED_ENTRY, report

STREAM = f"NCT01297972/{SUBJECT}"


def events_of(store: Store) -> list[tuple[int, Subject.Event]]:
    return [
        (r.position, r.event)
        for r in store.reads.history(STREAM)
        if isinstance(r.event, Subject.Event)
    ]


@pytest.mark.requirement("P11-11.10e-1")
def test_a_creation_lists_each_recorded_field_with_the_old_value_empty(followed: Store) -> None:
    rows = audit_rows(events_of(followed))

    created = [r for r in rows if r.entry == CORRECTED_ENTRY and r.action == "created"]

    assert [r.field for r in created] == ["collected_on", "results", "reticulocyte_method"]
    assert all(r.old is None and r.reason == "" for r in created)
    assert created[1].new["haemoglobin"] == {"value": "7.0", "unit": "g/dL"}


@pytest.mark.requirement("P11-11.10e-1")
def test_a_correction_gives_old_and_new_who_when_why_and_the_signature(followed: Store) -> None:
    rows = audit_rows(events_of(followed))

    (corrected,) = [r for r in rows if r.action == "corrected"]

    assert (corrected.subject, corrected.entry, corrected.kind) == (
        SUBJECT,
        CORRECTED_ENTRY,
        "BloodCountRecorded",
    )
    assert corrected.field == "results"
    assert corrected.old["haemoglobin"]["value"] == "7.0"
    assert corrected.new["haemoglobin"]["value"] == "7.1"
    assert corrected.reason == "transcription error: the lab report reads 7.1"
    assert (corrected.printed_name, corrected.user_id, corrected.meaning) == (
        "Ana Souza",
        "coord1",
        "authorship",
    )
    assert corrected.key_id.startswith("ed25519:") and len(corrected.signature) == 88
    utc = datetime.strptime(corrected.recorded_at_utc, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    site = utc.astimezone(ZoneInfo("America/Sao_Paulo"))
    assert corrected.recorded_at_local == site.strftime("%Y-%m-%d %H:%M:%S %z")
    assert corrected.time_zone == "America/Sao_Paulo"
    assert corrected.by_entry == CORRECTED_ENTRY + 5


@pytest.mark.requirement("P11-11.10e-1")
def test_a_void_is_one_row_from_active_to_voided_with_the_reason(followed: Store) -> None:
    rows = audit_rows(events_of(followed))

    (voided,) = [r for r in rows if r.action == "voided"]

    assert (voided.entry, voided.kind, voided.field) == (
        VOIDED_ENTRY,
        "TransfusionGiven",
        "record status",
    )
    assert (voided.old, voided.new, voided.reason) == (
        "active",
        "voided",
        "entered for the wrong subject",
    )


def test_a_period_keeps_only_events_recorded_on_its_dates_at_the_site(followed: Store) -> None:
    today = datetime.now(ZoneInfo("America/Sao_Paulo")).date()
    events = events_of(followed)

    assert audit_rows(events, Period(today, today))
    assert audit_rows(events, Period(first=today + timedelta(days=1))) == []
    assert audit_rows(events, Period(last=today - timedelta(days=1))) == []


@pytest.mark.requirement("P11-11.10b-1")
def test_the_csv_has_one_row_per_field_and_prints_only_its_path(
    followed: Store, tmp_path: Path
) -> None:
    out = tmp_path / "trail.csv"

    done = report(
        followed, "audit-trail", "--subject", SUBJECT, "--format", "csv", "--out", str(out)
    )

    assert done.exit_code == 0, done.output
    assert done.stdout == f"{out}\n"
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert tuple(rows[0]) == COLUMNS
    (corrected,) = [r for r in rows if r["action"] == "corrected"]
    assert "haemoglobin=7.0 g/dL" in corrected["old"]
    assert "haemoglobin=7.1 g/dL" in corrected["new"]
    (voided,) = [r for r in rows if r["action"] == "voided"]
    assert (voided["entry"], voided["old"], voided["new"]) == (
        str(VOIDED_ENTRY),
        "active",
        "voided",
    )
    created = [r for r in rows if r["action"] == "created" and r["entry"] == "1"]
    assert {r["field"] for r in created} == {"site", "sex", "age", "screened_on"}
    assert all(r["old"] == "" for r in created)


@pytest.mark.requirement("P11-11.10b-1")
def test_the_json_carries_the_rows_and_a_checkpoint_covering_them(
    followed: Store, tmp_path: Path
) -> None:
    out = tmp_path / "trail.json"

    done = report(followed, "audit-trail", "--format", "json", "--out", str(out))

    assert done.exit_code == 0, done.output
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["subjects"] == [SUBJECT, "RP-02"]
    assert document["counts"]["corrected"] == 1 and document["counts"]["voided"] == 1
    (corrected,) = [r for r in document["rows"] if r["action"] == "corrected"]
    assert corrected["old"]["haemoglobin"] == {"value": "7.0", "unit": "g/dL"}
    positions = {r["position"] for r in document["rows"]}
    assert (
        document["checkpoint"]["tree_size"]
        >= followed.app.checkpoints.leaf_index(max(positions)) + 1
    )
    assert document["checkpoint"]["note"].startswith(followed.app.checkpoints.origin + "\n")


def test_a_period_from_the_future_gives_no_rows(followed: Store, tmp_path: Path) -> None:
    out = tmp_path / "none.json"
    tomorrow = (datetime.now(ZoneInfo("America/Sao_Paulo")).date() + timedelta(days=1)).isoformat()

    done = report(
        followed, "audit-trail", "--from", tomorrow, "--format", "json", "--out", str(out)
    )

    assert done.exit_code == 0, done.output
    assert json.loads(out.read_text(encoding="utf-8"))["rows"] == []


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--subject", "RP-99"], 1, "RP-99 has not been screened"),
        (["--from", "2011-03-02", "--to", "2011-03-01"], 2, "--from is after --to"),
    ],
)
def test_a_bad_request_is_one_line_on_stderr_and_writes_nothing(
    followed: Store, tmp_path: Path, args: list[str], code: int, message: str
) -> None:
    out = tmp_path / "trail.csv"

    done = report(followed, "audit-trail", *args, "--format", "csv", "--out", str(out))

    assert done.exit_code == code
    assert message in done.stderr
    assert done.stdout == ""
    assert not out.exists()
