"""The pages' server time against the JSON endpoint that serves the same data, in one run.

One store (SQLite in a temporary directory, or PostgreSQL in a database of its own, dropped at
the end) holds one subject of NCT01297972 with ``--events`` signed events, recorded as
``benchmarks/replay.py`` records them (the signed write path; blood counts, troughs,
transfusions and deviations in turn, every 25th event a correction). An auditor signs in to the
pages (the form, its CSRF token, the session cookie) and to the API (a bearer token); then each
request below is asked ``--samples`` times through Flask's test client in this process (the
whole of the app's work for the request: session or token, permission, reads, rendering, the
copy recorded in the disclosure log; no network, no server process), in turn with its JSON
counterpart:

- **timeline**: ``/subjects/<code>`` (the timeline of every record, the derived facts, the
  chart links) against ``GET /v1/studies/<study>/subjects/<code>/audit`` (the audit index: the
  same records, versions, voids and signatures, as JSON);
- **as of**: ``/subjects/<code>/as-of?position=N`` (the subject, its facts and its timeline as
  they stood, and what the event changed) against ``GET .../subjects/<code>?position=N`` (the
  summary as it stood), at the middle of the subject's history;
- **sign**: ``/sign`` as the site's investigator opens it (every record of the subject is
  unsigned: one to choose per record, and the casebook milestones) against ``GET
  /v1/study/unsigned-records?site=RP`` (the same report, as JSON);
- and alone, with no JSON counterpart: the list ``/subjects`` and the chart
  ``/subjects/<code>/blood-counts.svg``.

It prints each one's median and p95 in milliseconds, of the wall clock and of the CPU time
this process spent (the figure a shared machine disturbs less), the ratio page/JSON of the p95s
(goal: within 2x), and the timeline's p95 against its goal of 300 ms for a subject of 2,000
events.

Run: ``.venv/bin/python benchmarks/pages.py [--events N] [--samples S] [--backend ...]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Run as a script, this folder comes first on sys.path and its http.py would hide the standard
# library's http module: put the project's root there instead.
HERE = Path(__file__).resolve().parent
sys.path[:] = [str(HERE.parent)] + [p for p in sys.path if Path(p or ".").resolve() != HERE]

from werkzeug.test import TestResponse  # noqa: E402

from benchmarks import stores  # noqa: E402
from benchmarks.replay import STUDY, SUBJECT, filled_store  # noqa: E402
from domain.account import Role  # noqa: E402
from domain.signed import stream_id  # noqa: E402
from domain.subject import subject_stream  # noqa: E402
from infrastructure.bootstrap import Store  # noqa: E402
from infrastructure.store.positions import log_positions  # noqa: E402
from tests.conftest import open_person  # noqa: E402
from tests.web.conftest import Browser  # noqa: E402

TIMELINE_GOAL_MS = 300.0
RATIO_GOAL = 2.0
PAIRS = (
    ("timeline page", "audit index JSON"),
    ("as-of page", "as-of JSON"),
    ("sign page", "unsigned JSON"),
)
"""Each page and its JSON twin: the same data, as the page and as the API serve it."""


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def timed(ask: Callable[[], TestResponse]) -> tuple[float, float]:
    """The request's wall-clock time and the CPU time this process spent on it (ms)."""
    started, cpu = time.perf_counter(), time.process_time()
    answer = ask()
    elapsed = (time.perf_counter() - started) * 1e3
    spent = (time.process_time() - cpu) * 1e3
    if answer.status_code != 200:
        raise SystemExit(f"{answer.request.path}: {answer.status_code} {answer.get_data()[:300]!r}")
    return elapsed, spent


def measure(store: Store, samples: int) -> dict[str, Any]:
    """Each request's times (ms), page and JSON asked in turn."""
    auditor = open_person(
        store, "bench.auditor", printed_name="Bench Auditor", role=Role.AUDITOR, sites=()
    )
    browser = Browser(store)
    assert browser.sign_in(auditor.user_id, auditor.password).status_code == 302
    headers = browser.site.auth(auditor)
    api = f"/v1/studies/{STUDY}/subjects/{SUBJECT}"
    positions = log_positions(store.app.recorder, stream_id(subject_stream(STUDY, SUBJECT)))
    middle = positions[max(positions) // 2]
    investigator = open_person(
        store, "bench.investigator", printed_name="Bench Investigator", role=Role.INVESTIGATOR
    )
    signer = Browser(store)
    assert signer.sign_in(investigator.user_id, investigator.password).status_code == 302
    signer_headers = signer.site.auth(investigator)
    requests: dict[str, Callable[[], TestResponse]] = {
        "timeline page": lambda: browser.get(f"/subjects/{SUBJECT}"),
        "audit index JSON": lambda: browser.client.get(f"{api}/audit", headers=headers),
        "as-of page": lambda: browser.get(f"/subjects/{SUBJECT}/as-of?position={middle}"),
        "as-of JSON": lambda: browser.client.get(f"{api}?position={middle}", headers=headers),
        "sign page": lambda: signer.get("/sign"),
        "unsigned JSON": lambda: signer.client.get(
            "/v1/study/unsigned-records?site=RP", headers=signer_headers
        ),
        "subject list page": lambda: browser.get("/subjects"),
        "blood count chart": lambda: browser.get(f"/subjects/{SUBJECT}/blood-counts.svg"),
    }
    for ask in requests.values():  # the views catch up, caches fill: not what is measured
        timed(ask)
    times: dict[str, list[float]] = {name: [] for name in requests}
    cpu: dict[str, list[float]] = {name: [] for name in requests}
    sizes = {name: len(ask().get_data()) for name, ask in requests.items()}
    for _ in range(samples):
        for name, ask in requests.items():
            elapsed, spent = timed(ask)
            times[name].append(elapsed)
            cpu[name].append(spent)
    return {"times": times, "cpu": cpu, "sizes": sizes, "middle": middle}


def report(backend: str, events: int, result: dict[str, Any]) -> None:
    times, cpu, sizes = result["times"], result["cpu"], result["sizes"]
    print(f"\n{backend}: a subject of {events} events; as-of at log position {result['middle']}")
    print(
        f"  {'request':<20} {'median ms':>10} {'p95 ms':>8} {'CPU median':>11} {'CPU p95':>8} "
        f"{'bytes':>9}"
    )
    for name, samples in times.items():
        print(
            f"  {name:<20} {statistics.median(samples):>10.1f} {p95(samples):>8.1f} "
            f"{statistics.median(cpu[name]):>11.1f} {p95(cpu[name]):>8.1f} {sizes[name]:>9}"
        )
    for page, json_twin in PAIRS:
        for label, figures in (("wall", times), ("CPU", cpu)):
            ratio = p95(figures[page]) / p95(figures[json_twin])
            verdict = "met" if ratio <= RATIO_GOAL else "not met"
            print(
                f"  {page} / {json_twin}, {label} p95: {ratio:.2f} "
                f"(goal within {RATIO_GOAL:.0f}x: {verdict})"
            )
    for label, figures in (("wall", times), ("CPU", cpu)):
        timeline = p95(figures["timeline page"])
        verdict = "met" if timeline < TIMELINE_GOAL_MS else "not met"
        print(
            f"  timeline page {label} p95 / goal: {timeline:.1f} / {TIMELINE_GOAL_MS:.0f} ms = "
            f"{timeline / TIMELINE_GOAL_MS:.2f}: goal {verdict}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=2000, help="events of the subject (2000)")
    parser.add_argument("--samples", type=int, default=20, help="times each request (20)")
    stores.add_backend_options(parser)
    args = parser.parse_args(argv)
    if args.samples < 1 or args.events < 11:
        parser.error("--events must be at least 11 and --samples positive")
    for backend in stores.each_backend(args, f"sealtrail pages benchmark: {args.events} events"):
        store = filled_store(backend, args.events)
        try:
            report(backend.name, args.events, measure(store, args.samples))
        finally:
            store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
