"""The reports over the demonstration cohort: figures agree with the subject summaries."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from infrastructure.bootstrap import Store
from infrastructure.documents.certificate import document_signer
from infrastructure.documents.signing import check_pdf_signature
from tests.reports.conftest import report
from tests.shared_templates import DemoCohort, opened


@pytest.fixture(scope="module")
def demo(
    tmp_path_factory: pytest.TempPathFactory, demo_cohort_template: DemoCohort
) -> Iterator[Store]:
    with opened(demo_cohort_template, tmp_path_factory.mktemp("demo")) as store:
        yield store


def test_the_progress_report_agrees_with_the_subject_summaries(demo: Store, tmp_path: Path) -> None:
    out = tmp_path / "progress.json"
    summaries = demo.views.of_study("NCT01297972")

    done = report(demo, "conep-progress", "--format", "json", "--out", str(out))

    assert done.exit_code == 0, done.output
    data = json.loads(out.read_text(encoding="utf-8"))["data"]
    assert data["recruited"] == len(summaries)
    assert data["included"] == sum(1 for s in summaries if s["enrolment"] is not None)
    assert data["deaths"] == sum(1 for s in summaries if s["death"] is not None)
    assert data["withdrawn"] == sum(1 for s in summaries if s["withdrawal"] is not None)
    serious = sum(1 for s in summaries for e in s["adverse_events"] if e["serious"])
    assert data["serious_adverse_events"] == serious
    assert {d["cause"] for d in data["death_causes"]} == {
        s["death"]["cause"] for s in summaries if s["death"] is not None
    }


def test_every_serious_event_of_the_cohort_can_be_notified_as_a_signed_pdf(
    demo: Store, tmp_path: Path
) -> None:
    summaries = demo.views.of_study("NCT01297972")
    serious = [
        f"{s['subject']}/{e['adverse_event']}"
        for s in summaries
        for e in s["adverse_events"]
        if e["serious"]
    ]
    assert serious
    out = tmp_path / "sae.pdf"

    done = report(demo, "conep-sae", "--event", serious[0], "--out", str(out), "--chart-dpi", "40")

    assert done.exit_code == 0, done.output
    assert check_pdf_signature(out.read_bytes(), document_signer(demo.settings)).ok
    for event in serious[1:]:
        notified = report(
            demo, "conep-sae", "--event", event, "--format", "json", "--out", str(out)
        )
        assert notified.exit_code == 0, notified.output
        assert json.loads(out.read_text(encoding="utf-8"))["data"]["seriousness"]
