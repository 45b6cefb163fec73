"""The write groups' queue on its own (infrastructure/store/write_groups.py): how many saves one
transaction takes, and what every member of a group whose transaction fails is answered.

Real threads; the group's transaction is a function of the test's that records the groups it
is handed (the recorders' transactions, on SQLite and PostgreSQL, are tested in
tests/integration/test_group_commit*.py, whose groups never reach the cap).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Sequence

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError, OperationalError

from infrastructure.store.sealed_batch import SealedBatch
from infrastructure.store.write_groups import (
    MAX_MEMBERS,
    Member,
    Outcome,
    WriteGroups,
    as_refusal,
    database_failure,
)


def member(number: int) -> Member:
    """A save whose only mark is its number (the test's transaction answers it as its position)."""
    return Member([], SealedBatch([], lambda _: None), {"number": number})


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.002)


def in_groups(
    count: int, transaction: Callable[[Sequence[Member]], list[Outcome]]
) -> tuple[list[list[int]], dict[int, object]]:
    """``count`` saves queued one after another behind a first save held in its transaction:
    the numbers of each group's members, and what each save was answered."""
    groups = WriteGroups()
    held = threading.Event()
    formed: list[list[int]] = []
    answers: dict[int, object] = {}

    def commit_group(members: Sequence[Member]) -> list[Outcome]:
        formed.append([m.kwargs["number"] for m in members])
        if len(formed) == 1:
            held.wait(timeout=30)
        return transaction(members)

    def save(number: int) -> None:
        try:
            answers[number] = groups.commit(member(number), commit_group)
        except BaseException as refusal:  # what the save raised, whatever it is
            answers[number] = refusal

    threads = [threading.Thread(target=save, args=(n,)) for n in range(count + 1)]
    threads[0].start()
    wait_for(lambda: groups.committing, "the first save to lead")
    for number, thread in enumerate(threads[1:], start=1):
        thread.start()
        wait_for(lambda number=number: groups.queued == number, f"save {number} to queue")  # type: ignore[misc]
    held.set()
    for thread in threads:
        thread.join(timeout=30)
    assert (groups.groups, groups.members) == (len(formed), count + 1)
    return formed, answers


def positions(members: Sequence[Member]) -> list[Outcome]:
    return [[m.kwargs["number"]] for m in members]


def test_a_transaction_takes_at_most_max_members_saves_in_the_order_they_queued() -> None:
    formed, answers = in_groups(MAX_MEMBERS + 3, positions)

    queued = list(range(1, MAX_MEMBERS + 4))
    assert formed == [[0], queued[:MAX_MEMBERS], queued[MAX_MEMBERS:]]
    assert answers == {n: [n] for n in range(MAX_MEMBERS + 4)}


def test_a_failed_transaction_is_every_member_s_answer_each_its_own_exception() -> None:
    failure = OperationalError("the server closed the connection")

    def failing(members: Sequence[Member]) -> list[Outcome]:
        if len(members) > 1:
            raise failure
        return positions(members)

    _, answers = in_groups(3, failing)

    assert answers[0] == [0]
    raised = [answers[n] for n in (1, 2, 3)]
    assert raised[0] is failure  # the leader's own
    assert all(type(e) is OperationalError and str(e) == str(failure) for e in raised)
    assert len({id(e) for e in raised}) == 3  # no two threads raise one object


@pytest.mark.parametrize(
    ("error", "the_transaction_s"),
    [
        (sqlite3.OperationalError("database is locked"), True),
        (psycopg.errors.PipelineAborted("pipeline aborted"), True),
        (OperationalError("pool timeout"), True),
        (sqlite3.IntegrityError("UNIQUE constraint failed"), False),
        (IntegrityError("version taken"), False),
        (KeyError("a fault in the member's check"), False),
    ],
)
def test_only_the_database_s_errors_but_a_version_taken_fail_the_whole_group(
    error: Exception, the_transaction_s: bool
) -> None:
    assert database_failure(error) is the_transaction_s


def test_a_version_taken_is_answered_as_eventsourcing_raises_it_a_fault_as_it_is() -> None:
    taken = sqlite3.IntegrityError("UNIQUE constraint failed: stored_events.originator_id")
    answered = as_refusal(taken)
    assert type(answered) is IntegrityError and answered.__cause__ is taken
    fault = KeyError("a fault")
    assert as_refusal(fault) is fault


def test_a_leader_stopped_mid_transaction_leaves_no_member_waiting() -> None:
    """A leader stopped by what no save handles (its thread's SystemExit, a KeyboardInterrupt)
    raises it; every other member of its group is answered that its group was interrupted."""

    def stopped(members: Sequence[Member]) -> list[Outcome]:
        if len(members) > 1:
            raise SystemExit("the worker is stopping")
        return positions(members)

    _, answers = in_groups(3, stopped)

    assert answers[0] == [0]
    assert isinstance(answers[1], SystemExit)  # the leader's own
    for n in (2, 3):
        assert isinstance(answers[n], RuntimeError) and "interrupted" in str(answers[n])
