"""Group commit attacked: what a group may do to the store's rules, with real threads on real
SQLite and PostgreSQL.

Each test forms one group on purpose (:func:`queued_behind_a_leader`: the store's write lock held
from outside, a first write waiting at it, the writes under test queued behind it in a known
order) and then asks what the store promises of every write: what it accepted ``verify``
accepts, what it refused left nothing, what it acknowledged is stored, at the position and leaf
its receipt names.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from api.schemas.submissions import submission_from
from domain.account import SPONSOR_ACCOUNT, Role
from domain.errors import NotPermitted, ScreeningClosed, VersionConflict
from infrastructure.application.commands import (
    AssignSite,
    LockAccount,
    LockDatabase,
    RecordBatch,
    RecordEvent,
    RevokeRole,
    RotateKey,
    Signatory,
)
from infrastructure.bootstrap import Store
from infrastructure.identity.sponsor_key import open_sponsor_account
from infrastructure.store.event_store import SealedEventStore
from signatures.keys import generate_private_key, public_key_to_text
from tests.access.conftest import Admin, make_admin, make_person
from tests.conftest import STUDY, Person, consent, screening
from tests.integration.test_group_commit import (
    Write,
    assert_verify_is_clean,
    groups_of,
    queued_behind_a_leader,
    signed_write,
    write_lock_held,
)
from tests.resilience.harness import log_positions


class Administrators(Admin):
    """The administrator, with the sponsor's data manager beside them (who locks databases)."""

    data_manager: Signatory


Change = Callable[[Store, Administrators, Person], None]
"""An administrator's change to a person's account (or the sponsor data manager's to the
sponsor's), made through the application: the write signed by that person meets it in the same
group."""


def role_revoked(store: Store, admin: Administrators, person: Person) -> None:
    store.administration.revoke_role(
        RevokeRole(user_id=person.user_id, role=Role.SITE_COORDINATOR, reason="left the trial"),
        by=admin.signatory,
    )


def locked_out(store: Store, admin: Administrators, person: Person) -> None:
    store.administration.lock_account(
        LockAccount(user_id=person.user_id, reason="reported lost badge"), by=admin.signatory
    )


def key_rotated_from_the_next_minute(store: Store, admin: Administrators, person: Person) -> None:
    # A minute, not the next second: the rotation's end is checked when its group commits,
    # after the opener's lock is let go, which took over a second on a loaded machine
    # (KeyEndPassed: "the key's end ... is already past").
    store.administration.rotate_key(
        RotateKey(
            user_id=person.user_id,
            old_key_id=person.key_id,
            public_key=public_key_to_text(generate_private_key().public_key()),
            rotated_at=datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=1),
        ),
        by=admin.signatory,
    )


def database_locked(store: Store, admin: Administrators, person: Person) -> None:
    store.administration.lock_database(
        LockDatabase(SPONSOR_ACCOUNT, STUDY, "interim analysis", "RP"), by=admin.data_manager
    )


CHANGES: dict[str, tuple[Change, type[Exception] | None]] = {
    # What the change does to a screening signed by the person before it, once it is
    # committed first in the group (None: still allowed).
    "role revoked": (role_revoked, NotPermitted),
    "locked out": (locked_out, None),
    "key rotated from the next minute": (key_rotated_from_the_next_minute, None),
    "the site's database locked": (database_locked, ScreeningClosed),
}


@pytest.fixture
def admin(store: Store) -> Administrators:
    open_sponsor_account(store.administration, store.settings)
    manager = make_person(store, "dm1", role=Role.SPONSOR_DATA_MANAGER)
    made = make_admin(store)
    administrators = Administrators(
        made.user_id, made.printed_name, made.private_key, made.password, store
    )
    administrators.data_manager = Signatory(
        manager.user_id, manager.printed_name, manager.private_key
    )
    return administrators


def in_one_group(store: Store, opener: Person, writes: list[Write]) -> list[Any]:
    """The outcomes of an opener's screening (a group of one, first) and of ``writes``, which
    form the next group, in their order."""
    groups = groups_of(store)
    before = (groups.groups, groups.members)
    with write_lock_held(store):
        opening = signed_write(store, opener, "RP-900", "Screened", screening(), 1)
        threads = queued_behind_a_leader(store, opening, writes)
    outcomes = threads.join()
    assert (groups.groups - before[0], groups.members - before[1]) == (2, len(writes) + 1)
    return outcomes


def assert_receipts_name_their_leaves(store: Store, receipts: list[dict[str, Any]]) -> None:
    """Each receipt's leaf is the leaf the tree holds for its position."""
    for receipt in receipts:
        assert store.app.checkpoints.leaf_index(receipt["position"]) == receipt["leaf_index"]


@pytest.mark.parametrize("change_first", [True, False], ids=["change-first", "write-first"])
@pytest.mark.parametrize("change", list(CHANGES))
def test_an_account_change_and_a_write_its_person_signed_meet_in_one_group(
    store: Store,
    admin: Administrators,
    coord1: Person,
    coord2: Person,
    change: str,
    change_first: bool,
) -> None:
    make_change, refusal = CHANGES[change]
    write = signed_write(store, coord1, "RP-901", "Screened", screening(), 1)

    def changed() -> None:
        make_change(store, admin, coord1)

    positions = log_positions(store)
    writes = [changed, write] if change_first else [write, changed]
    opened, *outcomes = in_one_group(store, coord2, writes)
    written = outcomes[1] if change_first else outcomes[0]
    assert (outcomes[0] if change_first else outcomes[1]) is None  # the change committed
    if change_first and refusal is not None:
        assert isinstance(written, refusal), written
        assert store.app.find_subject(f"{STUDY}/RP-901") is None
    else:
        assert isinstance(written, dict), written
        assert_receipts_name_their_leaves(store, [opened, written])
    assert len(log_positions(store)) > len(positions)
    assert_verify_is_clean(store)


def test_a_retry_in_the_same_group_as_its_first_attempt_is_recorded_once(
    store: Store, admin: Admin, coord1: Person, coord2: Person
) -> None:
    body = coord1.body("RP-902", "Screened", screening(), version=1)
    submission = submission_from(body, coord1.sign(body), idempotency_key="screen-RP-902")

    def attempt() -> Any:
        return store.records.record(RecordEvent(submission=submission, actor_id=coord1.user_id))

    positions = log_positions(store)
    _, first, retried = in_one_group(store, coord2, [attempt, attempt])
    assert isinstance(first, dict) and retried == first
    assert len(log_positions(store)) == len(positions) + 2  # the opener's and one screening
    assert_receipts_name_their_leaves(store, [first])
    assert_verify_is_clean(store)


def test_a_batch_refused_in_a_group_leaves_none_of_its_events_and_the_others_commit(
    store: Store, admin: Admin, coord1: Person, coord2: Person
) -> None:
    bodies = [
        coord1.body("RP-911", "Screened", screening(), version=1),
        coord1.body("RP-911", "ConsentObtained", consent(), version=2),
        coord1.body("RP-912", "Screened", screening(), version=1),
    ]
    batch = RecordBatch([submission_from(b, coord1.sign(b)) for b in bodies], coord1.user_id)

    def record_batch() -> Any:
        return store.records.record_batch(batch)

    writes = [
        # RP-912's first version, taken by the member before the batch ...
        signed_write(store, coord2, "RP-912", "Screened", screening(), 1),
        record_batch,
        # ... and a write after it, of a subject the batch also writes.
        signed_write(store, coord2, "RP-911", "Screened", screening(), 1),
    ]
    positions = log_positions(store)
    _, taken, refused, after = in_one_group(store, coord2, writes)
    assert isinstance(refused, VersionConflict), refused
    assert [taken["subject"], after["subject"]] == ["RP-912", "RP-911"]
    subject = store.app.find_subject(f"{STUDY}/RP-911")
    assert subject is not None and subject.version == 1  # coord2's screening, none of the batch
    assert len(log_positions(store)) == len(positions) + 3
    assert_receipts_name_their_leaves(store, [taken, after])
    assert_verify_is_clean(store)


def test_a_member_whose_check_fails_with_a_fault_fails_alone_and_leaves_nothing(
    store: Store, admin: Admin, coord1: Person, coord2: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fault (a bug, not a refusal nor the database's error) in a member's last check, once
    the check has read in the transaction, the stream an earlier member wrote among what it
    read: that member is answered the fault, the rest of the group commits, nothing of it is
    stored (on PostgreSQL, whose members have no savepoints, nothing of it is in the
    transaction)."""
    events = store.app.events
    assert isinstance(events, SealedEventStore)
    check = events.admit_under_turn

    def admit_under_turn(batch: Any, used: Any, read_after: Any, sites: Any) -> None:
        if any(event.stream == f"{STUDY}/RP-921" for event in batch):
            for account in used.values():
                read_after(account.id, account.version)
            raise KeyError("a fault in the check")
        check(batch, used, read_after, sites)

    monkeypatch.setattr(events, "admit_under_turn", admit_under_turn)

    def site_added() -> None:
        store.administration.assign_site(AssignSite("coord1", "SP"), by=admin.signatory)

    writes = [
        site_added,  # coord1's account written: the faulty check reads it again
        signed_write(store, coord1, "RP-921", "Screened", screening(), 1),
        signed_write(store, coord1, "RP-922", "Screened", screening(), 1),
    ]
    positions = log_positions(store)
    _, added, fault, after = in_one_group(store, coord2, writes)
    assert added is None
    assert isinstance(fault, KeyError), fault
    assert after["subject"] == "RP-922"
    assert store.app.find_subject(f"{STUDY}/RP-921") is None
    assert len(log_positions(store)) == len(positions) + 3
    assert_receipts_name_their_leaves(store, [after])
    monkeypatch.undo()
    assert_verify_is_clean(store)


def test_members_crossing_a_checkpoint_s_boundary_together_seal_it_once(
    store: Store, admin: Admin, coord1: Person, coord2: Person
) -> None:
    keeper = store.app.checkpoints
    size = keeper.seal().tree_size
    # By the count alone, however old the last one: the opener leaves it one leaf short, the
    # group's first member reaches it, and every member after it is past it.
    keeper.every, keeper.interval = 2, timedelta(days=1)
    before = {checkpoint.tree_size for checkpoint in keeper.all()}
    writes = [
        signed_write(store, person, f"RP-93{n}", "Screened", screening(), 1)
        for n, person in enumerate([coord1, coord2, coord1, coord2])
    ]
    opened, *receipts = in_one_group(store, coord2, writes)
    assert [r["leaf_index"] for r in receipts] == [opened["leaf_index"] + n for n in range(1, 5)]
    sealed = {checkpoint.tree_size for checkpoint in keeper.all()} - before
    assert sealed == {size + 5}  # the whole group's, once
    assert_receipts_name_their_leaves(store, [opened, *receipts])
    assert_verify_is_clean(store)


def test_a_batch_retried_in_the_same_group_as_its_first_attempt_is_recorded_once(
    store: Store, admin: Administrators, coord1: Person, coord2: Person
) -> None:
    bodies = [
        coord1.body("RP-941", "Screened", screening(), version=1),
        coord1.body("RP-941", "ConsentObtained", consent(), version=2),
    ]
    submissions = [
        submission_from(body, coord1.sign(body), idempotency_key=f"RP-941-{n}")
        for n, body in enumerate(bodies)
    ]

    def attempt() -> Any:
        return store.records.record_batch(RecordBatch(submissions, coord1.user_id))

    positions = log_positions(store)
    _, first, retried = in_one_group(store, coord2, [attempt, attempt])
    assert isinstance(first, list) and retried == first
    assert len(log_positions(store)) == len(positions) + 3  # the opener's and the batch's two
    assert_receipts_name_their_leaves(store, first)
    assert_verify_is_clean(store)
