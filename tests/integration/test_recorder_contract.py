"""eventsourcing's own contract tests for application recorders, run against sealtrail's.

``ApplicationRecorderTestCase`` ships in the installed eventsourcing: inserts and selects,
notification ids, integrity errors, concurrent writers and readers. Here its recorder is
sealtrail's own class on each backend. The contract hands the recorder bare stored events, which
sealtrail's recorders refuse, so each insert is given what the sealed event store gives with a
save: a :class:`SealedBatch` (a pending leaf per event, an admission that admits). After each
test the Merkle tree must hold exactly one leaf per stored event, at its log position, in order.

``test_concurrent_no_conflicts`` writes 100 saves of 100 events (ten writers, two readers):
about 8 s a backend with the Merkle tree, the rest of the contract taking about 3 s. Its sizes
are local to the test, not class attributes, so it runs here with each of its loops a fifth as
long (20 saves of 20 events, still ten writers and two readers); the throughput test runs as
shipped.
"""

from __future__ import annotations

import builtins
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

import eventsourcing.tests.persistence as contract
import pytest
from eventsourcing.persistence import ApplicationRecorder, StoredEvent
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteDatastore
from sqlalchemy import Engine, create_engine, select
from sqlalchemy.engine import make_url

from infrastructure.store import merkle_log
from infrastructure.store.recorders import SealedSQLiteRecorder
from infrastructure.store.recorders.postgres import SealedPostgresRecorder
from infrastructure.store.sealed_batch import PendingLeaf, ReadAfter, SealedBatch
from infrastructure.store.statements import events_table
from tests.conftest import StoreTemplate, database_url

EVENTS_TABLE = "stored_events"
SCALE = 5
"""How many times shorter each loop of the concurrency test runs here."""


def batch_for(stored_events: Sequence[StoredEvent]) -> SealedBatch:
    """What the sealed event store would hand over with these events."""

    def admit(read_after: ReadAfter) -> None:
        del read_after  # the contract's events carry no signature to check again

    return SealedBatch([PendingLeaf(lambda n: b"leaf at %d" % n) for _ in stored_events], admit)


class ContractSQLiteRecorder(SealedSQLiteRecorder):
    """sealtrail's SQLite recorder, each insert given a sealed batch."""

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        return super().insert_events(stored_events, sealed_batch=batch_for(stored_events))


class ContractPostgresRecorder(SealedPostgresRecorder):
    """sealtrail's PostgreSQL recorder, each insert given a sealed batch."""

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        return super().insert_events(stored_events, sealed_batch=batch_for(stored_events))


@contextmanager
def loops_shortened(scale: int) -> Iterator[None]:
    """Every ``range(n)`` of eventsourcing's contract module runs to ``n // scale``."""

    def shorter(*bounds: int) -> range:
        if len(bounds) == 1:
            return builtins.range(max(1, bounds[0] // scale))
        return builtins.range(*bounds)

    with mock.patch.object(contract, "range", shorter, create=True):
        yield


class SealedRecorderContract(contract.ApplicationRecorderTestCase[ApplicationRecorder]):
    """The contract, with the tree's check after each test; a backend's class gives the rest."""

    __test__ = False
    engine: Engine
    recorders: list[ApplicationRecorder]

    def setUp(self) -> None:
        self.recorders = []

    def tearDown(self) -> None:
        for recorder in self.recorders:
            check_one_leaf_per_event(self.engine, recorder)
        self.engine.dispose()

    def test_concurrent_no_conflicts(self, initial_position: int = 0) -> None:
        running = set(threading.enumerate())
        with loops_shortened(SCALE):
            super().test_concurrent_no_conflicts(initial_position)
        # The contract tells its two readers to stop but does not wait for them: one still in
        # a select when tearDown closes the connection crashed SQLite (a segfault, seen under
        # load in CI). The readers stop within one sleep; wait for them before tearing down.
        # Only for them: the PostgreSQL pool's own threads (daemons) run until it is closed,
        # and waiting on each of those cost its whole timeout.
        for reader in set(threading.enumerate()) - running:
            if not reader.daemon:
                reader.join(timeout=30)
        (recorder,) = self.recorders
        assert recorder.max_notification_id() == (100 // SCALE) * (100 // SCALE)


def check_one_leaf_per_event(engine: Engine, recorder: ApplicationRecorder) -> None:
    """The tree has a leaf for each stored event, numbered in log order."""
    events = events_table(recorder)
    leaves = merkle_log.merkle_leaves.c
    with engine.connect() as connection:
        positions = connection.execute(select(events.position).order_by(events.position))
        stored = [int(position) for (position,) in positions]
        leaf_rows = connection.execute(
            select(leaves.leaf_index, leaves.position).order_by(leaves.leaf_index)
        )
        assert [(int(index), int(at)) for index, at in leaf_rows] == list(enumerate(stored))


class TestSealedSQLiteRecorder(SealedRecorderContract):
    __test__ = True

    def setUp(self) -> None:
        super().setUp()
        self.folder = tempfile.TemporaryDirectory()
        self.path = Path(self.folder.name) / "store.sqlite3"
        self.engine = create_engine(f"sqlite:///{self.path}")
        merkle_log.metadata.create_all(self.engine)

    def tearDown(self) -> None:
        super().tearDown()
        for recorder in self.recorders:
            assert isinstance(recorder, SealedSQLiteRecorder)
            recorder.datastore.close()
        self.folder.cleanup()

    def create_recorder(self) -> ApplicationRecorder:
        recorder = ContractSQLiteRecorder(
            SQLiteDatastore(str(self.path), lock_timeout=30), events_table_name=EVENTS_TABLE
        )
        recorder.create_table()
        self.recorders.append(recorder)
        return recorder


@pytest.fixture(scope="class")
def postgres_copy(
    request: pytest.FixtureRequest, postgres_template: StoreTemplate
) -> Iterator[None]:
    """A database of the test class's own: a copy of the tests' store, made ahead and dropped
    on a thread (conftest's ``Copies``); each test empties the tables it uses."""
    assert postgres_template.copies is not None
    name = postgres_template.copies.take()
    request.cls.database = name
    try:
        yield
    finally:
        postgres_template.copies.give_back(name)


@pytest.mark.postgres
@pytest.mark.usefixtures("postgres_copy")
class TestSealedPostgresRecorder(SealedRecorderContract):
    __test__ = True
    database = ""

    def setUp(self) -> None:
        super().setUp()
        self.engine = create_engine(database_url(self.database))
        with self.engine.begin() as connection:  # each test starts from empty tables
            merkle_log.metadata.drop_all(connection)
            connection.exec_driver_sql(f"DROP TABLE IF EXISTS {EVENTS_TABLE}")
            merkle_log.metadata.create_all(connection)
        self.datastores: list[PostgresDatastore] = []

    def tearDown(self) -> None:
        super().tearDown()
        for datastore in self.datastores:
            datastore.close()

    def create_recorder(self) -> ApplicationRecorder:
        url = make_url(database_url(self.database))
        datastore = PostgresDatastore(
            dbname=self.database,
            host=url.host or "127.0.0.1",
            port=str(url.port or 5432),
            user=url.username or "postgres",
            password=url.password or "",
        )
        self.datastores.append(datastore)
        recorder = ContractPostgresRecorder(datastore, events_table_name=EVENTS_TABLE)
        recorder.create_table()
        self.recorders.append(recorder)
        return recorder
