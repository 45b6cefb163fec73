"""Group commit: single-event writes made at the same time by threads of one process share one
transaction and one commit, each judged on its own and answered with its own receipt or refusal.

Real threads write through the records service (the API's path, from the guards to the signed
receipt) into a real store, SQLite and PostgreSQL. A group is formed on purpose: the store's
write lock is held from outside the process (SQLite: the writers' turn, a ``flock``; PostgreSQL:
the events table's EXCLUSIVE lock, from a connection of the test's own), a first write leads a
group of one and waits at the lock, and the writes under test queue behind it in a known order;
when the lock is let go they are the next group. ``sealtrail verify`` then checks every stored
event.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from eventsourcing.persistence import OperationalError

from api.schemas.submissions import submission_from
from domain.account import Role
from domain.errors import SignerNotAuthorised, VersionConflict
from infrastructure.application.commands import RecordEvent, UnassignSite
from infrastructure.bootstrap import Store
from infrastructure.settings import Settings
from infrastructure.store.write_groups import WriteGroups
from infrastructure.store.write_turns import WriteTurns
from tests.access.conftest import Admin, make_admin, make_person
from tests.cli_stores import sealtrail
from tests.conftest import STUDY, Person, consent, screening
from tests.resilience.harness import log_positions

Write = Callable[[], Any]
"""One write, run in a thread of its own: its receipt (or None), or it raises its refusal."""


@pytest.fixture
def admin(store: Store) -> Admin:
    return make_admin(store)


def groups_of(store: Store) -> WriteGroups:
    groups = store.app.recorder.groups  # type: ignore[attr-defined]
    assert isinstance(groups, WriteGroups)
    return groups


def signed_write(
    store: Store, person: Person, subject: str, kind: str, data: Any, version: int
) -> Write:
    """A write signed now (so before its group), recorded when called."""
    body = person.body(subject, kind, data, version=version)
    submission = submission_from(body, person.sign(body))

    def write() -> Any:
        return store.records.record(RecordEvent(submission=submission, actor_id=person.user_id))

    return write


def _conninfo(settings: Settings) -> dict[str, Any]:
    url = settings.database_url
    return {
        "host": url.host or "127.0.0.1",
        "port": url.port or 5432,
        "user": url.username or "postgres",
        "password": url.password or None,
        "dbname": url.database,
    }


@contextmanager
def write_lock_held(store: Store, table: str | None = None) -> Iterator[None]:
    """The store's write lock held from outside this process's groups until the block ends.

    On PostgreSQL ``table`` (the events table if None) is locked EXCLUSIVE by a connection of
    the test's own: the events table stops a group at its lock, before anything is inserted;
    the Merkle leaves' stops it after its members' inserts, in the middle of its transaction.
    """
    if store.settings.is_sqlite:
        database = store.settings.database_url.database
        assert database is not None
        with WriteTurns(Path(database)).turn():
            yield
        return
    name = table or store.app.recorder.events_table_name  # type: ignore[attr-defined]
    with psycopg.connect(**_conninfo(store.settings)) as connection:
        connection.execute(f"LOCK TABLE {name} IN EXCLUSIVE MODE")
        yield
        connection.rollback()


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.005)


class Threads:
    """Writes started one by one, each in a thread of its own; their outcomes, in order."""

    def __init__(self) -> None:
        self.threads: list[threading.Thread] = []
        self.outcomes: dict[int, Any] = {}

    def start(self, write: Write) -> None:
        index = len(self.threads)

        def run() -> None:
            try:
                self.outcomes[index] = write()
            except Exception as refusal:
                self.outcomes[index] = refusal

        thread = threading.Thread(target=run, name=f"write-{index}")
        self.threads.append(thread)
        thread.start()

    def alive(self) -> int:
        return sum(thread.is_alive() for thread in self.threads)

    def join(self) -> list[Any]:
        for thread in self.threads:
            thread.join(timeout=60)
        assert not any(thread.is_alive() for thread in self.threads)
        return [self.outcomes[index] for index in range(len(self.threads))]


def queued_behind_a_leader(store: Store, opener: Write, writes: list[Write]) -> Threads:
    """``opener`` started first: it leads a group of one and waits at the held write lock.
    Then each of ``writes`` is started once the one before it has queued, so they queue in
    order: they are the next group."""
    groups = groups_of(store)
    threads = Threads()
    threads.start(opener)
    wait_for(lambda: groups.committing, "the first write to lead a group")
    for count, write in enumerate(writes, start=1):
        threads.start(write)
        wait_for(lambda count=count: groups.queued == count, f"write {count} to queue")  # type: ignore[misc]
    return threads


def assert_verify_is_clean(store: Store) -> None:
    url = store.settings.database_url.render_as_string(hide_password=False)
    verified = sealtrail("verify", "--json", home=store.settings.home, url=url)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert json.loads(verified.stdout)["findings"] == []


def commits_of(store: Store, positions: list[int]) -> int:
    """PostgreSQL: how many transactions committed the events at ``positions``: each row's
    ``xmin`` is the id of the transaction that inserted it, and a group appends its members'
    leaves together in its one transaction."""
    with psycopg.connect(**_conninfo(store.settings)) as connection:
        row = connection.execute(
            "SELECT count(DISTINCT xmin::text) FROM merkle_leaves WHERE position = ANY(%s)",
            (positions,),
        ).fetchone()
    assert row is not None
    return int(row[0])


def test_writes_made_together_share_one_commit_each_answered_with_its_own_receipt(
    store: Store, coord1: Person, coord2: Person
) -> None:
    groups = groups_of(store)
    before = (groups.groups, groups.members)
    writes = [
        signed_write(store, person, f"RP-51{n}", "Screened", screening(), 1)
        for n, person in enumerate([coord1, coord2, coord1, coord2])
    ]
    opener = signed_write(store, coord1, "RP-500", "Screened", screening(), 1)
    with write_lock_held(store):
        threads = queued_behind_a_leader(store, opener, writes)
        time.sleep(0.2)
        assert threads.alive() == 5  # nothing is answered before its commit

    first, *receipts = threads.join()
    assert (groups.groups - before[0], groups.members - before[1]) == (2, 5)
    # Each its own receipt, in the order the group took them: consecutive leaves after the
    # opener's, in commit order.
    assert [r["subject"] for r in receipts] == [f"RP-51{n}" for n in range(4)]
    assert [r["leaf_index"] for r in receipts] == [first["leaf_index"] + n for n in range(1, 5)]
    assert [r["position"] for r in receipts] == sorted(r["position"] for r in receipts)
    if not store.settings.is_sqlite:
        assert commits_of(store, [r["position"] for r in receipts]) == 1
    assert_verify_is_clean(store)


@pytest.mark.requirement("P11-11.10g-1")
def test_a_member_refused_is_answered_its_refusal_and_the_rest_of_its_group_commit(
    store: Store, admin: Admin, coord1: Person, coord2: Person
) -> None:
    opener = signed_write(store, coord2, "RP-600", "Screened", screening(), 1)
    coord2.record(store, "RP-601", "Screened", screening())

    def take_coord1_s_site() -> None:
        store.administration.unassign_site(
            UnassignSite(user_id="coord1", site="RP", reason="moved to SP"), by=admin.signatory
        )

    writes = [
        signed_write(store, coord2, "RP-602", "Screened", screening(), 1),
        # coord1's rights taken away by an earlier member of the same group ...
        take_coord1_s_site,
        # ... so coord1's screening, checked before the group, is refused in it.
        signed_write(store, coord1, "RP-603", "Screened", screening(), 1),
        signed_write(store, coord2, "RP-601", "ConsentObtained", consent(), 2),
        # The same version again: taken by the member before it, in the same group.
        signed_write(store, coord2, "RP-601", "ConsentObtained", consent(), 2),
        signed_write(store, coord2, "RP-604", "Screened", screening(), 1),
    ]
    positions = log_positions(store)
    with write_lock_held(store):
        threads = queued_behind_a_leader(store, opener, writes)

    _, screened, unassigned, refused, consented, taken, last = threads.join()
    assert isinstance(refused, SignerNotAuthorised), refused
    assert "nothing was recorded" in str(refused)
    assert isinstance(taken, VersionConflict), taken
    assert unassigned is None
    assert [r["subject"] for r in (screened, consented, last)] == ["RP-602", "RP-601", "RP-604"]
    assert consented["version"] == 2
    # Four events of the group and the opener's; the refused ones left nothing.
    assert len(log_positions(store)) == len(positions) + 5
    assert store.app.find_subject(f"{STUDY}/RP-603") is None
    leaves = [r["leaf_index"] for r in (screened, consented, last)]
    assert leaves == sorted(leaves)
    assert_verify_is_clean(store)


def test_a_connection_broken_in_the_middle_of_a_group_acknowledges_none_of_it(
    postgres_store: Store, coord_in_postgres: Person
) -> None:
    store, person = postgres_store, coord_in_postgres
    groups = groups_of(store)
    positions = log_positions(store)
    opener = signed_write(store, person, "RP-700", "Screened", screening(), 1)
    writes = [
        signed_write(store, person, f"RP-7{n:02d}", "Screened", screening(), 1) for n in range(1, 4)
    ]
    before = (groups.groups, groups.members)
    # The leaves' table held: each group stops after its members' inserts, mid-transaction;
    # its connection is then broken, and again when it is tried once more.
    with (
        write_lock_held(store, table="merkle_leaves"),
        psycopg.connect(**_conninfo(store.settings), autocommit=True) as admin,
    ):
        threads = queued_behind_a_leader(store, opener, writes)
        while threads.alive():
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND wait_event_type = 'Lock'"
            )
            time.sleep(0.05)
    outcomes = threads.join()
    assert all(isinstance(outcome, OperationalError) for outcome in outcomes), outcomes
    assert (groups.groups - before[0], groups.members - before[1]) == (2, 4)
    assert log_positions(store) == positions
    for n in range(4):
        assert store.app.find_subject(f"{STUDY}/RP-7{n:02d}") is None
    assert_verify_is_clean(store)


@pytest.fixture
def coord_in_postgres(postgres_store: Store) -> Person:
    return make_person(postgres_store, "coord1", role=Role.SITE_COORDINATOR, sites=("RP",))
