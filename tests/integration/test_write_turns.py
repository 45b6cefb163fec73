"""SQLite writers take turns on a lock file beside the database
(infrastructure.store.write_turns)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from api.schemas.submissions import submission_from
from domain.account import SPONSOR_ACCOUNT, Role
from domain.errors import NotPermitted, ScreeningClosed
from infrastructure.application.commands import LockDatabase, RecordEvent, RevokeRole, Signatory
from infrastructure.application.guards import admit
from infrastructure.bootstrap import Store
from infrastructure.identity.sponsor_key import open_sponsor_account
from infrastructure.store.event_store import KNOWN_ACCOUNTS
from infrastructure.store.write_turns import LOCK_SUFFIX, WriteTurns
from tests.conftest import BACKENDS, STUDY, PersonFactory, open_person, screening

TRY_LOCK = """
import fcntl, os, sys
descriptor = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
try:
    fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
except BlockingIOError:
    print("busy")
else:
    print("free")
"""


def another_process_finds(lock_file: Path) -> str:
    """'busy' or 'free': what a writer in another process finds, without waiting."""
    answer = subprocess.run(
        [sys.executable, "-c", TRY_LOCK, str(lock_file)],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return answer.stdout.strip()


def test_a_writer_in_another_process_waits_while_a_turn_is_held(tmp_path: Path) -> None:
    turns = WriteTurns(tmp_path / "store.sqlite3")

    with turns.turn():
        during = another_process_finds(turns.path)
    after = another_process_finds(turns.path)

    assert (during, after) == ("busy", "free")


def test_threads_of_one_process_take_turns_too(tmp_path: Path) -> None:
    turns = WriteTurns(tmp_path / "store.sqlite3")
    order: list[str] = []

    def second() -> None:
        with turns.turn():
            order.append("second")

    with turns.turn():
        waiting = threading.Thread(target=second)
        waiting.start()
        time.sleep(0.2)  # the second thread has had time to try
        order.append("first done")
    waiting.join(timeout=10)

    assert order == ["first done", "second"]


def test_the_sqlite_store_writes_in_turns_beside_its_database_file(
    sqlite_store: Store, person_in: PersonFactory
) -> None:
    coordinator = person_in(sqlite_store)
    database = Path(str(sqlite_store.settings.database_url.database))

    coordinator.record(sqlite_store, "RP-101", "Screened", screening())

    assert database.with_name(database.name + LOCK_SUFFIX).exists()
    assert another_process_finds(database.with_name(database.name + LOCK_SUFFIX)) == "free"


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_write_whose_author_lost_the_role_after_being_loaded_is_refused_in_its_turn(
    store: Store, backend: str
) -> None:
    """The account a write was checked against (loaded when its request was authenticated) is
    read again in the write's turn: a role revoked in between refuses the write, as verify,
    which asks the account as it stood when the write was recorded, would name it."""
    coordinator = open_person(store)
    loaded = store.app.account(coordinator.user_id)  # as the API loads it on authentication
    store.administration.revoke_role(
        RevokeRole(coordinator.user_id, Role.SITE_COORDINATOR, "left the study")
    )
    body = coordinator.body("RP-101", "Screened", screening(), version=1)
    write = RecordEvent(submission_from(body, coordinator.sign(body)), coordinator.user_id)

    with pytest.raises(NotPermitted, match="no role"):
        store.records.record(write, actor=loaded)

    assert store.app.find_subject(f"{STUDY}/RP-101") is None
    assert store.verifier(workers=1).verify().ok


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_screening_checked_before_a_database_lock_and_saved_after_it_is_refused(
    store: Store, backend: str
) -> None:
    """A screening whose site was open when checked, saved once the data manager's lock of the
    site is recorded, is refused in its turn (the sponsor's account read again): no subject
    is acknowledged at a site whose lock then leaves it open."""
    open_sponsor_account(store.administration, store.settings)
    coordinator = open_person(store)
    manager = open_person(store, "dm1", role=Role.SPONSOR_DATA_MANAGER, sites=())
    actor = store.app.account(coordinator.user_id)
    sponsor_then = store.app.account(SPONSOR_ACCOUNT)  # read by the screening's check
    body = coordinator.body("RP-101", "Screened", screening(), version=1)
    screened = admit(actor, None, submission_from(body, coordinator.sign(body)))
    store.administration.lock_database(
        LockDatabase(SPONSOR_ACCOUNT, STUDY, "analysis", "RP"),
        by=Signatory(manager.user_id, manager.printed_name, manager.private_key),
    )

    with pytest.raises(ScreeningClosed, match="NCT01297972/RP is locked"):
        store.app.save(
            screened,
            **{KNOWN_ACCOUNTS: {actor.user_id: actor, SPONSOR_ACCOUNT: sponsor_then}},
        )

    assert store.app.find_subject(f"{STUDY}/RP-101") is None
    assert store.verifier(workers=1).verify().ok
