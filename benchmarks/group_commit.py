"""Concurrent single-event writes through the real server: 1 client against 8, and how many
commits the 8 clients' writes took.

For each backend (a fresh store: SQLite in a temporary directory, PostgreSQL in a database of
its own, dropped at the end) and each server configuration given (``--configs``, gunicorn's
``WORKERSxTHREADS``: ``2x1`` is docs/deployment.md's two sync workers, ``2x4`` two gthread
workers of four threads each, whose concurrent writes can share a commit), in the same run:

1. **one client** sends pre-signed ``POST /v1/events`` back to back (closed loop) for
   ``--seconds``: the single-writer rate, the baseline;
2. **``--clients`` clients** (8) do the same at once, each as its own site coordinator;

and prints writes/s, the ratio of the second to the first (the goal: at least 2 on
PostgreSQL), the workers' CPU per write (from /proc) and, on PostgreSQL, the commits: every
row a transaction inserts carries that transaction's id (``xmin``), so the events written
during a measurement, grouped by it, give exactly the number of commits, and the size of each
group of writes that shared one (the Merkle leaves' rows: a group's members' events are
inserted after savepoints, whose rows carry the savepoint's id, its leaves in the group's own
transaction). The machine's load average is printed before each backend.

Run::

    .venv/bin/python benchmarks/group_commit.py [--backend sqlite|postgres|both]
                                               [--configs 2x1,2x4] [--clients 8] [--seconds 8]
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import psycopg
from sqlalchemy import make_url

from benchmarks.http_writes import (
    DEFAULT_POSTGRES_URL,
    Client,
    closed_loop,
    database,
    token_for,
    workers_cpu_seconds,
    workload,
)
from infrastructure.bootstrap import open_store
from tests.conftest import make_settings
from tests.resilience.harness import Author, Server, prepare_store, server_environment

RATIO_GOAL = 2.0


@dataclass
class Run:
    """One closed-loop measurement."""

    clients: int
    rate: float
    cpu_ms: float
    groups: Counter[int] | None
    """PostgreSQL only: how many commits wrote 1, 2, 3... events."""


def measure(
    server: Server, authors: list[Author], clients_count: int, seconds: float, events: str | None
) -> Run:
    """``clients_count`` clients writing back to back for ``seconds`` (after a warm-up)."""
    signers = authors[:clients_count]
    clients = [Client(server.port, token_for(server.port, author)) for author in signers]
    try:
        closed_loop(clients, [workload(s, 10) for s in signers], 1.0, warm_up=True)
        work = [workload(s, int(seconds * 1500 / clients_count) + 50) for s in signers]
        for client in clients:  # signing took longer than gthread's keep-alive: connect anew
            client.close()
        first = _last_position(events)
        cpu_before, started = workers_cpu_seconds(server), time.perf_counter()
        rate = closed_loop(clients, work, seconds)
        writes = rate * (time.perf_counter() - started)
        cpu_ms = (workers_cpu_seconds(server) - cpu_before) / writes * 1000
        return Run(clients_count, rate, cpu_ms, _groups_after(events, first))
    finally:
        for client in clients:
            client.close()


def _conninfo(url: str) -> str:
    parsed = make_url(url)
    return (
        f"host={parsed.host or '127.0.0.1'} port={parsed.port or 5432} "
        f"user={parsed.username or 'postgres'} dbname={parsed.database}"
        + (f" password={parsed.password}" if parsed.password else "")
    )


_EVENTS: dict[str, tuple[str, str]] = {}
"""Per measurement's ``events`` key: the PostgreSQL conninfo and the events table's name."""


def _last_position(events: str | None) -> int:
    if events is None:
        return 0
    conninfo, table = _EVENTS[events]
    with psycopg.connect(conninfo) as connection:
        row = connection.execute(f"SELECT coalesce(max(notification_id), 0) FROM {table}").fetchone()
    assert row is not None
    return int(row[0])


def _groups_after(events: str | None, first: int) -> Counter[int] | None:
    """How many commits wrote each number of events, of the events after position ``first``
    (``xmin`` of their leaves: the id of the transaction that inserted them)."""
    if events is None:
        return None
    conninfo, table = _EVENTS[events]
    with psycopg.connect(conninfo) as connection:
        rows = connection.execute(
            "SELECT count(*) FROM merkle_leaves WHERE position > %s GROUP BY xmin::text",
            (first,),
        ).fetchall()
    return Counter(int(count) for (count,) in rows)


def run_backend(backend: str, arguments: argparse.Namespace) -> dict[str, tuple[Run, Run]]:
    found: dict[str, tuple[Run, Run]] = {}
    for config in arguments.configs.split(","):
        workers, threads = (int(n) for n in config.split("x"))
        with (
            tempfile.TemporaryDirectory(prefix="sealtrail-bench-group-") as scratch,
            database(backend, arguments, "sealtrail_bench_group") as url,
        ):
            home = Path(scratch)
            settings = make_settings(home, url)
            authors = prepare_store(settings, [f"bench{n}" for n in range(arguments.clients)])
            events: str | None = None
            if url is not None:
                store = open_store(settings)
                try:
                    table = store.app.recorder.events_table_name  # type: ignore[attr-defined]
                finally:
                    store.close()
                events = config
                _EVENTS[events] = (_conninfo(url), table)
            with Server(
                server_environment(settings),
                home / "sealtrail.log",
                workers=workers,
                threads=threads,
            ) as server:
                one = measure(server, authors, 1, arguments.seconds, events)
                many = measure(server, authors, arguments.clients, arguments.seconds, events)
            found[config] = (one, many)
    return found


def _commits(run: Run) -> str:
    if run.groups is None:
        return ""
    commits = sum(run.groups.values())
    writes = sum(size * count for size, count in run.groups.items())
    sizes = " ".join(f"{size}:{count}" for size, count in sorted(run.groups.items()))
    return f"  commits/write {commits / writes:.2f}  groups (size:commits) {sizes}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument(
        "--configs", default="2x1,2x4", help="gunicorn WORKERSxTHREADS, comma-separated"
    )
    parser.add_argument("--clients", type=int, default=8, help="the concurrent clients")
    parser.add_argument("--seconds", type=float, default=8.0, help="per measurement")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("SEALTRAIL_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL),
    )
    arguments = parser.parse_args()
    backends = ["sqlite", "postgres"] if arguments.backend == "both" else [arguments.backend]
    print(
        f"# group commit: 1 client, then {arguments.clients}, {arguments.seconds:g} s each; "
        f"{os.cpu_count()} cores, Python {platform.python_version()}"
    )
    for backend in backends:
        print(f"\n## {backend} (load average {' '.join(f'{n:.1f}' for n in os.getloadavg())})")
        for config, (one, many) in run_backend(backend, arguments).items():
            ratio = many.rate / one.rate
            goal = "met" if ratio >= RATIO_GOAL else "NOT met"
            for run in (one, many):
                print(
                    f"{config:>5} {run.clients} client(s) {run.rate:7.0f} writes/s  "
                    f"worker CPU {run.cpu_ms:5.2f} ms/write{_commits(run)}"
                )
            print(
                f"{config:>5} ratio {arguments.clients} clients / 1: {ratio:.2f} "
                f"(goal >= {RATIO_GOAL:g}: {goal})"
            )
    print(f"\nload average at the end: {' '.join(f'{n:.1f}' for n in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
