"""As-of replay: a 2,000-event subject's state at a past time, against the full fold, in one run.

For each backend (SQLite in a temporary directory, PostgreSQL in a database of its own created
here and dropped at the end), one subject of NCT01297972 is given ``--events`` signed events
through ``Records.record_batch`` (the signed write path, 100 per batch): screening, consent,
eligibility, enrolment, the rATG course, cyclosporine, then blood counts, cyclosporine troughs,
transfusions and protocol deviations in turn, with every 25th event a correction of the latest
blood count's haemoglobin. Then, timed:

- **baseline**: what sealtrail offered before: ``SealTrail.subject_at(id, version)``
  (eventsourcing's ``repository.get(id, version=v)``: no snapshots, every event decoded and
  applied) and ``summarise`` of it;
- **cold**: the first ``sealtrail replay`` of the subject as of now (a full fold that also
  writes the sealed replay cache every 100 versions);
- **replay**: what ``sealtrail replay --as-of TIME --json`` does once the store is open: find
  the version recorded at or before TIME, fold from the sealed cache, summarise, and render the
  JSON document, at ``--samples`` instants spread over the subject's life (each instant an
  event's recording time, so every answer is a different version), by one replayer, which
  keeps the states it has checked in memory (as a server process does);
- **new replayer**: the same at every fourth of those instants, each by a new replayer with
  nothing in memory, as one ``sealtrail replay`` command (a process of its own) does.

It prints the medians, the ratio replay/baseline, and replay against the 50 ms goal.

Run: ``.venv/bin/python benchmarks/replay.py [--events N] [--backend sqlite|postgres|both]``.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

# Run as a script, this folder comes first on sys.path and its http.py would hide the standard
# library's http module: put the project's root there instead.
HERE = Path(__file__).resolve().parent
sys.path[:] = [str(HERE.parent)] + [p for p in sys.path if Path(p or ".").resolve() != HERE]


from api.console.replay import replay_document  # noqa: E402
from api.schemas.submissions import submission_from  # noqa: E402
from benchmarks import stores  # noqa: E402
from benchmarks.stores import COORDINATOR, PRINTED_NAME  # noqa: E402
from domain.signed import stream_id  # noqa: E402
from infrastructure.application.bodies import signed_event_body  # noqa: E402
from infrastructure.application.commands import RecordBatch, Submission  # noqa: E402
from infrastructure.bootstrap import Store  # noqa: E402
from infrastructure.views.replay import SubjectReplayer  # noqa: E402
from projections.subject_summary import summarise  # noqa: E402
from signatures.authorship import sign_body  # noqa: E402
from signatures.keys import generate_private_key, key_id  # noqa: E402

GOAL_MS = 50.0
STUDY = "NCT01297972"
SUBJECT = "RP-900"
STREAM = f"{STUDY}/{SUBJECT}"
USER_ID = COORDINATOR
ELIGIBLE = {**{f"IN{n}": True for n in range(1, 4)}, **{f"EX{n}": False for n in range(1, 10)}}


def quantity(value: str, unit: str) -> dict[str, str]:
    return {"value": value, "unit": unit}


def life(events: int) -> list[tuple[str, dict[str, Any]]]:
    """One subject's records, ``events`` of them, each accepted by the protocol's rules."""
    records: list[tuple[str, dict[str, Any]]] = [
        ("Screened", {"site": "RP", "sex": "F", "age": 34, "screened_on": "2011-02-14"}),
        ("ConsentObtained", {"tcle_version": "2.0", "consented_on": "2011-02-14"}),
        ("EligibilityAssessed", {"criteria": ELIGIBLE, "assessed_on": "2011-02-18"}),
        ("Enrolled", {"enrolled_on": "2011-02-21"}),
    ]
    for day in range(1, 6):
        given_on = date(2011, 2, 21) + timedelta(days=day)
        records.append(
            (
                "RatgDoseGiven",
                {"day": day, "dose": quantity("3.5", "mg/kg"), "given_on": str(given_on)},
            )
        )
    records.append(
        ("CyclosporineStarted", {"dose": quantity("5", "mg/kg/day"), "started_on": "2011-02-22"})
    )
    latest_count: tuple[int, str] | None = None
    step = 0
    while len(records) < events:
        on = str(date(2011, 3, 1) + timedelta(days=step))
        if latest_count is not None and len(records) % 25 == 24:
            version, value = latest_count
            new = f"{value}1"
            records.append(
                (
                    "EntryCorrected",
                    {
                        "entry": version,
                        "entry_kind": "BloodCountRecorded",
                        "changes": {
                            "results": {
                                "old": blood_results(value),
                                "new": blood_results(new),
                            }
                        },
                        "reason": "transcription error",
                    },
                )
            )
            latest_count = (version, new)
            continue
        kind = step % 4
        step += 1
        if kind == 0:
            value = f"{7 + step % 4}.{step % 10}"
            records.append(
                (
                    "BloodCountRecorded",
                    {
                        "collected_on": on,
                        "results": blood_results(value),
                        "reticulocyte_method": "automated",
                    },
                )
            )
            latest_count = (len(records), value)
        elif kind == 1:
            level = quantity(str(140 + step % 120), "ng/mL")
            records.append(("CyclosporineTroughMeasured", {"level": level, "collected_on": on}))
        elif kind == 2:
            records.append(
                ("TransfusionGiven", {"given_on": on, "product": "red_cells", "units": 2})
            )
        else:
            records.append(
                (
                    "ProtocolDeviationRecorded",
                    {
                        "occurred_on": on,
                        "category": "other",
                        "description": "visit a day late",
                        "major": False,
                    },
                )
            )
    return records[:events]


def blood_results(haemoglobin: str) -> dict[str, Any]:
    return {
        "haemoglobin": quantity(haemoglobin, "g/dL"),
        "neutrophils": quantity("0.4", "10^9/L"),
        "platelets": quantity("15", "10^9/L"),
        "reticulocytes": quantity("20", "10^9/L"),
    }


def signed_submissions(events: int, private_key: Any) -> list[Submission]:
    submissions = []
    for version, (kind, data) in enumerate(life(events), start=1):
        body = signed_event_body(
            {"study": STUDY, "subject": SUBJECT},
            version=version,
            kind=kind,
            data=data,
            signer=(USER_ID, PRINTED_NAME),
            key_id=key_id(private_key.public_key()),
        )
        _, signature = sign_body(private_key, body)
        submissions.append(submission_from(body, signature))
    return submissions


def filled_store(backend: stores.Backend, events: int) -> Store:
    """A fresh store holding one subject with ``events`` events, recorded through the API path."""
    store = stores.open_new_store(backend.fresh_settings())
    private_key = generate_private_key()
    stores.open_coordinator(store, private_key)
    record_life(store, private_key, events)
    return store


def record_life(store: Store, private_key: Any, events: int) -> int:
    """Give the subject its ``events`` events, signed by the coordinator who holds
    ``private_key``, through ``Records.record_batch`` (100 a batch), from the first it does not
    have yet on (a store that already holds some of them gets the rest); how many were added."""
    last = store.app.recorder.select_events(stream_id(STREAM), desc=True, limit=1)
    first = last[0].originator_version if last else 0
    submissions = signed_submissions(events, private_key)[first:]
    for start in range(0, len(submissions), 100):
        store.records.record_batch(
            RecordBatch(submissions=submissions[start : start + 100], actor_id=USER_ID)
        )
    return len(submissions)


def timed(action: Callable[[], Any]) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1e3


def measure(backend: stores.Backend, events: int, samples: int, repeats: int) -> dict[str, Any]:
    print(f"  {backend.name}: recording {events} signed events...", flush=True)
    store = filled_store(backend, events)
    try:
        return measure_store(store, backend.name, events, samples, repeats)
    finally:
        store.close()


def measure_store(
    store: Store, name: str, events: int, samples: int, repeats: int
) -> dict[str, Any]:
    """The figures :func:`report` prints, of the subject of ``events`` events in ``store``
    (``name`` says which store it is)."""
    app = store.app
    originator_id = stream_id(STREAM)
    every = list(app.events.get(originator_id))
    if len(every) != events:
        raise RuntimeError(f"{len(every)} events stored, {events} expected")
    rng = random.Random(6)
    chosen = sorted(rng.sample(every, min(samples, len(every))), key=lambda e: e.timestamp)
    instants = [(event.timestamp, event.originator_version) for event in chosen]
    # The baseline's cost grows with the version: time it on the latest sampled versions.
    latest_first = sorted(instants, key=lambda pair: -pair[1])

    baseline = [
        timed(lambda v=version: summarise(app.subject_at(originator_id, v)))
        for _, version in latest_first[:repeats]
    ]
    replayer = SubjectReplayer(app, store.engine)
    cold = timed(lambda: replayer.replay(STREAM, as_of=datetime.now(UTC)).summary())

    def replay_at(as_of: datetime, version: int, by: SubjectReplayer = replayer) -> None:
        replayed = by.replay(STREAM, as_of=as_of)
        json.dumps(replay_document(replayed), sort_keys=True)
        if replayed.version != version:
            raise RuntimeError(f"replayed version {replayed.version}, expected {version}")

    warm = [timed(lambda a=as_of, v=version: replay_at(a, v)) for as_of, version in instants]

    # A replayer keeps the states it checked in memory: the figure above is a server's
    # (or a console session's) after its first replays. A `sealtrail replay` command is a
    # process of its own, with nothing in memory: each of these starts from a new replayer.
    def fresh_replay_at(as_of: datetime, version: int) -> float:
        new = SubjectReplayer(app, store.engine)
        return timed(lambda: replay_at(as_of, version, new))

    fresh = [fresh_replay_at(as_of, version) for as_of, version in instants[::4]]
    parts = breakdown(replayer, originator_id, instants)
    return {
        "backend": name,
        "events": events,
        "baseline": baseline,
        "cold": cold,
        "warm": warm,
        "fresh": fresh,
        "parts": parts,
        "baseline_versions": [version for _, version in latest_first[:repeats]],
    }


def breakdown(
    replayer: SubjectReplayer, originator_id: Any, instants: list[tuple[datetime, int]]
) -> dict[str, float]:
    """Median milliseconds of each step of a replay, each timed alone at the same instants."""
    newest = replayer._newest(originator_id)
    assert newest is not None
    steps: dict[str, list[float]] = {}

    def step(name: str, action: Callable[[], Any]) -> Any:
        started = time.perf_counter()
        value = action()
        steps.setdefault(name, []).append((time.perf_counter() - started) * 1e3)
        return value

    for as_of, version in instants:
        step("newest event", lambda: replayer._newest(originator_id))
        step(
            "version at the time (15 versions a query)",
            lambda a=as_of: replayer._version_at(originator_id, newest, a, STREAM),
        )
        new = SubjectReplayer(replayer.app, replayer.engine)  # nothing in memory
        cached = step(
            "cached state: read, seal, chain, decode (new)",
            lambda v=version, r=new: r._nearest_cached(originator_id, v),
        )
        step(
            "cached state, checked before (in memory)",
            lambda v=version: replayer._nearest_cached(originator_id, v),
        )
        start = 0 if cached is None else cached.version
        step(
            "fold the events after it",
            lambda s=start, v=version: list(replayer.app.events.get(originator_id, gt=s, lte=v)),
        )
        subject = replayer.subject_at(originator_id, version)[0]
        summary = step("summarise", lambda s=subject: summarise(s))
        step("render JSON", lambda s=summary: json.dumps(s, sort_keys=True))
    return {name: statistics.median(times) for name, times in steps.items()}


def report(result: dict[str, Any]) -> None:
    baseline = statistics.median(result["baseline"])
    warm = statistics.median(result["warm"])
    worst = max(result["warm"])
    p90 = statistics.quantiles(result["warm"], n=10)[-1] if len(result["warm"]) > 1 else worst
    print()
    print(f"{result['backend']}: one subject of {result['events']} events (milliseconds)")
    print(
        f"  baseline: subject_at + summarise, no cache, at versions "
        f"{min(result['baseline_versions'])}-{max(result['baseline_versions'])}   {baseline:8.1f}"
    )
    print(f"  cold: first replay, full fold + writing the cache      {result['cold']:8.1f}")
    print(f"  replay --as-of --json (median of {len(result['warm'])})  {warm:8.1f}")
    print(f"    90th percentile {p90:.1f}, worst {worst:.1f}")
    fresh = statistics.median(result["fresh"])
    print(
        f"  replay by a new replayer, nothing in memory (median of {len(result['fresh'])}) "
        f"{fresh:8.1f}"
    )
    print("  its steps, each timed alone (medians; the fold step decodes the events only):")
    for name, millis in result["parts"].items():
        print(f"    {name:<44} {millis:8.2f}")
    print(f"  ratio replay/baseline: {warm / baseline:.3f} ({baseline / warm:.1f} times as fast)")
    verdict = "met" if warm < GOAL_MS else "NOT met"
    print(f"  replay/goal: {warm:.1f} / {GOAL_MS:.0f} ms = {warm / GOAL_MS:.2f}: goal {verdict}")
    verdict = "met" if fresh < GOAL_MS else "NOT met"
    print(
        f"  new replayer/goal: {fresh:.1f} / {GOAL_MS:.0f} ms = {fresh / GOAL_MS:.2f}: "
        f"goal {verdict}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=2000, help="events of the subject (2000)")
    parser.add_argument("--samples", type=int, default=40, help="as-of instants timed (40)")
    parser.add_argument("--repeats", type=int, default=5, help="baseline folds timed (5)")
    stores.add_backend_options(parser)
    args = parser.parse_args(argv)
    if min(args.events, args.samples, args.repeats) < 1 or args.events < 11:
        parser.error("--events (at least 11), --samples and --repeats must be positive")
    for backend in stores.each_backend(args, f"sealtrail replay benchmark: {args.events} events"):
        report(measure(backend, args.events, args.samples, args.repeats))
    return 0


if __name__ == "__main__":
    sys.exit(main())
