"""A witness's round against the real server, on the demonstration store (issue 20, "Speed").

The demonstration store (``sealtrail init`` and ``sealtrail demo`` in a temporary directory,
SQLite) is served by gunicorn as docs/deployment.md runs it (``wsgi:app``, ``--workers 1``), with
the public rate limit raised out of the way. A witness account (role ``witness``, its own key) is
opened, a checkpoint sealed, and the witness's first round made (it trusts the first checkpoint
it sees). Then ``--rounds`` times:

- **advanced round**: outside the clock, the log grows (a person opened: five account events)
  and a checkpoint is sealed; on the clock, one round of ``sealtrail witness``'s own code
  (:func:`api.console.witness.run_round`) over HTTP: ``GET /v1/checkpoints/latest`` (the note
  with its cosignatures), the log's signature checked, ``GET /v1/checkpoints/consistency``, the
  proof checked, the state written (fsync, rename), the checkpoint cosigned and
  ``POST /v1/checkpoints/<size>/cosignatures`` (the server checks it against the key the log
  registers and keeps it);
- **unchanged round**: the same with nothing new (no proof to fetch; the witness cosigns the
  same checkpoint again with a fresh time);
- **baseline**: ``GET /v1/server-key``, the cheapest public request through the same server,
  in the same run.

It prints each one's median, p95 and p99 in milliseconds (wall clock, client side: what the
witness waits), the ratio of the rounds' p99 to the baseline's, and the goal: p99 under 100 ms.

Run: ``.venv/bin/python benchmarks/witness.py [--rounds N]`` (default 200).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

# Run as a script, this folder comes first on sys.path and its http.py would hide the standard
# library's http module: put the project's root there instead.
HERE = Path(__file__).resolve().parent
sys.path[:] = [str(HERE.parent)] + [p for p in sys.path if Path(p or ".").resolve() != HERE]

import requests as http  # noqa: E402

from api.console.witness import Witness, read_log_key, run_round  # noqa: E402
from benchmarks import stores  # noqa: E402
from domain.account import Role  # noqa: E402
from infrastructure.bootstrap import open_store  # noqa: E402
from signatures.keys import generate_private_key  # noqa: E402
from tests.cli_stores import initialised, sealtrail  # noqa: E402
from tests.conftest import make_settings, open_person  # noqa: E402
from tests.resilience.harness import Server, server_environment  # noqa: E402

GOAL_MS = 100.0


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1e3


def measure(folder: Path, rounds: int) -> tuple[dict[str, list[float]], int]:
    """The times of each kind, and the log's size when the rounds began."""
    initialised(folder)
    loaded = sealtrail("demo", home=folder)
    if loaded.returncode != 0:
        raise SystemExit(f"sealtrail demo: {loaded.stderr}")
    settings = make_settings(folder)
    store = open_store(settings)
    private_key = generate_private_key()
    open_person(store, "bench-witness", role=Role.WITNESS, sites=(), private_key=private_key)
    start = store.app.checkpoints.seal().tree_size
    environment = server_environment(settings, SEALTRAIL_PUBLIC_RATE_LIMIT="1000000 per minute")
    server = Server(environment, folder / "gunicorn.log", workers=1)
    server.start()
    times: dict[str, list[float]] = {"advanced round": [], "unchanged round": [], "baseline": []}
    try:
        log_key = http.get(server.url + "/v1/server-key", timeout=10).json()["note_verifier_key"]
        witness = Witness(
            "bench-witness", private_key, read_log_key(log_key), server.url, folder / "witness"
        )
        witness.state.mkdir()
        run_round(witness)  # the first checkpoint it sees, trusted
        for number in range(rounds):
            open_person(store, f"bench-{number}", printed_name=f"Person {number} (synthetic)")
            store.app.checkpoints.seal()
            times["advanced round"].append(timed(lambda: run_round(witness)))
            times["unchanged round"].append(timed(lambda: run_round(witness)))
            times["baseline"].append(
                timed(lambda: http.get(server.url + "/v1/server-key", timeout=10))
            )
    finally:
        server.stop()
        store.close()
    return times, start


def report(times: dict[str, list[float]], events: int) -> None:
    print(f"sqlite: the demonstration store ({events} events at the start), gunicorn 1 worker")
    print(f"{'':18} {'median':>8} {'p95':>8} {'p99':>8}  (ms, {len(times['baseline'])} each)")
    for name, samples in times.items():
        print(
            f"{name:18} {statistics.median(samples):8.1f} {percentile(samples, 0.95):8.1f} "
            f"{percentile(samples, 0.99):8.1f}"
        )
    base = percentile(times["baseline"], 0.99)
    for name in ("advanced round", "unchanged round"):
        p99 = percentile(times[name], 0.99)
        verdict = "met" if p99 < GOAL_MS else "NOT met"
        print(f"{name}: p99 {p99:.1f} ms = {p99 / base:.1f}x the baseline; goal < 100 ms {verdict}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=200, help="rounds of each kind (200)")
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be positive")
    print(stores.machine())
    with tempfile.TemporaryDirectory(prefix="sealtrail-witness-bench-") as folder:
        times, events = measure(Path(folder) / "demo", args.rounds)
    report(times, events)
    return 0


if __name__ == "__main__":
    sys.exit(main())
