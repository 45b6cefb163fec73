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
  they stood, and what the event changed), at the middle of the subject's history, against the
  JSON reads that together serve the same data: ``GET .../subjects/<code>?position=N`` (the
  summary as it stood), the same at the event before (what the event changed is the difference)
  and the audit index (the records; no JSON has them as they stood, so the current index, twice
  as many records, stands in for them); and against the first alone, as before;
- **as of, a new point each time**: the same page and the same three reads at a point no
  request has asked for yet (the page has nothing kept for it);
- **sign**: ``/sign`` as the site's investigator opens it (every record of the subject is
  unsigned: one to choose per record, and the casebook milestones) against ``GET
  /v1/study/unsigned-records?site=RP`` (the same report, as JSON);
- and alone, with no JSON counterpart: the list ``/subjects`` and the chart
  ``/subjects/<code>/blood-counts.svg``.

It prints each one's median and p95 in milliseconds, of the wall clock and of the CPU time
this process spent (the figure a shared machine disturbs less), the ratio page/JSON of the p95s
(goal: within 2x), and the timeline's p95 against its goal of 300 ms for a subject of 2,000
events.

Then the **timeline through the real server**: gunicorn serves the same store (``wsgi:app``, the
command of docs/deployment.md, ``--workers 1`` so every request meets the same worker), the
auditor signs in with ``requests`` (form, CSRF token, cookie) and asks ``/subjects/<code>``
``--samples`` times; the page's server time is gunicorn's own (``%(D)s`` of its access log: from
reading the request to the last byte written), the first request's apart (nothing kept yet).

With ``--demo``, the same pairs on the **demonstration store** (``sealtrail init`` and ``sealtrail
demo`` in a temporary directory, its data manager signed in): the subject page and the as-of
page of its longest subject, the chart, ``/subjects`` against the summary JSON of every subject
it lists, ``/audit`` against the audit index JSON of every subject (the same records), and
``/queries`` (no JSON serves queries: alone).

Run: ``.venv/bin/python benchmarks/pages.py [--events N] [--samples S] [--backend ...] [--demo]``.
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

import requests as http  # noqa: E402
from werkzeug.test import TestResponse  # noqa: E402

from benchmarks import stores  # noqa: E402
from benchmarks.replay import STUDY, SUBJECT, filled_store  # noqa: E402
from domain.account import Role  # noqa: E402
from domain.signed import stream_id  # noqa: E402
from domain.subject import subject_stream  # noqa: E402
from infrastructure.bootstrap import Store, open_store  # noqa: E402
from infrastructure.garbage_collector import settle  # noqa: E402
from infrastructure.store.positions import log_positions  # noqa: E402
from tests.cli_stores import initialised, printed_one_time_passwords, sealtrail  # noqa: E402
from tests.conftest import Person, make_settings, open_person  # noqa: E402
from tests.resilience.harness import Server, server_environment  # noqa: E402
from tests.web.conftest import CSRF_FIELD, Browser  # noqa: E402

TIMELINE_GOAL_MS = 300.0
RATIO_GOAL = 2.0
PAIRS = (
    ("timeline page", "audit index JSON"),
    ("as-of page", "as-of JSON reads"),
    ("as-of page", "as-of JSON"),
    ("as-of new point", "as-of new point JSON"),
    ("sign page", "unsigned JSON"),
)
"""Each page and its JSON twin: the same data, as the page and as the API serve it."""


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


Ask = Callable[[], TestResponse | list[TestResponse]]
"""A request, or several that together serve a page's data (timed as one)."""


def timed(ask: Ask) -> tuple[float, float]:
    """The requests' wall-clock time and the CPU time this process spent on them (ms)."""
    started, cpu = time.perf_counter(), time.process_time()
    answered = ask()
    elapsed = (time.perf_counter() - started) * 1e3
    spent = (time.process_time() - cpu) * 1e3
    for answer in answered if isinstance(answered, list) else [answered]:
        if answer.status_code != 200:
            raise SystemExit(
                f"{answer.request.path}: {answer.status_code} {answer.get_data()[:300]!r}"
            )
    return elapsed, spent


def size(answered: TestResponse | list[TestResponse]) -> int:
    return sum(len(a.get_data()) for a in (answered if isinstance(answered, list) else [answered]))


def sampled(requests: dict[str, Ask], samples: int) -> dict[str, Any]:
    """Each request asked once to warm up (views catch up, caches fill), then ``samples`` times
    in turn; the garbage collector set up first, as a gunicorn worker's is once its app is built
    (gunicorn.conf.py)."""
    settle()
    for ask in requests.values():
        timed(ask)
    times: dict[str, list[float]] = {name: [] for name in requests}
    cpu: dict[str, list[float]] = {name: [] for name in requests}
    sizes = {name: size(ask()) for name, ask in requests.items()}
    for _ in range(samples):
        for name, ask in requests.items():
            elapsed, spent = timed(ask)
            times[name].append(elapsed)
            cpu[name].append(spent)
    return {"times": times, "cpu": cpu, "sizes": sizes}


def as_of_reads(
    browser: Browser, api: str, headers: dict[str, str], position: int, before: int
) -> list[TestResponse]:
    """The JSON reads that together serve the as-of page's data: the subject's summary at
    ``position`` and at ``before`` (its previous event: what the event changed is their
    difference), and its audit index (the records; the current one, as no JSON serves them as
    they stood)."""
    return [
        browser.client.get(f"{api}?position={position}", headers=headers),
        browser.client.get(f"{api}?position={before}", headers=headers),
        browser.client.get(f"{api}/audit", headers=headers),
    ]


class Fresh:
    """Log positions of a subject no request has asked about yet, one per call, from the
    middle on (the page and its JSON reads take the same one: :meth:`same`)."""

    def __init__(self, positions: dict[int, int]) -> None:
        self.positions = positions
        self.version = max(positions) // 2
        self.taken = False

    def next(self) -> tuple[int, int]:
        """The next fresh point's (position, the position of the event before)."""
        self.version += 1
        return self.positions[self.version], self.positions[self.version - 1]

    def same(self) -> tuple[int, int]:
        return self.positions[self.version], self.positions[self.version - 1]


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
    previous = positions[max(positions) // 2 - 1]
    fresh = Fresh(positions)
    json_ = browser.client.get

    def new_point_page() -> TestResponse:
        position, _before = fresh.next()
        return browser.get(f"/subjects/{SUBJECT}/as-of?position={position}")

    def new_point_json() -> list[TestResponse]:
        position, before = fresh.same()
        return as_of_reads(browser, api, headers, position, before)

    requests: dict[str, Ask] = {
        "timeline page": lambda: browser.get(f"/subjects/{SUBJECT}"),
        "audit index JSON": lambda: json_(f"{api}/audit", headers=headers),
        "as-of page": lambda: browser.get(f"/subjects/{SUBJECT}/as-of?position={middle}"),
        "as-of JSON reads": lambda: as_of_reads(browser, api, headers, middle, previous),
        "as-of JSON": lambda: json_(f"{api}?position={middle}", headers=headers),
        "as-of new point": new_point_page,
        "as-of new point JSON": new_point_json,
        "sign page": lambda: signer.get("/sign"),
        "unsigned JSON": lambda: signer.client.get(
            "/v1/study/unsigned-records?site=RP", headers=signer_headers
        ),
        "subject list page": lambda: browser.get("/subjects"),
        "blood count chart": lambda: browser.get(f"/subjects/{SUBJECT}/blood-counts.svg"),
    }
    return {**sampled(requests, samples), "middle": middle}


def report(title: str, result: dict[str, Any], pairs: tuple[tuple[str, str], ...]) -> None:
    times, cpu, sizes = result["times"], result["cpu"], result["sizes"]
    print(f"\n{title}")
    print(
        f"  {'request':<22} {'median ms':>10} {'p95 ms':>8} {'CPU median':>11} {'CPU p95':>8} "
        f"{'bytes':>9}"
    )
    for name, samples in times.items():
        print(
            f"  {name:<22} {statistics.median(samples):>10.1f} {p95(samples):>8.1f} "
            f"{statistics.median(cpu[name]):>11.1f} {p95(cpu[name]):>8.1f} {sizes[name]:>9}"
        )
    for page, json_twin in pairs:
        for label, figures in (("wall", times), ("CPU", cpu)):
            ratio = p95(figures[page]) / p95(figures[json_twin])
            verdict = "met" if ratio <= RATIO_GOAL else "not met"
            print(
                f"  {page} / {json_twin}, {label} p95: {ratio:.2f} "
                f"(goal within {RATIO_GOAL:.0f}x: {verdict})"
            )


def report_timeline(result: dict[str, Any]) -> None:
    for label, figures in (("wall", result["times"]), ("CPU", result["cpu"])):
        timeline = p95(figures["timeline page"])
        verdict = "met" if timeline < TIMELINE_GOAL_MS else "not met"
        print(
            f"  timeline page {label} p95 / goal: {timeline:.1f} / {TIMELINE_GOAL_MS:.0f} ms = "
            f"{timeline / TIMELINE_GOAL_MS:.2f}: goal {verdict}"
        )


# -- the timeline through the real server ----------------------------------------------------------

ACCESS_FORMAT = "%(m)s %(U)s %(s)s %(D)s"
"""gunicorn's access log line: method, path, status, and the request's time in microseconds."""


class LoggedServer(Server):
    """gunicorn as docs/deployment.md runs it, writing each request's time to an access log."""

    def __init__(self, environment: dict[str, str], log: Path, access_log: Path) -> None:
        super().__init__(environment, log, workers=1)
        self.access_log = access_log

    def command(self) -> list[str]:
        return [
            *super().command()[:-1],
            "--access-logfile",
            str(self.access_log),
            "--access-logformat",
            ACCESS_FORMAT,
            self.app,
        ]


def served_timeline(store: Store, samples: int) -> dict[str, Any]:
    """The timeline page's server time (ms) through gunicorn, each request's as gunicorn logged
    it; the first one apart (nothing kept yet in the worker)."""
    auditor = open_person(
        store, "bench.served", printed_name="Bench Auditor", role=Role.AUDITOR, sites=()
    )
    folder = Path(store.settings.home)
    access_log = folder / "access.log"
    path = f"/subjects/{SUBJECT}"
    with LoggedServer(
        server_environment(store.settings), folder / "gunicorn.log", access_log
    ) as server:
        session = http.Session()
        login = session.get(server.url + "/login", timeout=60).text
        token = CSRF_FIELD.search(login)
        assert token is not None
        signed = session.post(
            server.url + "/login",
            data={"username": auditor.user_id, "password": auditor.password,
                  "csrf_token": token.group(1), "next": ""},
            allow_redirects=False,
            timeout=60,
        )  # fmt: skip
        assert signed.status_code == 302, signed.text[-500:]
        wall = []
        for _ in range(samples + 1):
            started = time.perf_counter()
            answer = session.get(server.url + path, timeout=120)
            wall.append((time.perf_counter() - started) * 1e3)
            assert answer.status_code == 200, answer.status_code
        time.sleep(0.5)  # the access log is written after the answer
    logged = [
        int(line.split()[3]) / 1e3
        for line in access_log.read_text().splitlines()
        if line.split()[:3] == ["GET", path, "200"]
    ]
    return {
        "first": logged[0],
        "server": logged[1:],
        "wall": wall[1:],
        "bytes": len(answer.content),
    }


def report_served(result: dict[str, Any]) -> None:
    server = result["server"]
    print(
        f"  timeline through gunicorn ({result['bytes']} bytes): first request "
        f"{result['first']:.1f} ms; then server time median {statistics.median(server):.1f}, "
        f"p95 {p95(server):.1f} ms"
        f" (client wall p95 {p95(result['wall']):.1f} ms); goal {TIMELINE_GOAL_MS:.0f} ms: "
        f"{'met' if p95(server) < TIMELINE_GOAL_MS else 'not met'}"
    )


# -- the demonstration store -----------------------------------------------------------------------

DEMO_READER = "demo.data_manager"
DEMO_PASSWORD = "the benchmark's data manager passphrase"
DEMO_PAIRS = (
    ("subject page", "audit index JSON"),
    ("as-of page", "as-of JSON reads"),
    ("subject list page", "summaries JSON"),
    ("audit trail page", "audit indices JSON"),
)


def demo_store(folder: Path) -> Store:
    """``sealtrail init`` and ``sealtrail demo`` in ``folder``; its data manager's one-time
    password changed on the pages, as a person does first."""
    initialised(folder)
    loaded = sealtrail("demo", home=folder)
    if loaded.returncode != 0:
        raise SystemExit(f"sealtrail demo: {loaded.stderr}")
    store = open_store(make_settings(folder))
    (row,) = [r for r in printed_one_time_passwords(loaded.stdout) if r.user_id == DEMO_READER]
    browser = Browser(store)
    browser.sign_in(row.user_id, row.password)
    changed = browser.submit(
        "/account",
        "/account",
        {
            "password": row.password,
            "new_password": DEMO_PASSWORD,
            "confirm_password": DEMO_PASSWORD,
        },
    )
    assert changed.status_code == 302, changed.status_code
    return store


def measure_demo(store: Store, samples: int) -> dict[str, Any]:
    """The pages of the demonstration store and the JSON reads that serve the same data."""
    browser = Browser(store)
    assert browser.sign_in(DEMO_READER, DEMO_PASSWORD).status_code == 302
    headers = browser.site.auth(Person(DEMO_READER, "", None, DEMO_PASSWORD))  # type: ignore[arg-type]
    codes = list(store.reads.subject_sites(STUDY))
    longest = max(codes, key=lambda code: len(store.reads.history(subject_stream(STUDY, code))))
    positions = log_positions(store.app.recorder, stream_id(subject_stream(STUDY, longest)))
    middle, previous = positions[max(positions) // 2], positions[max(positions) // 2 - 1]
    api = f"/v1/studies/{STUDY}/subjects"
    json_ = browser.client.get
    requests: dict[str, Ask] = {
        "subject page": lambda: browser.get(f"/subjects/{longest}"),
        "audit index JSON": lambda: json_(f"{api}/{longest}/audit", headers=headers),
        "as-of page": lambda: browser.get(f"/subjects/{longest}/as-of?position={middle}"),
        "as-of JSON reads": lambda: as_of_reads(
            browser, f"{api}/{longest}", headers, middle, previous
        ),
        "blood count chart": lambda: browser.get(f"/subjects/{longest}/blood-counts.svg"),
        "subject list page": lambda: browser.get("/subjects"),
        "summaries JSON": lambda: [json_(f"{api}/{code}", headers=headers) for code in codes],
        "audit trail page": lambda: browser.get("/audit"),
        "audit indices JSON": lambda: [
            json_(f"{api}/{code}/audit", headers=headers) for code in codes
        ],
        "queries page": lambda: browser.get("/queries"),
    }
    return {**sampled(requests, samples), "longest": longest, "subjects": len(codes)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=2000, help="events of the subject (2000)")
    parser.add_argument("--samples", type=int, default=20, help="times each request (20)")
    parser.add_argument(
        "--demo", action="store_true", help="and the demonstration store's pages (SQLite)"
    )
    stores.add_backend_options(parser)
    args = parser.parse_args(argv)
    if args.samples < 1 or args.events < 11:
        parser.error("--events must be at least 11 and --samples positive")
    for backend in stores.each_backend(args, f"sealtrail pages benchmark: {args.events} events"):
        store = filled_store(backend, args.events)
        try:
            result = measure(store, args.samples)
            report(
                f"{backend.name}: a subject of {args.events} events; as-of at log position "
                f"{result['middle']}",
                result,
                PAIRS,
            )
            report_timeline(result)
            report_served(served_timeline(store, args.samples))
        finally:
            store.close()
        if args.demo and backend.name == "sqlite":
            store = demo_store(backend.workdir / "demo")
            try:
                result = measure_demo(store, args.samples)
                report(
                    f"sqlite: the demonstration store ({result['subjects']} subjects; subject "
                    f"and as-of pages of {result['longest']}, its longest)",
                    result,
                    DEMO_PAIRS,
                )
            finally:
                store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
