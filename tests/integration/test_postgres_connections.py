"""What a store opened on PostgreSQL holds of the server's connections
(infrastructure/store/postgres_pool.py): one events connection kept, more only on demand."""

from __future__ import annotations

from contextlib import ExitStack

import pytest

from infrastructure.bootstrap import Store
from infrastructure.store.postgres_pool import EVENTS_POOL_KEPT, POOL_OVERFLOW, POOL_SIZE

pytestmark = pytest.mark.postgres


def test_an_opened_store_keeps_one_events_connection(postgres_store: Store) -> None:
    recorder = postgres_store.app.recorder
    assert recorder.max_notification_id()  # a read: the pool is open
    pool = recorder.datastore.pool  # type: ignore[attr-defined]

    # The one it opens by itself (a first use may ask for a second while that one connects).
    assert pool.min_size == EVENTS_POOL_KEPT == 1
    assert pool.max_size == POOL_SIZE + POOL_OVERFLOW


def test_the_events_pool_grows_on_demand_to_a_workers_share(postgres_store: Store) -> None:
    pool = postgres_store.app.recorder.datastore.pool  # type: ignore[attr-defined]
    share = POOL_SIZE + POOL_OVERFLOW

    with ExitStack() as held:
        connections = [held.enter_context(pool.connection(timeout=10)) for _ in range(share)]
        assert len({id(connection) for connection in connections}) == share
        assert pool.get_stats()["pool_size"] == share
