"""benchmarks/scale.py's build and its check of a restored copy, on PostgreSQL.

The build writes the product's rows with ``COPY`` (benchmarks/copy_build.py), skipping the
admission's checks: the store it makes must be one the full verifier accepts, every event, and
a build stopped between commits must resume where it stopped. A restored copy is checked by its
rows against the original's (docs/benchmarks-scale.md): one row that differs must be named,
even where ``verify --since`` does not look."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from benchmarks import copy_build, scale
from benchmarks import verify as bench_verify
from benchmarks.verify import BenchStore, BuildProgress
from infrastructure.bootstrap import open_store
from infrastructure.store.merkle_log import StoredTree
from tests.conftest import require_postgres
from tests.postgres import conninfo

pytestmark = pytest.mark.postgres

PER_SUBJECT = 12


@pytest.fixture
def server() -> scale.Server:
    return scale.Server(make_url(require_postgres()))


@pytest.fixture
def built(postgres_database: str, tmp_path: Path) -> Iterator[BenchStore]:
    """A store of a few subjects at two sites, written with COPY in two runs (the second
    resuming the first's store)."""
    bench = bench_verify.prepare(tmp_path / "home", PER_SUBJECT, postgres_database, sites=2)
    target = conninfo(make_url(postgres_database))
    progress: list[BuildProgress] = []
    committed: list[int] = []

    def told(line: BuildProgress) -> None:
        # What another session sees as the line is told: a build stopped after it keeps these.
        progress.append(line)
        with psycopg.connect(target) as connection:
            row = connection.execute("SELECT count(*) FROM sealtrail_events").fetchone()
        committed.append(0 if row is None else int(row[0]))

    accounts = event_count(bench)  # the coordinator's account
    copy_build.fill(bench, accounts + 3 * PER_SUBJECT, target, 1, told, every=1)
    assert progress[-1].done == progress[-1].planned == bench.subjects == 3
    assert progress[-1].built == 3 * PER_SUBJECT == event_count(bench) - accounts
    copy_build.fill(bench, accounts + 7 * PER_SUBJECT, target, 2, told, every=1)
    assert progress[-1].done == progress[-1].planned == 4 and bench.subjects == 7
    assert event_count(bench) == accounts + 7 * PER_SUBJECT
    assert committed == [accounts + line.built for line in progress]
    yield bench


def event_count(bench: BenchStore) -> int:
    store = open_store(bench.settings)
    try:
        return bench_verify.event_count(store)
    finally:
        store.close()


def test_a_store_written_with_copy_is_accepted_by_the_full_verifier(built: BenchStore) -> None:
    store = open_store(built.settings)
    try:
        report = store.verifier().verify()
        with store.engine.connect() as connection:
            leaves = StoredTree(connection).size()
        latest = store.app.checkpoints.latest()
        versions = [bench_verify.recorded_version(store, n, built.sites) for n in range(7)]
    finally:
        store.close()

    assert report.ok, report.findings[:5]
    assert versions == [PER_SUBJECT] * 7
    # Every event has its leaf, and the product sealed a checkpoint as the rows were written.
    assert leaves == event_count(built) >= 7 * PER_SUBJECT
    assert latest is not None and 0 < latest.tree_size <= leaves


def test_a_restored_copy_is_checked_by_its_rows_and_one_changed_row_is_named(
    built: BenchStore, server: scale.Server
) -> None:
    original = str(make_url(built.database_url or "").database)
    dumped = scale.dump_and_restore(server, original, built.home, 1, "rows", recent=20)
    assert isinstance(dumped.restored, scale.CopyCheck)
    assert dumped.restored.ok and dumped.restored.since_events == 20
    assert dumped.restored.rows >= 2 * event_count(built)  # events, leaves and more
    assert not server.exists(f"{original}_restored")

    # A copy made by the server itself, then one old event's stored state changed in it: out
    # of verify --since's reach (the newest 20 events), not out of the rows' check.
    copy = f"{original}_altered"
    store = open_store(built.settings)
    try:
        kept = bench_verify.kept_checkpoint(store, event_count(built) - 20)
    finally:
        store.close()
    server.drop(copy)
    with psycopg.connect(server.conninfo("postgres"), autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{copy}" TEMPLATE "{original}"')
    try:
        with psycopg.connect(server.conninfo(copy), autocommit=True) as connection:
            # Past the append-only triggers, as only the database's owner could.
            connection.execute("SET session_replication_role = replica")
            connection.execute(
                "UPDATE sealtrail_events SET state = state || ' '::bytea "
                "WHERE notification_id = (SELECT min(notification_id) FROM sealtrail_events)"
            )
        settings = bench_verify.settings_for(built.home, server.url(copy))
        checked = scale.check_copy(server, original, copy, settings, kept)
    finally:
        server.drop(copy)

    assert checked.differing == ["public.sealtrail_events"]
    assert checked.since_findings == [] and checked.since_events == 20
    assert not checked.ok


def test_only_the_phases_that_grow_with_the_log_are_projected(
    capsys: pytest.CaptureFixture[str],
) -> None:
    scale.print_phases({"build the big store": 60.0, "append": 30.0}, 1_000_000)

    lines = capsys.readouterr().out.splitlines()
    assert "x10.0" in lines[0]
    assert lines[1].split()[-2:] == ["10", "min"]  # 60 s, ten times
    assert lines[2].split()[-2:] == ["30", "s"]  # as measured
    assert lines[3].split()[-2:] == ["10", "min"]  # 630 s in all


def test_a_share_of_the_cores_gives_the_quiet_machines_column(
    capsys: pytest.CaptureFixture[str],
) -> None:
    scale.print_phases({"build the big store": 60.0, "append": 30.0}, 1_000_000, share=0.5)

    lines = capsys.readouterr().out.splitlines()
    assert "x0.50 (a quiet machine, rough)" in lines[0]
    assert lines[1].split()[-4:] == ["10", "min", "5", "min"]
    assert lines[2].split()[-4:] == ["30", "s", "15", "s"]


def test_the_share_of_the_cores_is_the_rate_against_the_cpu_time_a_signature(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(bench_verify, "RAW_CPU", {"pynacl": [1 / 10_000, 1 / 10_000]})
    monkeypatch.setattr(scale.os, "cpu_count", lambda: 2)

    assert scale.machine_share(5_000) == pytest.approx(0.25)
    assert scale.machine_share(30_000) == 1.0  # never more than the cores
