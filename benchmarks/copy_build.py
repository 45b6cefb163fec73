"""The scale benchmark's build: the rows the product stores, made by its own functions and
written with PostgreSQL's ``COPY`` (docs/benchmarks-scale.md, "How the store is built").

``benchmarks/verify.py`` builds a store through the product's write path: every save is
admitted by the sealed event store (each signature verified, each author attributed, each
chain link and authority checked) and inserted by the sealed recorder, a statement a leaf and
a node. That path is what ``append`` measures; at ten million events it is most of a
three-hour session. This build keeps what makes the rows what they are, and drops what only
re-checks them:

- the builders (``--builders`` processes) make each subject's events exactly as verify.py's
  do: signed for real with Ed25519 by the registered coordinator, made by the domain
  (``Subject.screen`` and the recorders), and turned into stored events by the application's
  own mapper (the bytes a save would store);
- this process, the one writer, gives them their log positions from the events table's own
  sequence, makes each leaf with the product's function (``leaf_data``'s
  :func:`~signatures.log_leaf.event_leaf`) and the tree's nodes with
  :func:`~signatures.merkle.append_leaf`, as the recorder does, and writes events, leaves and
  nodes with ``COPY`` in one transaction of whole subjects, under the events table's
  ``EXCLUSIVE`` lock (as a save takes it); checkpoints are sealed by the product
  (``seal_if_due``) after each commit.

What is not run here, the admission's checks, the full verifier of the same run runs on every
event: a build that wrote a row the product would refuse is a finding there, and the run
stops (scale.py). Resuming works as verify.py's build: a commit holds whole subjects, and a
subject found cut short (by a build through the store) is completed from its last event.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import psycopg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from benchmarks import verify as bench_verify
from benchmarks.verify import BenchStore, BuildProgress
from domain.signed import SignedAggregate, stream_id
from domain.subject import Subject, subject_stream
from domain.wire import recorded_instant
from infrastructure.bootstrap import Store, open_store
from infrastructure.settings import Settings
from infrastructure.store.merkle_log import merkle_leaves, merkle_nodes
from signatures.keys import private_key_from_pem, private_key_to_pem
from signatures.log_leaf import event_leaf
from signatures.merkle import append_leaf, frontier

COMMIT_EVENTS = 10_000
"""Events written in one transaction (whole subjects, so at least one subject's)."""
IN_FLIGHT = 4
"""Subjects asked of each builder ahead of the writer: enough to keep the builders busy while
the writer commits, few enough that a slow writer never holds more than a few in memory."""

Row = tuple[UUID, int, str, bytes, str, str]
"""One event as a builder hands it over: the stored event (stream, version, topic, state) and
what its leaf commits to besides its position (its recording instant and chain hash)."""


@dataclass
class _Builder:
    store: Store
    private_key: Ed25519PrivateKey
    per_subject: int
    sites: int


_builder: _Builder | None = None


def _start_builder(settings: Settings, pem: bytes, per_subject: int, sites: int) -> None:
    """Each builder opens the store once (its mapper, and the repository to complete a
    subject cut short) and keeps it for all its subjects."""
    global _builder
    _builder = _Builder(open_store(settings), private_key_from_pem(pem), per_subject, sites)


def _subject_rows(task: tuple[int, int]) -> list[Row]:
    """Subject ``number``'s events from step ``first`` on, signed, made by the domain and
    mapped as a save would store them (verify.py's ``_build_subject``, without the save)."""
    number, first = task
    assert _builder is not None
    app = _builder.store.app
    subject: Subject | None = None
    if first > 0:
        code = bench_verify.subject_code(number, _builder.sites)
        subject = app.repository.get(stream_id(subject_stream(bench_verify.STUDY, code)))
    steps = range(first, _builder.per_subject)
    subject = bench_verify.record_steps(
        subject, number, steps, _builder.private_key, _builder.sites
    )
    rows: list[Row] = []
    for event in subject.collect_events():
        assert isinstance(event, SignedAggregate.Event)
        stored = app.mapper.to_stored_event(event)
        rows.append(
            (
                stored.originator_id,
                stored.originator_version,
                stored.topic,
                stored.state,
                recorded_instant(event.recorded_at),
                event.event_hash,
            )
        )
    return rows


class LogWriter:
    """The one writer of the build: positions from the events table's sequence, leaves and
    nodes made as the recorder makes them, everything written with ``COPY``."""

    def __init__(self, connection: psycopg.Connection[Any], store: Store) -> None:
        self._connection = connection
        self._store = store
        recorder = store.app.recorder
        self._events = str(getattr(recorder, "events_table_name"))  # noqa: B009 (eventsourcing's)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT max(leaf_index) FROM {merkle_leaves.name}")
            row = cursor.fetchone()
            self.size = 0 if row is None or row[0] is None else int(row[0]) + 1
            self._nodes = self._frontier_stored(cursor, self.size)

    def _frontier_stored(self, cursor: Any, size: int) -> dict[tuple[int, int], bytes]:
        nodes: dict[tuple[int, int], bytes] = {}
        for level, index in frontier(size):
            cursor.execute(
                f"SELECT hash FROM {merkle_nodes.name} WHERE level = %s AND node_index = %s",
                (level, index),
            )
            found = cursor.fetchone()
            assert found is not None, f"the stored tree lacks its node ({level}, {index})"
            nodes[(level, index)] = bytes(found[0])
        return nodes

    def write(self, rows: list[Row]) -> None:
        """The events, their leaves and the nodes they complete, in one transaction; then a
        checkpoint if one is due (the product's rule)."""
        leaves: list[tuple[int, int, bytes]] = []
        written: list[tuple[int, int, bytes]] = []

        def read(level: int, index: int) -> bytes:
            return self._nodes[(level, index)]

        def keep(level: int, index: int, value: bytes) -> None:
            self._nodes[(level, index)] = value
            written.append((level, index, value))

        with self._connection.transaction(), self._connection.cursor() as cursor:
            # As a save: no other writer may add an event while the tree grows.
            cursor.execute(f"LOCK TABLE {self._events} IN EXCLUSIVE MODE")
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'notification_id')) "
                "FROM generate_series(1, %s)",
                (self._events, len(rows)),
            )
            positions = [int(position) for (position,) in cursor.fetchall()]
            for offset, (position, row) in enumerate(zip(positions, rows, strict=True)):
                leaf_index = self.size + offset
                data = event_leaf(
                    position=position,
                    stream_id=row[0].hex,
                    version=row[1],
                    recorded_at=row[4],
                    event_hash=row[5],
                )
                leaves.append((leaf_index, position, append_leaf(read, keep, leaf_index, data)))
            _copy(
                cursor,
                f"{self._events} (originator_id, originator_version, topic, state, "
                "notification_id)",
                ("uuid", "int8", "text", "bytea", "int8"),
                (
                    (row[0], row[1], row[2], row[3], position)
                    for row, position in zip(rows, positions, strict=True)
                ),
            )
            _copy(
                cursor,
                f"{merkle_leaves.name} (leaf_index, position, leaf_hash)",
                ("int8", "int8", "bytea"),
                leaves,
            )
            _copy(
                cursor,
                f"{merkle_nodes.name} (level, node_index, hash)",
                ("int4", "int8", "bytea"),
                written,
            )
        self.size += len(rows)
        # Only the frontier is read by later appends: the rest is on disk.
        self._nodes = {node: self._nodes[node] for node in frontier(self.size)}
        self._store.app.checkpoints.seal_if_due(tree_size=self.size)


def _copy(
    cursor: Any, target: str, types: tuple[str, ...], rows: Iterable[tuple[Any, ...]]
) -> None:
    with cursor.copy(f"COPY {target} FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(list(types))
        for row in rows:
            copy.write_row(row)


def fill(
    bench: BenchStore,
    target: int,
    conninfo: str,
    workers: int,
    progress: Callable[[BuildProgress], None],
    every: int,
) -> None:
    """Build subjects on ``workers`` processes, written here with ``COPY``, until the log
    holds ``target`` events, telling ``progress`` after a commit once ``every`` subjects more
    are written, and at the end."""
    tasks = bench_verify.plan(bench, target)
    if not tasks:
        return
    bench.save_manifest()
    started = time.perf_counter()
    store = open_store(bench.settings)
    try:
        with (
            # autocommit: each write's transaction() is then its own BEGIN and COMMIT. In a
            # connection's implicit transaction (opened by the first SELECT) it would be a
            # savepoint, committed only as the build ended, and the events table's lock would
            # stay held: a builder started later waited on it to open the store.
            psycopg.connect(conninfo, autocommit=True) as connection,
            bench_verify.builder_pool(
                min(workers, len(tasks)),
                _start_builder,
                bench.settings,
                private_key_to_pem(bench.private_key),
                bench.per_subject,
                bench.sites,
            ) as pool,
        ):
            writer = LogWriter(connection, store)
            pending: list[Row] = []
            told = 0
            for done, rows in enumerate(_in_order(pool, tasks, workers * IN_FLIGHT), start=1):
                pending += rows
                if len(pending) < COMMIT_EVENTS and done < len(tasks):
                    continue
                writer.write(pending)
                bench.built_now += len(pending)
                pending = []
                # Told once written: the events a line counts are in the store.
                if done - told >= every or done == len(tasks):
                    told = done
                    seconds = time.perf_counter() - started
                    progress(BuildProgress(done, len(tasks), bench.built_now, seconds))
    finally:
        store.close()
    bench.build_seconds += time.perf_counter() - started


def _in_order(
    pool: ProcessPoolExecutor, tasks: list[tuple[int, int]], ahead: int
) -> Iterator[list[Row]]:
    """Each task's rows, in the tasks' order, with at most ``ahead`` tasks asked at a time
    (``pool.map`` would ask them all at once, and hold every answer the writer has not yet
    taken)."""
    waiting: deque[Future[list[Row]]] = deque()
    queued = iter(tasks)
    for task in queued:
        waiting.append(pool.submit(_subject_rows, task))
        if len(waiting) >= ahead:
            break
    while waiting:
        rows = waiting.popleft().result()
        task = next(queued, None)
        if task is not None:
            waiting.append(pool.submit(_subject_rows, task))
        yield rows
