"""A worker's threads (``sealtrail serve --threads``) share its app: its store, opened once, and
the aggregates it keeps in memory, which one thread's read never changes under another's.

Real threads, a real store (SQLite), a second store opened on the same database standing for
another worker process.
"""

from __future__ import annotations

import threading

from api.http.app import create_app
from api.store import get_store
from infrastructure.bootstrap import Store

THREADS = 4


def test_the_first_requests_of_a_threaded_worker_open_one_store(sqlite_store: Store) -> None:
    app = create_app({"TESTING": True, "SEALTRAIL_SETTINGS": sqlite_store.settings})
    together = threading.Barrier(THREADS)
    opened: list[Store] = []

    def first_request() -> None:
        with app.app_context():
            together.wait()
            opened.append(get_store())

    threads = [threading.Thread(target=first_request) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    try:
        assert len(opened) == THREADS
        assert len({id(store) for store in opened}) == 1, "each thread opened a store of its own"
    finally:
        for store in {id(store): store for store in opened}.values():
            store.close()
