"""A worker's threads (``sealtrail serve --threads``) share its app: its store, opened once, and
the aggregates it keeps in memory, which one thread's read never changes under another's.

Real threads, a real store (SQLite), a second store opened on the same database standing for
another worker process.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from api.http.app import create_app
from api.store import get_store
from domain.account import Role
from infrastructure.application.commands import UnassignSite
from infrastructure.bootstrap import Store, open_store
from tests.access.conftest import make_admin, make_person
from tests.conftest import STUDY, consent, screening

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


@contextmanager
def another_process(store: Store) -> Iterator[Store]:
    other = open_store(store.settings)
    try:
        yield other
    finally:
        other.close()


def test_an_account_a_reader_holds_is_not_changed_under_it_when_another_thread_brings_it_forward(
    sqlite_store: Store,
) -> None:
    store = sqlite_store
    admin = make_admin(store)
    make_person(store, "coord1", role=Role.SITE_COORDINATOR, sites=("RP", "SP"))
    held = store.app.find_account("coord1")  # a reader's: the kept account itself, not a copy
    assert held is not None
    version, sites = held.version, held.sites
    with another_process(store) as other:
        other.administration.unassign_site(
            UnassignSite(user_id="coord1", site="RP", reason="moved to SP"), by=admin.signatory
        )
    forwarded: list[object] = []
    reader = threading.Thread(target=lambda: forwarded.append(store.app.find_account("coord1")))
    reader.start()
    reader.join(timeout=60)

    (now,) = forwarded
    assert now is not None and now is not held
    assert (now.version, now.sites) == (version + 1, ("SP",))  # type: ignore[attr-defined]
    # What the first reader holds is the account as it read it, whole.
    assert (held.version, held.sites) == (version, sites)
    # The forwarded one is kept: the next read finds it current.
    assert store.app.find_account("coord1") is now


def test_a_subject_a_command_copies_is_not_changed_under_it_when_another_thread_brings_it_forward(
    sqlite_store: Store,
) -> None:
    store = sqlite_store
    person = make_person(store, "coord1", role=Role.SITE_COORDINATOR, sites=("RP",))
    person.record(store, "RP-101", "Screened", screening())
    stream = f"{STUDY}/RP-101"
    kept = store.app.repository.get(
        store.app.find_subject(stream).id,  # type: ignore[union-attr]
        deepcopy_from_cache=False,
    )
    version = kept.version
    with another_process(store) as other:
        person.record(other, "RP-101", "ConsentObtained", consent())
    reader = threading.Thread(target=lambda: store.app.find_subject(stream, to_change=True))
    reader.start()
    reader.join(timeout=60)

    assert kept.version == version
    assert store.app.find_subject(stream).version == version + 1  # type: ignore[union-attr]
