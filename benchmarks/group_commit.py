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
PostgreSQL), the CPU each write cost (the server's workers, PostgreSQL's backends serving the
store's database, and the client threads: from /proc), the most writes a second that CPU
allows on this machine's cores (the ceiling no server configuration can pass: the rate's
floor of cost), and, on PostgreSQL, the commits: every
row a transaction inserts carries that transaction's id (``xmin``), so the events written
during a measurement, grouped by it, give exactly the number of commits, and the size of each
group of writes that shared one (the Merkle leaves' rows: a group's members' events are
inserted after savepoints, whose rows carry the savepoint's id, its leaves in the group's own
transaction). The machine's load average is printed before each backend.

Then **in process** (``--threads``, 8 by default): the records service called by 1 thread, then
by 8 threads at once, on a store opened in this process, with every statement and round trip
to the database counted (:mod:`benchmarks.round_trips`) and the groups the recorder committed
(exact on both backends): writes/s, round trips and statements per write, commits per write.

Run::

    .venv/bin/python benchmarks/group_commit.py [--backend sqlite|postgres|both]
                                               [--configs 2x1,2x4] [--clients 8] [--seconds 8]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import make_url

from api.schemas.submissions import submission_from
from benchmarks import round_trips
from benchmarks.http_writes import (
    DEFAULT_POSTGRES_URL,
    Client,
    closed_loop,
    cpu_seconds,
    database,
    token_for,
    workers_cpu_seconds,
    workload,
)
from infrastructure.application.commands import RecordEvent
from infrastructure.bootstrap import Store, open_store
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
    database_cpu_ms: float = 0.0
    """PostgreSQL only: its backends' CPU (of the store's database) per write."""
    client_cpu_ms: float = 0.0

    @property
    def ceiling(self) -> float:
        """The most writes a second this machine's cores could give at this CPU per write."""
        total = self.cpu_ms + self.database_cpu_ms + self.client_cpu_ms
        return (os.cpu_count() or 1) * 1000 / total


def measure(
    server: Server, authors: list[Author], clients_count: int, seconds: float, events: str | None
) -> Run:
    """``clients_count`` clients writing back to back for ``seconds`` (after a warm-up)."""
    signers = authors[:clients_count]
    clients = [Client(server.port, token_for(server.port, author)) for author in signers]
    try:
        closed_loop(clients, [workload(s, 10) for s in signers], 1.0, warm_up=True)
        work = [workload(s, int(seconds * 5000 / clients_count) + 50) for s in signers]
        for client in clients:  # signing took longer than gthread's keep-alive: connect anew
            client.close()
        first = _last_position(events)
        backends = _backend_pids(events)
        database_before = cpu_seconds(backends)
        cpu_before, started = workers_cpu_seconds(server), time.perf_counter()
        client_before = time.process_time()
        rate = closed_loop(clients, work, seconds)
        client_cpu = time.process_time() - client_before
        writes = rate * (time.perf_counter() - started)
        cpu_ms = (workers_cpu_seconds(server) - cpu_before) / writes * 1000
        # Backends the pools opened meanwhile count whole: all their CPU was in the window.
        opened = [pid for pid in _backend_pids(events) if pid not in backends]
        database_cpu = cpu_seconds(backends + opened) - database_before
        database_ms = database_cpu / writes * 1000
        groups = _groups_after(events, first)
        return Run(clients_count, rate, cpu_ms, groups, database_ms, client_cpu / writes * 1000)
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


_EVENTS: dict[str, str] = {}
"""Per server configuration (the ``events`` key): the PostgreSQL conninfo of its store."""


def _last_position(events: str | None) -> int:
    if events is None:
        return 0
    with psycopg.connect(_EVENTS[events]) as connection:
        row = connection.execute("SELECT coalesce(max(position), 0) FROM merkle_leaves").fetchone()
    assert row is not None
    return int(row[0])


def _backend_pids(events: str | None) -> list[int]:
    """PostgreSQL's backends connected to the store's database now (the server's pools)."""
    if events is None:
        return []
    with psycopg.connect(_EVENTS[events]) as connection:
        rows = connection.execute(
            "SELECT pid FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return [int(pid) for (pid,) in rows]


def _groups_after(events: str | None, first: int) -> Counter[int] | None:
    """How many commits wrote each number of events, of the events after position ``first``
    (``xmin`` of their leaves: the id of the transaction that inserted them)."""
    if events is None:
        return None
    with psycopg.connect(_EVENTS[events]) as connection:
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
                events = config
                _EVENTS[events] = _conninfo(url)
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


def in_process(backend: str, arguments: argparse.Namespace) -> list[str]:
    """1 thread, then ``--threads`` threads, calling the records service on a store opened
    here: writes/s, round trips, statements and commits per write."""
    lines = []
    with (
        tempfile.TemporaryDirectory(prefix="sealtrail-bench-group-") as scratch,
        database(backend, arguments, "sealtrail_bench_group") as url,
    ):
        settings = make_settings(Path(scratch), url)
        authors = prepare_store(settings, [f"bench{n}" for n in range(arguments.threads)])
        store = open_store(settings)
        try:
            for threads in (1, arguments.threads):
                lines.append(_in_threads_line(store, authors[:threads], arguments.seconds))
        finally:
            store.close()
    return lines


def _in_threads_line(store: Store, authors: list[Author], seconds: float) -> str:
    groups = store.app.recorder.groups  # type: ignore[attr-defined]
    work = [
        [submission_from(r["event"], r["signature"]) for r in _submissions(author, seconds)]
        for author in authors
    ]
    done = [0] * len(authors)
    deadline = time.perf_counter() + seconds

    def run(index: int) -> None:
        for submission in work[index]:
            if time.perf_counter() >= deadline:
                return
            store.records.record(RecordEvent(submission, authors[index].user_id))
            done[index] += 1

    before = (groups.groups, groups.members)
    with round_trips.counted() as tally:
        started = time.perf_counter()
        threads = [threading.Thread(target=run, args=(n,)) for n in range(len(authors))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
    writes = sum(done)
    commits = groups.groups - before[0]
    assert groups.members - before[1] == writes
    return (
        f"in process, {len(authors)} thread(s): {writes / elapsed:7.0f} writes/s  "
        f"round trips/write {tally.round_trips / writes:5.2f}  statements/write "
        f"{tally.statements / writes:5.2f}  commits/write {commits / writes:.2f} "
        f"(mean group {writes / commits:.1f})"
    )


def _submissions(author: Author, seconds: float) -> list[dict[str, Any]]:
    """Pre-signed screenings and re-consents, as the HTTP clients send them."""
    count = int(seconds * 800) + 50
    return [json.loads(request.body) for request in workload(author, count)]


def commit_floor(backend: str, arguments: argparse.Namespace, count: int = 200) -> str:
    """The time one commit of one small row takes on this backend and disk, alone: what a
    single writer waits for at each write however little else it does (SQLite as the store
    opens it: WAL, synchronous FULL)."""
    timings = []
    with (
        tempfile.TemporaryDirectory(prefix="sealtrail-bench-commit-") as scratch,
        database(backend, arguments, "sealtrail_bench_commit") as url,
    ):
        if url is None:
            connection = sqlite3.connect(Path(scratch) / "probe.sqlite3", isolation_level=None)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=FULL")
            connection.execute("CREATE TABLE probe (value BLOB)")
            for _ in range(count):
                started = time.perf_counter()
                connection.execute("BEGIN")
                connection.execute("INSERT INTO probe VALUES (?)", (os.urandom(200),))
                connection.execute("COMMIT")
                timings.append(time.perf_counter() - started)
            connection.close()
        else:
            with psycopg.connect(_conninfo(url), autocommit=True) as postgres:
                postgres.execute("CREATE TABLE probe (value bytea)")
                for _ in range(count):
                    started = time.perf_counter()
                    postgres.execute("INSERT INTO probe VALUES (%s)", (os.urandom(200),))
                    timings.append(time.perf_counter() - started)
    timings.sort()
    median, p90 = timings[len(timings) // 2] * 1000, timings[int(len(timings) * 0.9)] * 1000
    return (
        f"one commit of one row alone: median {median:.2f} ms, p90 {p90:.2f} ms "
        f"(a single writer can commit at most {1000 / median:.0f} times a second)"
    )


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
        "--threads", type=int, default=8, help="in-process writer threads (0: none)"
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("SEALTRAIL_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL),
    )
    arguments = parser.parse_args()
    round_trips.install()  # before any store is opened in this process
    backends = ["sqlite", "postgres"] if arguments.backend == "both" else [arguments.backend]
    print(
        f"# group commit: 1 client, then {arguments.clients}, {arguments.seconds:g} s each; "
        f"{os.cpu_count()} cores, Python {platform.python_version()}"
    )
    for backend in backends:
        print(f"\n## {backend} (load average {' '.join(f'{n:.1f}' for n in os.getloadavg())})")
        print(commit_floor(backend, arguments))
        for config, (one, many) in run_backend(backend, arguments).items():
            ratio = many.rate / one.rate
            goal = "met" if ratio >= RATIO_GOAL else "NOT met"
            for run in (one, many):
                print(
                    f"{config:>5} {run.clients} client(s) {run.rate:7.0f} writes/s  CPU ms/write: "
                    f"workers {run.cpu_ms:4.2f} database {run.database_cpu_ms:4.2f} "
                    f"clients {run.client_cpu_ms:4.2f} (at most {run.ceiling:4.0f} writes/s on "
                    f"{os.cpu_count()} cores){_commits(run)}"
                )
            print(
                f"{config:>5} ratio {arguments.clients} clients / 1: {ratio:.2f} "
                f"(goal >= {RATIO_GOAL:g}: {goal}); the CPU allows at most "
                f"{many.ceiling / one.rate:.2f}"
            )
        if arguments.threads:
            for line in in_process(backend, arguments):
                print(line)
    print(f"\nload average at the end: {' '.join(f'{n:.1f}' for n in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
