"""The performance qualification's record: each step of the scripted scenario run on the
deployment (``sealtrail validation pq``), what it proves, its result and its evidence; the
record sealed with the server's key as the installation qualification's is, and a page of it.

The record is one JSON document (docs/validation/performance-qualification.md): when and where
the scenario ran, against which URL, its extent (the demonstration cohort or one subject), the
synthetic accounts and subjects it made, how many signed writes it sent, and the steps.
It is signed as a write receipt is (:func:`infrastructure.installation.run.sealed`), so the
sponsor's QA can show it was not edited; ``sealtrail validation check-record`` checks it.
"""

from __future__ import annotations

import html
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

RECORD_KIND = "sealtrail performance qualification"
PASSED, FAILED, NOT_RUN = "passed", "failed", "not run"


@dataclass
class Step:
    """One step of the scenario: its name, what it shows and the requirements that says so
    (ids of docs/validation/requirements.toml), then its result and evidence once run."""

    name: str
    shows: str
    proves: tuple[str, ...] = ()
    result: str = NOT_RUN
    detail: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)
    seconds: str | None = None
    """How long it took (wall clock, a decimal string: a signed record holds no float), once
    run: the performance the deployment showed."""

    @contextmanager
    def timed(self) -> Iterator[None]:
        """Time what runs inside as this step's, whether it passes or raises."""
        began = time.monotonic()
        try:
            yield
        finally:
            self.seconds = f"{time.monotonic() - began:.1f}"

    def passed(self, **evidence: Any) -> None:
        """The step did what it must; ``evidence`` is what shows it."""
        self.result = PASSED
        self.evidence.update(evidence)

    def failed(self, detail: str, **evidence: Any) -> None:
        """The step did not do what it must, and why (one line)."""
        self.result = FAILED
        self.detail = detail.splitlines()[0] if detail else "failed"
        self.evidence.update(evidence)

    def as_dict(self) -> dict[str, Any]:
        """The step as the record holds it."""
        return {
            "name": self.name,
            "shows": self.shows,
            "proves": list(self.proves),
            "result": self.result,
            "detail": self.detail,
            "evidence": self.evidence,
            "seconds": self.seconds,
        }


def verdict(steps: list[Step]) -> bool:
    """Whether the run passed: every step that had to run passed (an optional step left out,
    the witnesses without ``--witness``, is marked ``not run`` and said why)."""
    return all(step.result == PASSED or step.detail.startswith("optional") for step in steps)


def _subjects(document: dict[str, Any]) -> list[str]:
    """Each subject of the record, with the demonstration subject whose records it took."""
    return [
        f"{subject.get('code')} ({subject.get('demonstrates')})"
        for subject in document.get("subjects", [])
    ]


def html_record(document: dict[str, Any]) -> str:
    """One self-contained page of the record, for the QA's file; the JSON is what is signed."""
    e = html.escape
    verdict_text = "PQ PASSED" if document.get("passed") else "PQ NOT PASSED"
    rows = []
    for step in document.get("steps", []):
        evidence = json.dumps(step["evidence"], indent=1, ensure_ascii=False, sort_keys=True)
        rows.append(
            "<tr>"
            f"<td>{e(step['name'])}</td><td>{e(step['shows'])}</td>"
            f"<td>{e(', '.join(step['proves']))}</td>"
            f"<td>{e(step.get('seconds') or '')}</td>"
            f"<td class='{e(step['result'].replace(' ', '-'))}'>{e(step['result'])}"
            f"{'<br>' + e(step['detail']) if step['detail'] else ''}</td>"
            f"<td><pre>{e(evidence)}</pre></td>"
            "</tr>"
        )
    facts = [
        ("Run", f"{document.get('started_at')} to {document.get('finished_at')}"),
        ("Deployment", f"{document.get('url')} (host {document.get('host')})"),
        ("sealtrail", str(document.get("sealtrail"))),
        ("Database", str(document.get("database"))),
        ("Study, site", f"{document.get('study')}, {document.get('site')}"),
        ("Extent", f"{document.get('extent')}: {document.get('signed_writes')} signed writes"),
        ("Subjects", ", ".join(_subjects(document))),
        ("Accounts", ", ".join(document.get("accounts", []))),
        ("Signed", str(document.get("server_key_id") or document.get("unsigned_because"))),
    ]
    listed = "".join(f"<tr><th>{e(name)}</th><td>{e(value)}</td></tr>" for name, value in facts)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>sealtrail performance qualification: {e(verdict_text)}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; }}
table {{ border-collapse: collapse; }} th, td {{ border: 1px solid #999; padding: .3em;
vertical-align: top; text-align: left; }} pre {{ margin: 0; font-size: .8em; }}
.passed {{ color: #05620b; }} .failed {{ color: #a00; }} .not-run {{ color: #555; }}
</style></head><body>
<h1>Performance qualification (PQ): {e(verdict_text)}</h1>
<p><strong>Synthetic data only.</strong> {e(str(document.get("synthetic_note", "")))}</p>
<table>{listed}</table>
<h2>Steps</h2>
<table><tr><th>step</th><th>shows</th><th>proves</th><th>seconds</th><th>result</th>
<th>evidence</th></tr>
{"".join(rows)}</table>
<p>This page is a reading of <code>pq-report.json</code>; the JSON is the record, signed with
the server's key (<code>sealtrail validation check-record pq-report.json</code>).</p>
</body></html>
"""
