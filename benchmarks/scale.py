"""Ten million events on PostgreSQL, measured once and reported (issue 21, point 5).

One store of ``--events`` events (10,000,000 by default) in a PostgreSQL database of its own
(``--database``, ``sealtrail_scale``), built as ``benchmarks/verify.py`` builds its stores
(``--builders`` processes, whole subjects of ``--per-subject`` events, every event signed for
real and saved ``--batch`` at a time through the sealed event store and the Merkle recorder),
its subjects screened in turn at ``--sites`` sites. Beside it, in the same run, a store of
10,000 events built the same way (``<database>_small``, made afresh each run): the baseline of
every figure that has one. Then, in this order:

1. **build**: events/s of the build, with progress lines (events, rate, time left, load);
2. **size**: ``pg_total_relation_size`` of each table and ``pg_database_size``, per event, after
   ``VACUUM ANALYZE`` of both stores (as autovacuum would leave them);
3. **append**: ``Records.record`` of one signed event on the big store against the 10,000-event
   one, rounds alternating (verify.py's (b)). Goal: ratio <= 1.2;
4. **replay**: a subject of ``--replay-events`` (2,000) events, recorded into the big store
   through ``Records.record_batch``, replayed as of past instants (replay.py's figures, its
   full fold the baseline). Goal: < 50 ms;
5. **verify**: the store's full verifier (``store.verifier().verify()``) on every core, in a
   process of its own, its time and the peak resident set of it and its workers, against the
   same on the 10,000-event store and against raw Ed25519 (PyNaCl) on as many cores;
6. **packet**: the site copy of one site (RP, built and signed by its investigator, no PDFs),
   in a process of its own: seconds, bytes, events in it and peak resident set, against the
   same site's copy of the 10,000-event store;
7. **dump and restore**: ``pg_dump --format=custom`` of the big store (seconds, bytes), then
   ``pg_restore --jobs`` into a fresh database (seconds), and the full verifier run on the
   restored copy, which must pass with every event there.

Resuming: the store's home (``--home``, ``benchmarks/.cache/scale-<database>``: its server
key, the signers' keys, ``bench-manifest.json``) and its database stay when a run stops
before its end; the same command again builds only the subjects still missing and goes on.
A run that ends drops its databases and removes the home, unless ``--keep`` (then a later run
measures the same store again, and its appends add ~1,300 events to it).

Run: ``.venv/bin/python benchmarks/scale.py`` (docs/benchmarks-scale.md says how long it takes;
``--events 100000`` for a rehearsal). Not part of ``make test`` or ``make bench``.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.engine import URL, make_url

from benchmarks import copy_build, stores
from benchmarks import replay as bench_replay
from benchmarks import verify as bench_verify
from benchmarks.verify import BenchStore, BuildProgress, VerifyResult, load
from domain.account import Role
from infrastructure.bootstrap import Store, open_store
from infrastructure.packets import site_scope
from infrastructure.packets.build import PacketSignatory, build_packet
from infrastructure.settings import Settings
from infrastructure.store.merkle_log import StoredTree
from infrastructure.verification.since import SinceCheck, read_kept_checkpoint
from signatures.keys import generate_private_key, private_key_from_pem, private_key_to_pem
from tests.conftest import open_person

SMALL_STORE = bench_verify.SMALL_STORE
APPEND_GOAL = bench_verify.APPEND_GOAL
CACHE = bench_verify.CACHE
PACKET_SITE = bench_verify.SITE
INVESTIGATOR = "bench.scale.investigator"
INVESTIGATOR_KEY_FILE = "bench-investigator.pem"
REPLAY_KEY_FILE = "bench-replay-coordinator.pem"
DATABASE_FILE = "bench-database"
"""In the store's home: the name of the database that holds its store."""
DATABASE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,49}")
"""What ``--database`` may be: a plain PostgreSQL name, with room for ``_restored``."""
RAW_SAMPLE = 200_000
"""Signatures of the raw Ed25519 rate: enough for a steady rate, half before the verifier and
half after it."""

TEN_MILLION = 10_000_000
RAW_AND_SMALL_VERIFIED = "raw Ed25519, verify the 10,000-event store"
RECORD_REPLAYED = "record the replayed subject"
FIXED_PHASES = (
    RECORD_REPLAYED,
    "build the 10,000-event store",
    "append",
    "replay",
    RAW_AND_SMALL_VERIFIED,
    "site copy, 10,000-event store",
)
"""Phases whose work does not grow with the log: the small store's, and the appends and
replays, which the goals say should not (their time at 10M is taken as measured)."""


class Refused(Exception):
    """The run cannot go on as asked; the message says why and what to do."""


# -- the databases -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Server:
    """The PostgreSQL server: connected to as ``admin`` to make and drop the databases."""

    admin: URL

    def url(self, database: str) -> str:
        return self.admin.set(database=database).render_as_string(hide_password=False)

    def exists(self, database: str) -> bool:
        with psycopg.connect(stores.conninfo(self.admin), autocommit=True) as connection:
            found = connection.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (database,)
            ).fetchone()
        return found is not None

    def create(self, database: str) -> None:
        with psycopg.connect(stores.conninfo(self.admin), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{database}"')

    def drop(self, database: str) -> None:
        with psycopg.connect(stores.conninfo(self.admin), autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')

    def conninfo(self, database: str) -> str:
        return stores.conninfo(self.admin.set(database=database))


def vacuum(server: Server, database: str) -> float:
    """``VACUUM ANALYZE`` of the database (what autovacuum does in time); its seconds."""
    started = time.perf_counter()
    with psycopg.connect(server.conninfo(database), autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")
    return time.perf_counter() - started


def sizes(server: Server, database: str) -> tuple[int, list[tuple[str, int]]]:
    """The database's size and each table's (with its indexes and TOAST), largest first."""
    with psycopg.connect(server.conninfo(database)) as connection:
        row = connection.execute("SELECT pg_database_size(current_database())").fetchone()
        tables = connection.execute(
            "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind IN ('r', 'p') "
            "AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
            "ORDER BY 2 DESC, 1"
        ).fetchall()
    assert row is not None
    return int(row[0]), [(str(name), int(size)) for name, size in tables]


# -- the stores --------------------------------------------------------------------------------


def open_big(args: argparse.Namespace, server: Server) -> BenchStore:
    """The big store: made, or found as a previous run left it (to be completed).

    A run that ends removes the home, so the home must hold nothing but what the benchmark
    put there: a new or empty folder, or the home of this database's store."""
    home = Path(args.home)
    manifest = home / bench_verify.MANIFEST
    named = home / DATABASE_FILE
    if not manifest.exists() and home.exists() and any(home.iterdir()):
        raise Refused(
            f"{home} holds files this benchmark did not make (no {manifest.name}): give a new or "
            f"empty --home (if a first run stopped before its store was made, remove {home} and "
            f"drop database {args.database})"
        )
    if manifest.exists() and (not named.exists() or named.read_text() != args.database):
        found = named.read_text() if named.exists() else "unknown"
        raise Refused(
            f"{home} holds the store of database {found}, not {args.database}: give that "
            "--database, or another --home"
        )
    exists = server.exists(args.database)
    if exists and not manifest.exists():
        raise Refused(
            f"database {args.database} exists but {manifest} does not: it is not a store this "
            "benchmark made, or its home was removed; drop it or choose another --database"
        )
    if manifest.exists() and not exists:
        raise Refused(
            f"{home} belongs to database {args.database}, which is gone: remove {home} to start "
            "afresh"
        )
    if not manifest.exists():
        home.mkdir(parents=True, exist_ok=True)
        named.write_text(args.database)
        server.create(args.database)
    big = bench_verify.prepare(home, args.per_subject, server.url(args.database), args.sites)
    if (big.per_subject, big.sites) != (args.per_subject, args.sites):
        print(
            f"  resuming a store of {big.per_subject:,} events a subject at {big.sites} sites "
            "(as it was made; --per-subject and --sites apply to new stores)",
            flush=True,
        )
    store = open_store(big.settings)
    try:
        person_key(store, home / REPLAY_KEY_FILE, open_replay_coordinator)
        person_key(store, home / INVESTIGATOR_KEY_FILE, open_investigator)
    finally:
        store.close()
    return big


def open_replay_coordinator(store: Store, key: Ed25519PrivateKey) -> None:
    if store.app.find_account(stores.COORDINATOR) is None:
        stores.open_coordinator(store, key)


def open_investigator(store: Store, key: Ed25519PrivateKey) -> None:
    if store.app.find_account(INVESTIGATOR) is None:
        open_person(
            store,
            INVESTIGATOR,
            printed_name="Bench Investigator (synthetic)",
            role=Role.INVESTIGATOR,
            sites=(PACKET_SITE,),
            private_key=key,
        )


def person_key(
    store: Store, path: Path, open_account: Callable[[Store, Ed25519PrivateKey], None]
) -> Ed25519PrivateKey:
    """The key kept at ``path`` (made the first time, and written before its account is
    opened, so that a run stopped in between finds it), its account opened if not yet."""
    if not path.exists():
        path.write_bytes(private_key_to_pem(generate_private_key()))
    key = private_key_from_pem(path.read_bytes())
    open_account(store, key)
    return key


def build(
    bench: BenchStore, target: int, args: argparse.Namespace, label: str, conninfo: str
) -> None:
    """Fill ``bench`` up to ``target`` events, with a progress line about every 1%: its rows
    written with ``COPY`` (benchmarks/copy_build.py), or saved through the store with
    ``--build store``."""
    before = bench_verify.count_events(bench)
    print(
        f"building the {label}: {before:,} events there, {target:,} wanted ({load()})", flush=True
    )

    def show(progress: BuildProgress) -> None:
        rate = progress.built / progress.seconds
        left = max(0, target - before - progress.built) / rate if rate else 0.0
        print(
            f"  {before + progress.built:,}/{target:,} events, {progress.done:,}/"
            f"{progress.planned:,} subjects this run, {rate:,.0f} events/s, "
            f"{duration(left)} left; {load()}",
            flush=True,
        )

    every = max(1, target // bench.per_subject // 100)
    if args.build == "copy":
        copy_build.fill(bench, target, conninfo, args.builders, show, every)
    else:
        bench_verify.fill(bench, target, args.batch, args.builders, show, every)


@contextmanager
def small_store(args: argparse.Namespace, server: Server, sites: int) -> Iterator[BenchStore]:
    """The 10,000-event store, made afresh in ``<database>_small``, dropped at the end."""
    database = f"{args.database}_small"
    server.drop(database)
    server.create(database)
    try:
        with tempfile.TemporaryDirectory(prefix="sealtrail-scale-small-") as home:
            small = bench_verify.prepare(Path(home), args.per_subject, server.url(database), sites)
            store = open_store(small.settings)
            try:
                person_key(store, Path(home) / INVESTIGATOR_KEY_FILE, open_investigator)
            finally:
                store.close()
            yield small
    finally:
        server.drop(database)


# -- the measurements --------------------------------------------------------------------------


@dataclass
class PacketResult:
    """One site copy built: its seconds, bytes, events kept and withheld, peak memory."""

    seconds: float
    size: int
    events: int
    withheld: int
    peak_kib: int


def run_site_packet(settings: Settings, path: Path, memory_cap: int) -> PacketResult | str:
    """The site copy of :data:`PACKET_SITE` built in a process of its own (so that its peak
    memory is the build's alone), its address space capped at ``memory_cap`` bytes; why it
    failed if it did."""
    try:
        result, _ = bench_verify.in_own_process(
            _site_packet, settings, str(path), memory_cap, name="site copy's"
        )
    except RuntimeError as error:
        return str(error)
    assert isinstance(result, PacketResult | str)
    return result


def _site_packet(settings: Settings, path: str, memory_cap: int, results: Any) -> None:
    # The build holds the log's Merkle tree and the site's events (before: the whole log,
    # docs/benchmarks-scale.md): past the cap it fails here rather than have the kernel's OOM
    # killer pick a process, PostgreSQL's perhaps, and spoil the figures that follow. The cap
    # is lifted again to report (the queue's thread needs room of its own).
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    key = private_key_from_pem((settings.home / INVESTIGATOR_KEY_FILE).read_bytes())
    store = open_store(settings)
    started = time.perf_counter()
    resource.setrlimit(resource.RLIMIT_AS, (memory_cap, hard))
    try:
        data = build_packet(
            store,
            signatory=PacketSignatory(INVESTIGATOR, key),
            documents=False,
            site_copy=site_scope.BuiltBy(site_scope.INVESTIGATOR, INVESTIGATOR, PACKET_SITE),
        )
        seconds = time.perf_counter() - started
    except Exception as error:  # out of memory is Python's MemoryError, or libpq's own error
        resource.setrlimit(resource.RLIMIT_AS, (hard, hard))
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        results.put(
            f"{type(error).__name__}: {error} (after {time.perf_counter() - started:,.0f} s, "
            f"peak RSS {mib(peak)}, address space capped at {memory_cap / 2**30:,.2f} GiB)"
        )
        return
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (hard, hard))
        store.close()
    Path(path).write_bytes(data)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        events = len(archive.read("log/events.jsonl").splitlines())
        withheld = len(archive.read(site_scope.WITHHELD).splitlines())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    results.put(PacketResult(seconds, len(data), events, withheld, peak))


@dataclass
class CopyCheck:
    """What the restored copy was checked by when not verified in full (``--copy-check rows``):
    every table's rows against the original's, and ``verify --since`` on the copy."""

    tables: int
    rows: int
    differing: list[str]
    """The tables (and sequences) whose rows, or value, differ from the original's."""
    since_events: int
    since_findings: list[str]
    seconds: float

    @property
    def ok(self) -> bool:
        return not self.differing and not self.since_findings


@dataclass
class DumpResult:
    dump_seconds: float
    dump_bytes: int
    restore_seconds: float
    restored: VerifyResult | CopyCheck


def dump_and_restore(
    server: Server, database: str, home: Path, jobs: int, check: str, recent: int
) -> DumpResult:
    """``pg_dump`` (custom format) of ``database``, ``pg_restore`` of it into a fresh database,
    and the copy checked (dropped at the end, as the dump is removed): by the full verifier
    (``check`` "full"), or (``check`` "rows") by :func:`check_copy` with the newest ``recent``
    events verified again."""
    dump = home / f"{database}.dump"
    restored = f"{database}_restored"
    # What an auditor keeps of the original, before the dump: its signed checkpoint of all but
    # the newest events (the copy must be consistent with it).
    store = open_store(bench_verify.settings_for(home, server.url(database)))
    try:
        with store.engine.connect() as connection:
            size = StoredTree(connection).size()
        kept = bench_verify.kept_checkpoint(store, max(1, size - recent))
    finally:
        store.close()
    started = time.perf_counter()
    run_tool(
        ["pg_dump", "--format=custom", f"--file={dump}", f"--dbname={server.conninfo(database)}"]
    )
    dump_seconds = time.perf_counter() - started
    dump_bytes = dump.stat().st_size
    print(f"  dumped in {dump_seconds:.0f} s, {dump_bytes / 2**20:,.0f} MiB; restoring", flush=True)
    server.drop(restored)
    server.create(restored)
    try:
        started = time.perf_counter()
        run_tool(
            [
                "pg_restore",
                f"--jobs={jobs}",
                "--no-owner",
                "--exit-on-error",
                f"--dbname={server.conninfo(restored)}",
                str(dump),
            ]
        )
        restore_seconds = time.perf_counter() - started
        print(f"  restored in {restore_seconds:.0f} s; checking the copy ({load()})", flush=True)
        # The copy is served with the original's home: its server key and the packet keys.
        copy = bench_verify.settings_for(home, server.url(restored))
        checked: VerifyResult | CopyCheck
        if check == "full":
            checked = bench_verify.run_verifier(copy)
        else:
            checked = check_copy(server, database, restored, copy, kept)
    finally:
        server.drop(restored)
        dump.unlink(missing_ok=True)
    return DumpResult(dump_seconds, dump_bytes, restore_seconds, checked)


def check_copy(
    server: Server, database: str, restored: str, copy: Settings, kept: str
) -> CopyCheck:
    """The restored copy holds the original's rows, every one, and the product verifies it.

    A restore is a copy of rows: the copy is the same store if every table holds the same rows
    (counted, and each row's text hashed, the hashes summed: the two databases are read at
    once, on a core each) and each sequence stands where it stood, so the full verification of
    the original, made in the same run, holds for it. Then ``verify --since`` runs on the copy
    from ``kept``, a checkpoint signed from the original before the dump: the copy's tree must
    be consistent with the original's root, and its newest events are verified in full by the
    product's verifier, as served from the copy with the original's home."""
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=2) as pool:
        original, copied = pool.map(
            table_digests, (server.conninfo(database), server.conninfo(restored))
        )
    differing = sorted(
        name for name in original.keys() | copied.keys() if original.get(name) != copied.get(name)
    )
    rows = sum(count for name, (count, _) in copied.items() if not name.startswith("sequence "))
    store = open_store(copy)
    try:
        verifier = store.verifier()
        checkpoint = read_kept_checkpoint(kept.encode(), verifier.origin, verifier.anchor_key)
        report = SinceCheck(verifier, checkpoint).run()
    finally:
        store.close()
    return CopyCheck(
        tables=len(original),
        rows=rows,
        differing=differing,
        since_events=report.events,
        since_findings=[str(finding) for finding in report.findings[:10]],
        seconds=time.perf_counter() - started,
    )


def table_digests(conninfo: str) -> dict[str, tuple[int, int]]:
    """Each table's row count and the sum of its rows' hashes (the first 64 bits of the MD5 of
    each row's text, which names every column), and each sequence's last value."""
    digests: dict[str, tuple[int, int]] = {}
    with psycopg.connect(conninfo) as connection:
        tables = connection.execute(
            "SELECT n.nspname, c.relname FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind IN ('r', 'p') "
            "AND n.nspname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2"
        ).fetchall()
        for schema, name in tables:
            row = connection.execute(
                "SELECT count(*), "
                "coalesce(sum(('x' || left(md5(t::text), 16))::bit(64)::bigint), 0) "
                f'FROM "{schema}"."{name}" AS t'
            ).fetchone()
            assert row is not None
            digests[f"{schema}.{name}"] = (int(row[0]), int(row[1]))
        for schema, name, value in connection.execute(
            "SELECT schemaname, sequencename, last_value FROM pg_sequences"
        ).fetchall():
            digests[f"sequence {schema}.{name}"] = (int(value or 0), 0)
    return digests


def run_tool(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{command[0]} failed ({done.returncode}): {done.stderr.strip()}")


# -- the report --------------------------------------------------------------------------------


@dataclass
class Verdicts:
    """Each figure against its goal and baseline, for the summary at the end."""

    rows: list[tuple[str, str, str, str]]

    def add(self, figure: str, measured: str, baseline: str, goal: str) -> None:
        self.rows.append((figure, measured, baseline, goal))

    def print(self) -> None:
        print(f"  {'figure':<34} {'measured':>18} {'baseline, same run':>26}  goal")
        for figure, measured, baseline, goal in self.rows:
            print(f"  {figure:<34} {measured:>18} {baseline:>26}  {goal}")


def duration(seconds: float) -> str:
    """``seconds`` as a person reads a time left: 45 s, 12 min, 1 h 05 min."""
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"


def mib(kib: int) -> str:
    return f"{kib / 1024:,.0f} MiB"


def print_verification(label: str, result: VerifyResult) -> None:
    workers = ", ".join(mib(peak) for peak in result.worker_peaks_kib) or "-"
    print(
        f"  {label:<28} {result.events:>12,} events {result.seconds:>9.1f} s "
        f"{result.rate:>9,.0f}/s  peak RSS {mib(result.peak_kib)} (workers {workers})"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Ten million events on PostgreSQL, measured once and reported."
    )
    parser.add_argument("--events", type=int, default=10_000_000, help="(10000000)")
    parser.add_argument("--database", default="sealtrail_scale", help="(sealtrail_scale)")
    parser.add_argument("--home", help="the store's home (benchmarks/.cache/scale-DATABASE)")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("SEALTRAIL_BENCH_POSTGRES_URL", stores.DEFAULT_POSTGRES_URL),
        help="a database to connect to, to make and drop the benchmark's own",
    )
    parser.add_argument("--keep", action="store_true", help="keep the store at the end")
    bench_verify.add_build_options(parser)
    parser.add_argument(
        "--build",
        choices=("copy", "store"),
        default="copy",
        help="copy: the product's rows written with COPY (benchmarks/copy_build.py); store: "
        "saved through the sealed event store, --batch at a time (copy)",
    )
    parser.add_argument("--sites", type=int, default=10, help="sites screening in turn (10)")
    parser.add_argument("--replay-events", type=int, default=2000, help="(2000)")
    parser.add_argument("--samples", type=int, default=40, help="as-of instants timed (40)")
    physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    parser.add_argument(
        "--packet-memory",
        type=float,
        default=round(physical * 0.75, 1),
        metavar="GIB",
        help=f"address space cap of the site copy's build (3/4 of memory: {physical * 0.75:.1f})",
    )
    parser.add_argument(
        "--copy-check",
        choices=("rows", "full"),
        default="rows",
        help="how the restored copy is checked: rows, the same rows as the original's and "
        "verify --since over the --recent newest events; full, the full verifier (rows)",
    )
    parser.add_argument(
        "--recent", type=int, default=10_000, help="events verify --since checks (10000)"
    )
    parser.add_argument(
        "--restore-jobs", type=int, default=os.cpu_count() or 1, help="pg_restore --jobs (cores)"
    )
    args = parser.parse_args(argv)
    if args.events < SMALL_STORE or args.per_subject < 10 or min(args.batch, args.sites) < 1:
        parser.error(
            f"--events must be at least {SMALL_STORE}, --per-subject at least 10, --batch and "
            "--sites at least 1"
        )
    if not DATABASE_NAME.fullmatch(args.database):
        parser.error("--database must be lower-case letters, digits and _, at most 50")
    if args.replay_events < 11 or args.rounds < 1 or args.appends < 2:
        parser.error("--replay-events must be at least 11, --rounds 1 and --appends 2")
    args.home = args.home or str(CACHE / f"scale-{args.database}")
    server = Server(make_url(args.postgres_url))
    try:
        return run(args, server)
    except Refused as refused:
        print(f"scale.py: {refused}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        # The store and its home were kept (run says where): the same command resumes.
        print("scale.py: interrupted", file=sys.stderr)
        return 130


def run(args: argparse.Namespace, server: Server) -> int:
    if (why := stores.postgres_unreachable(server.admin)) is not None:
        raise Refused(f"PostgreSQL cannot be reached at {server.admin}: {why}")
    for tool in ("pg_dump", "pg_restore"):
        if shutil.which(tool) is None:
            raise Refused(f"{tool} is not on PATH (the PostgreSQL client tools are needed)")
    started = time.perf_counter()
    phases: dict[str, float] = {}

    def phase(name: str, since: float) -> float:
        phases[name] = time.perf_counter() - since
        return time.perf_counter()

    print(f"sealtrail scale benchmark: {args.events:,} events on PostgreSQL, {stores.machine()}")
    print(f"  {pg_version(server)}; {load()}", flush=True)
    big = open_big(args, server)
    print(f"  the store's home: {big.home}; database {args.database}", flush=True)
    completed = False
    share: float | None = None
    try:
        mark = time.perf_counter()
        build(big, args.events, args, "big store", server.conninfo(args.database))
        mark = phase("build the big store", mark)
        replay_key = private_key_from_pem((big.home / REPLAY_KEY_FILE).read_bytes())
        store = open_store(big.settings)
        try:
            added = bench_replay.record_life(store, replay_key, args.replay_events)
        finally:
            store.close()
        print(f"  the replayed subject: {added:,} events recorded ({load()})", flush=True)
        mark = phase(RECORD_REPLAYED, mark)
        with small_store(args, server, big.sites) as small:
            build(
                small,
                SMALL_STORE,
                args,
                "10,000-event store",
                server.conninfo(f"{args.database}_small"),
            )
            mark = phase("build the 10,000-event store", mark)
            share = measure(args, server, big, small, phases, mark)
            completed = True
    finally:
        if completed and not args.keep:
            server.drop(args.database)
            shutil.rmtree(big.home, ignore_errors=True)
            print(f"dropped {args.database} and removed {big.home} (--keep keeps them)")
        else:
            print(
                f"kept: database {args.database}, home {big.home} (the same command resumes or "
                "measures them again)"
            )
    print_phases(phases, args.events, share)
    print(f"(total {time.perf_counter() - started:,.0f} s; {load()})")
    return 0


def machine_share(raw: float) -> float:
    """The share of the cores' time the run had while raw Ed25519 was timed: its rate on every
    core against the rate the cores give when nothing else runs, which the CPU time each
    signature took says (CPU time does not grow with other work on the machine)."""
    costs = bench_verify.RAW_CPU.get("pynacl", [])
    if not costs:
        return 1.0
    alone = (os.cpu_count() or 1) / statistics.mean(costs)
    return min(1.0, raw / alone)


def print_phases(phases: dict[str, float], events: int, share: float | None = None) -> None:
    """Each phase's wall seconds, and what it would take at ten million events if it grew
    linearly with the log (the others as measured): the projection a rehearsal is run for.
    With ``share`` (:func:`machine_share`), also as if the run had had the cores to itself
    (rough: the other work on the machine varied from phase to phase)."""
    scale = TEN_MILLION / events
    quiet = "" if share is None else f", and x{share:.2f} (a quiet machine, rough)"
    print(f"phases (wall seconds), projected to {TEN_MILLION:,} events (x{scale:,.1f}){quiet}:")
    projected = 0.0
    for name, seconds in phases.items():
        at_scale = seconds if name in FIXED_PHASES else seconds * scale
        projected += at_scale
        alone = "" if share is None else f" {duration(at_scale * share):>12}"
        print(f"  {name:<40} {seconds:>8.0f} {duration(at_scale):>12}{alone}")
    alone = "" if share is None else f" {duration(projected * share):>12}"
    print(f"  {'in all':<40} {sum(phases.values()):>8.0f} {duration(projected):>12}{alone}")


def pg_version(server: Server) -> str:
    with psycopg.connect(stores.conninfo(server.admin)) as connection:
        row = connection.execute("SHOW server_version").fetchone()
    assert row is not None
    return f"PostgreSQL {row[0]}"


def measure(
    args: argparse.Namespace,
    server: Server,
    big: BenchStore,
    small: BenchStore,
    phases: dict[str, float],
    mark: float,
) -> float:
    """Every figure after the builds, printed as it comes and summarised at the end; the
    share of the cores' time the run had while raw Ed25519 was timed (:func:`machine_share`)."""
    verdicts = Verdicts([])

    def phase(name: str) -> None:
        nonlocal mark
        phases[name] = phases.get(name, 0.0) + time.perf_counter() - mark
        mark = time.perf_counter()

    small_database = f"{args.database}_small"
    seconds = vacuum(server, args.database) + vacuum(server, small_database)
    print(f"VACUUM ANALYZE of both stores: {seconds:.0f} s ({load()})", flush=True)
    big_events = bench_verify.count_events(big)
    small_events = bench_verify.count_events(small)
    build_rate = big.built_now / big.build_seconds if big.build_seconds else 0.0
    small_rate = small.built_now / small.build_seconds if small.build_seconds else 0.0
    print()
    if big.built_now:
        how = (
            f"written with COPY, {copy_build.COMMIT_EVENTS:,} events a commit"
            if args.build == "copy"
            else f"{args.batch} events a save"
        )
        print(
            f"build: {big.built_now:,} events this run in {big.build_seconds:,.0f} s "
            f"({build_rate:,.0f} events/s; {args.builders} builders, {how}); "
            f"10,000-event store at {small_rate:,.0f} events/s"
        )
    else:
        print("build: nothing built this run (the store was complete)")
    verdicts.add(
        "build, events/s",
        f"{build_rate:,.0f}" if big.built_now else "-",
        f"{small_rate:,.0f} (10k store)",
        "none (its time is the figure)",
    )

    database_bytes, tables = sizes(server, args.database)
    small_bytes, _ = sizes(server, small_database)
    print(f"\nsize: {big_events:,} events in the log, database {database_bytes / 2**30:,.2f} GiB")
    print(f"  {'table (with indexes, TOAST)':<40} {'MiB':>10} {'bytes an event':>15}")
    for name, size in tables:
        print(f"  {name:<40} {size / 2**20:>10,.1f} {size / big_events:>15,.0f}")
    print(
        f"  {'database':<40} {database_bytes / 2**20:>10,.1f} {database_bytes / big_events:>15,.0f}"
        f"  (10,000-event store: {small_bytes / small_events:,.0f} bytes an event)"
    )
    verdicts.add(
        "database, bytes an event",
        f"{database_bytes / big_events:,.0f}",
        f"{small_bytes / small_events:,.0f} (10k store)",
        "none",
    )
    phase("vacuum and sizes")

    print(f"\nappend ({load()})", flush=True)
    small_times, big_times = bench_verify.alternate_appends(small, big, args.rounds, args.appends)
    ratio = bench_verify.print_appends(
        f"append: Records.record of one signed event, {args.rounds} rounds of {args.appends} "
        "(after 20 untimed), alternating stores",
        (small_events, small_times),
        (big_events, big_times),
    )
    verdicts.add(
        "append, ratio big / 10k",
        f"{ratio:.2f}",
        "the 10k store's median",
        f"<= {APPEND_GOAL}: {'met' if ratio <= APPEND_GOAL else 'NOT met'}",
    )
    phase("append")

    print(f"\nreplay ({load()})", flush=True)
    store = open_store(big.settings)
    try:
        replayed = bench_replay.measure_store(
            store,
            f"postgres, a store of {big_events:,} events",
            args.replay_events,
            args.samples,
            repeats=5,
        )
    finally:
        store.close()
    bench_replay.report(replayed)
    warm, fresh, baseline = (
        statistics.median(replayed[name]) for name in ("warm", "fresh", "baseline")
    )
    goal = bench_replay.GOAL_MS
    verdicts.add(
        f"replay, {args.replay_events:,}-event subject",
        f"{warm:.1f} ms ({fresh:.1f} new)",
        f"{baseline:.1f} ms full fold",
        f"< {goal:.0f} ms: {'met' if max(warm, fresh) < goal else 'NOT met'}",
    )
    phase("replay")

    print(f"\nverification: raw Ed25519 ({load()})", flush=True)
    sample = min(big_events, RAW_SAMPLE)
    before = bench_verify.raw_verify_rate("pynacl", sample // 2)
    phase(RAW_AND_SMALL_VERIFIED)
    print(f"  full verifier, big store ({load()})", flush=True)
    verified = bench_verify.run_verifier(big.settings)
    phase("full verification, big store")
    print(f"  full verifier, 10,000-event store ({load()})", flush=True)
    verified_small = bench_verify.run_verifier(small.settings)
    after = bench_verify.raw_verify_rate("pynacl", sample - sample // 2)
    raw = sample / ((sample // 2) / before + (sample - sample // 2) / after)
    if not (verified.ok and verified_small.ok):
        for finding in (verified.findings + verified_small.findings)[:10]:
            print(f"  FINDING: {finding}")
        raise RuntimeError("the verifier found problems in the benchmark's own store")
    print(f"\nverification on {os.cpu_count()} cores (the verifying process and its pool)")
    print_verification("big store", verified)
    print_verification("10,000-event store", verified_small)
    print(f"  raw Ed25519 (PyNaCl), all cores: {raw:,.0f}/s over {sample:,} signatures")
    share = machine_share(raw)
    print(
        f"  the run had {share:.0%} of the {os.cpu_count()} cores' time while it was timed "
        "(its rate against what the cores do alone, by its CPU time a signature)"
    )
    verify_ratio = verified.rate / raw
    print(
        f"  ratio verifier / raw Ed25519: {verify_ratio:.2f} (issue 21's goal on 1M events, "
        f">= {bench_verify.VERIFY_GOAL})"
    )
    print(
        f"  peak RSS big / 10k store: {verified.peak_kib / verified_small.peak_kib:.2f} (memory "
        "bounded: not growing with the log beyond the per-subject chain heads)"
    )
    verdicts.add(
        "full verification",
        f"{verified.seconds:,.0f} s, {verified.rate:,.0f}/s",
        f"{verified_small.rate:,.0f}/s (10k store)",
        f"ratio to raw {verify_ratio:.2f}, >= {bench_verify.VERIFY_GOAL}: "
        f"{'met' if verify_ratio >= bench_verify.VERIFY_GOAL else 'NOT met'}",
    )
    verdicts.add(
        "full verification, peak RSS",
        mib(verified.peak_kib),
        f"{mib(verified_small.peak_kib)} (10k store)",
        f"bounded (ratio {verified.peak_kib / verified_small.peak_kib:.2f})",
    )
    phase(RAW_AND_SMALL_VERIFIED)

    print(f"\npacket: the site copy of {PACKET_SITE} ({load()})", flush=True)
    packets: dict[str, PacketResult | str] = {}
    for label, bench in (("big store", big), ("10,000-event store", small)):
        packets[label] = run_site_packet(
            bench.settings, bench.home / "site-packet.zip", int(args.packet_memory * 2**30)
        )
        (bench.home / "site-packet.zip").unlink(missing_ok=True)
        phase(f"site copy, {label}")
    for label, packet in packets.items():
        if isinstance(packet, str):
            print(f"  {label:<20} FAILED: {packet}")
            continue
        # A site copy reads and checks the whole log (the Merkle root needs every leaf) and
        # writes its site's events: both rates say where its time goes.
        logged = packet.events + packet.withheld
        print(
            f"  {label:<20} {packet.events:>10,} events kept of {logged:,} "
            f"{packet.seconds:>8.1f} s ({packet.events / packet.seconds:,.0f} kept, "
            f"{logged / packet.seconds:,.0f} logged events/s) {packet.size / 2**20:>8,.1f} MiB, "
            f"peak RSS {mib(packet.peak_kib)}"
        )
    big_packet, small_packet = packets["big store"], packets["10,000-event store"]
    if isinstance(big_packet, PacketResult) and isinstance(small_packet, PacketResult):
        verdicts.add(
            f"site copy of {PACKET_SITE}",
            f"{big_packet.seconds:,.0f} s, {big_packet.size / 2**20:,.0f} MiB",
            f"{small_packet.events / small_packet.seconds:,.0f} events/s (10k)",
            f"{big_packet.events / big_packet.seconds:,.0f} events/s, "
            f"RSS {mib(big_packet.peak_kib)}",
        )
    else:
        verdicts.add(f"site copy of {PACKET_SITE}", "FAILED", "-", "see above")

    print(f"\npg_dump and pg_restore ({load()})", flush=True)
    dumped = dump_and_restore(
        server, args.database, big.home, args.restore_jobs, args.copy_check, args.recent
    )
    restored = dumped.restored
    if isinstance(restored, VerifyResult):
        print_verification("restored copy", restored)
        restored_ok = restored.ok and restored.events == verified.events
        findings = restored.findings
    else:
        print(
            f"  restored copy: {restored.rows:,} rows in {restored.tables} tables, the same as "
            f"the original's: {'yes' if not restored.differing else 'NO'}"
            f"{'' if not restored.differing else ' (' + ', '.join(restored.differing) + ')'}; "
            f"verify --since on the copy: {restored.since_events:,} events, "
            f"{len(restored.since_findings)} findings; {restored.seconds:,.0f} s"
        )
        restored_ok = restored.ok
        findings = restored.since_findings
    print(
        f"  dump {dumped.dump_seconds:,.0f} s, {dumped.dump_bytes / 2**20:,.0f} MiB "
        f"({dumped.dump_bytes / big_events:,.0f} bytes an event, "
        f"{dumped.dump_bytes / database_bytes:.2f} of the database); restore "
        f"{dumped.restore_seconds:,.0f} s ({args.restore_jobs} jobs); the copy "
        f"{'verifies' if args.copy_check == 'full' else 'holds the same rows and verifies'}: "
        f"{'yes' if restored_ok else 'NO'}"
    )
    for finding in findings:
        print(f"  FINDING on the copy: {finding}")
    verdicts.add(
        "pg_dump (custom) / pg_restore",
        f"{dumped.dump_seconds:,.0f} s / {dumped.restore_seconds:,.0f} s",
        f"dump {dumped.dump_bytes / 2**20:,.0f} MiB",
        f"the copy verifies: {'yes' if restored_ok else 'NO'}",
    )
    phase("dump, restore, check the copy")

    print(f"\nsummary: {big_events:,} events, {stores.machine()}; {load()}")
    verdicts.print()
    if not restored_ok:
        raise RuntimeError("the restored copy did not verify")
    return share


if __name__ == "__main__":
    sys.exit(main())
