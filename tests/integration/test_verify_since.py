"""``verify --since``: what came after a kept checkpoint, and every way an insider may try to
hide a change from it.

The cohort of :mod:`tests.integration.test_tamper_suite` (16 events: the accounts, then RP-101
and RP-102 interleaved, four each) is sealed and kept; then RP-101 alone records two more (its
versions 5 and 6), and a checkpoint is sealed over them. Each attack edits the database through
a connection of its own, as someone at the owner's SQL prompt without the server's key would,
and every finding's (position, stream, version, kind) is asserted.
"""

from __future__ import annotations

import pytest

from infrastructure.bootstrap import Store
from infrastructure.store.account_index import account_events_condition, account_index_name
from infrastructure.store.merkle_log import APPEND_ONLY_TABLES
from infrastructure.verification.since import SinceCheck, SinceReport, read_kept_checkpoint
from signatures.checkpoint import Checkpoint, parse_note, sign_checkpoint
from signatures.merkle import InMemoryTree, frontier, leaf_hash
from tests.conftest import STUDY, PersonFactory, consent, haemoglobin, screening
from tests.insider import append_event, forged_record
from tests.integration.test_tamper_evidence import drop_triggers
from tests.integration.test_tamper_suite import (
    LOG,
    RP101,
    RP102,
    Cohort,
    cohort,
    copy_below_the_log,
    database,
    position_column,
    set_state,
    stored_state,
    table,
    where,
)

KEPT_SIZE = 16
"""The cohort's log: the accounts' eight events and the eight records."""
PAYLOAD, EDITED = b'\\"value\\":\\"7.9\\"', b'\\"value\\":\\"9.9\\"'
"""A lab value inside the author's signed body of RP-101 v4 and RP-102 v3 (both 7.9)."""


def kept_then_two_more(store: Store, person_in: PersonFactory) -> tuple[Cohort, str, str]:
    """The cohort, the checkpoint kept of it, RP-101's versions 5 and 6, and the checkpoint
    sealed over them (the one to keep next)."""
    c = cohort(store, person_in)
    kept = store.app.checkpoints.seal()
    assert kept.tree_size == KEPT_SIZE
    for value in ("8.4", "8.6"):
        receipt = c.coordinator.record(store, "RP-101", "BloodCountRecorded", haemoglobin(value))
        c.positions[(RP101, receipt["version"])] = receipt["position"]
    return c, kept.note, store.app.checkpoints.seal().note


def since(store: Store, note: str) -> SinceReport:
    verifier = store.verifier(workers=1)
    kept = read_kept_checkpoint(note.encode(), verifier.origin, verifier.anchor_key)
    return SinceCheck(verifier, kept).run()


def signed_by_the_server(store: Store, checkpoint: Checkpoint) -> str:
    """A checkpoint note as the server's key signs it (the origin is the key's name)."""
    return sign_checkpoint(store.app.server_key.private_key, checkpoint.origin, checkpoint)


def rebuild_tree(store: Store) -> dict[tuple[int, int], bytes]:
    """What a thorough insider does after editing events: every leaf recomputed from the event
    rows as they now are, and every node from those leaves; the nodes as they were, returned."""
    notifications = store.app.recorder.select_notifications(1, 10_000)
    tree = InMemoryTree()
    with database(store) as execute:
        before = {
            (int(level), int(index)): bytes(value)
            for level, index, value in execute("SELECT level, node_index, hash FROM merkle_nodes")
        }
        execute("DELETE FROM merkle_leaves")
        execute("DELETE FROM merkle_nodes")
        for index, notification in enumerate(notifications):
            event = store.app.mapper.to_domain_event(notification)
            hashed = leaf_hash(event.leaf_data(notification.id))
            tree.append_hash(hashed)
            execute(
                "INSERT INTO merkle_leaves (leaf_index, position, leaf_hash) VALUES (?, ?, ?)",
                (index, notification.id, hashed),
            )
        for (level, index), hashed in tree.nodes().items():
            execute(
                "INSERT INTO merkle_nodes (level, node_index, hash) VALUES (?, ?, ?)",
                (level, index, hashed),
            )
    return before


def account_events(store: Store) -> list[tuple[int, str, int]]:
    """(position, stream, version) of the accounts' eight events, which open the log."""
    found = []
    for notification in store.app.recorder.select_notifications(1, 8):
        event = store.app.mapper.to_domain_event(notification)
        assert event.stream.startswith("accounts/")
        found.append((notification.id, event.stream, notification.originator_version))
    return found


def edit(store: Store, stream: str, version: int) -> None:
    state = stored_state(store, stream, version)
    assert state.count(PAYLOAD) == 1
    set_state(store, stream, version, state.replace(PAYLOAD, EDITED))


# -- nothing touched ---------------------------------------------------------------------------


@pytest.mark.requirement("URS-verify-since-1")
def test_only_the_events_after_the_kept_checkpoint_are_checked_and_the_newest_is_offered(
    sqlite_store: Store, person_in: PersonFactory
) -> None:
    _, kept, newest = kept_then_two_more(sqlite_store, person_in)

    report = since(sqlite_store, kept)

    assert report.findings == []
    assert (report.events, report.tree_size, report.keep_next) == (2, KEPT_SIZE + 2, newest)
    assert not report.nothing_new


def test_the_same_checkpoint_again_is_nothing_new(
    sqlite_store: Store, person_in: PersonFactory
) -> None:
    _, _, newest = kept_then_two_more(sqlite_store, person_in)

    report = since(sqlite_store, newest)

    assert (report.ok, report.nothing_new, report.events, report.keep_next) == (
        True,
        True,
        0,
        newest,
    )


def test_events_after_the_newest_checkpoint_are_checked_and_the_newest_is_offered_again(
    sqlite_store: Store, person_in: PersonFactory
) -> None:
    c, kept, newest = kept_then_two_more(sqlite_store, person_in)
    c.coordinator.record(sqlite_store, "RP-102", "BloodCountRecorded", haemoglobin("8.0"))

    report = since(sqlite_store, newest)

    assert (report.findings, report.events, report.keep_next) == ([], 1, newest)
    assert since(sqlite_store, kept).events == 3


# -- before the kept checkpoint ------------------------------------------------------------------


@pytest.mark.requirement("URS-verify-since-1")
@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_an_event_before_the_checkpoint_edited_and_the_tree_rebuilt_is_caught_by_the_proof(
    backend: str, person_in: PersonFactory, request: pytest.FixtureRequest
) -> None:
    """RP-102 has nothing after the checkpoint: only the tree can show its edit."""
    store: Store = request.getfixturevalue(f"{backend}_store")
    _, kept, _ = kept_then_two_more(store, person_in)
    drop_triggers(store, "merkle_leaves", "merkle_nodes")
    edit(store, RP102, 3)
    rebuild_tree(store)

    report = since(store, kept)

    assert where(report.findings) == [(*LOG, "log-rewritten")]
    assert report.keep_next is None


def test_an_event_the_new_ones_continue_edited_and_the_tree_rebuilt_is_named(
    sqlite_store: Store, person_in: PersonFactory
) -> None:
    """RP-101 v4, edited, is the head its version 5 goes on from: the tree before the checkpoint
    no longer holds, and version 5 no longer follows it (of a head only its leaf is asked)."""
    c, kept, _ = kept_then_two_more(sqlite_store, person_in)
    drop_triggers(sqlite_store, "merkle_leaves", "merkle_nodes")
    edit(sqlite_store, RP101, 4)
    rebuild_tree(sqlite_store)

    assert where(since(sqlite_store, kept).findings) == [
        (*LOG, "log-rewritten"),
        (c.at(RP101, 5), RP101, 5, "chain-broken"),
    ]


def test_the_node_table_rewritten_to_keep_the_kept_root_does_not_hide_an_earlier_edit(
    sqlite_store: Store, person_in: PersonFactory
) -> None:
    """The insider edits RP-101 v4 and its leaf, rebuilds the nodes, then puts back the nodes
    the kept root is folded from (at size 16, the root node itself), so that the stored tree
    still shows the kept root at its size and the consistency proof from it holds. Every event
    the new ones rely on from before the checkpoint must then be shown in the kept tree by an
    inclusion proof verified against the kept root: the proof of each passes through the
    rebuilt node over leaves 8 to 15, so none can be, and each is named; and RP-101 v5 no longer
    follows the edited one."""
    c, kept, _ = kept_then_two_more(sqlite_store, person_in)
    drop_triggers(sqlite_store, "merkle_leaves", "merkle_nodes")
    edit(sqlite_store, RP101, 4)
    before = rebuild_tree(sqlite_store)
    with database(sqlite_store) as execute:
        for level, index in frontier(KEPT_SIZE):
            execute(
                "UPDATE merkle_nodes SET hash = ? WHERE level = ? AND node_index = ?",
                (before[(level, index)], level, index),
            )

    relied_on = [
        *account_events(sqlite_store),
        (c.at(RP101, 1), RP101, 1),
        (c.at(RP101, 4), RP101, 4),
        (c.at(RP102, 4), RP102, 4),  # the kept checkpoint's last event
    ]
    assert where(since(sqlite_store, kept).findings) == sorted(
        [
            *((*event, "log-rewritten") for event in relied_on),
            (c.at(RP101, 5), RP101, 5, "chain-broken"),
        ],
        key=lambda w: (w[0] or 0, w[1] or "", w[2] or 0, w[3]),
    )


def test_an_event_written_below_the_first_position_is_named(
    sqlite_store: Store, person_in: PersonFactory
) -> None:
    """Position -1 is before every checkpoint, yet in no tree: the application reads the copy
    of RP-102's version 4 written there as its version 5, so the check after the kept
    checkpoint reads it as one of the new events."""
    _, kept, _ = kept_then_two_more(sqlite_store, person_in)
    copy_below_the_log(sqlite_store, RP102, 4, as_version=5)

    report = since(sqlite_store, kept)

    assert where(report.findings) == [
        (-1, RP102, 5, "event-replayed"),
        (-1, RP102, 5, "leaf-missing"),
    ]
    assert report.keep_next is None


def test_the_log_cut_below_the_kept_checkpoint_is_truncated(
    sqlite_store: Store, person_in: PersonFactory
) -> None:
    _, _, newest = kept_then_two_more(sqlite_store, person_in)
    size = KEPT_SIZE - 3
    drop_triggers(sqlite_store, *APPEND_ONLY_TABLES)
    with database(sqlite_store) as execute:
        execute(
            f"DELETE FROM {table(sqlite_store)} WHERE {position_column(sqlite_store)} > ?",
            (size,),
        )
        execute("DELETE FROM merkle_leaves WHERE leaf_index >= ?", (size,))
        execute("DELETE FROM merkle_nodes WHERE ((node_index + 1) << level) > ?", (size,))
        execute("DELETE FROM checkpoints WHERE tree_size > ?", (size,))

    report = since(sqlite_store, newest)

    assert where(report.findings) == [(*LOG, "log-truncated")]
    assert report.keep_next is None


def test_a_kept_checkpoint_larger_than_the_log_is_truncation(
    sqlite_store: Store, person_in: PersonFactory
) -> None:
    kept_then_two_more(sqlite_store, person_in)
    head = sqlite_store.app.checkpoints.head()
    larger = Checkpoint(head.origin, head.size + 5, head.root)

    report = since(sqlite_store, signed_by_the_server(sqlite_store, larger))

    assert where(report.findings) == [(*LOG, "log-truncated")]


# -- after the kept checkpoint -------------------------------------------------------------------


def test_an_event_after_the_checkpoint_edited_is_named_by_its_signature_and_leaf(
    sqlite_store: Store, person_in: PersonFactory
) -> None:
    c, kept, _ = kept_then_two_more(sqlite_store, person_in)
    drop_triggers(sqlite_store)
    state = stored_state(sqlite_store, RP101, 5)
    set_state(
        sqlite_store, RP101, 5, state.replace(b'\\"value\\":\\"8.4\\"', b'\\"value\\":\\"9.4\\"')
    )

    assert where(since(sqlite_store, kept).findings) == [
        (c.at(RP101, 5), RP101, 5, "leaf-mismatch"),
        (c.at(RP101, 5), RP101, 5, "signature-invalid"),
        (c.at(RP101, 6), RP101, 6, "chain-broken"),
    ]


def test_an_event_after_the_checkpoint_edited_and_the_tree_rebuilt_is_named_by_its_signature(
    sqlite_store: Store, person_in: PersonFactory
) -> None:
    c, kept, _ = kept_then_two_more(sqlite_store, person_in)
    drop_triggers(sqlite_store, "merkle_leaves", "merkle_nodes")
    state = stored_state(sqlite_store, RP101, 5)
    set_state(
        sqlite_store, RP101, 5, state.replace(b'\\"value\\":\\"8.4\\"', b'\\"value\\":\\"9.4\\"')
    )
    rebuild_tree(sqlite_store)

    assert where(since(sqlite_store, kept).findings) == [
        (*LOG, "checkpoint-mismatch"),
        (c.at(RP101, 5), RP101, 5, "signature-invalid"),
        (c.at(RP101, 6), RP101, 6, "chain-broken"),
    ]


def test_a_stored_node_over_the_new_events_changed_is_named(
    sqlite_store: Store, person_in: PersonFactory
) -> None:
    """Leaves 16 and 17 are the new events; node (1, 8) is their hash, and the consistency
    proof from 16 to 18 is that node alone."""
    _, kept, _ = kept_then_two_more(sqlite_store, person_in)
    drop_triggers(sqlite_store, "merkle_nodes")
    with database(sqlite_store) as execute:
        execute(
            "UPDATE merkle_nodes SET hash = ? WHERE level = 1 AND node_index = 8", (b"\x00" * 32,)
        )

    assert where(since(sqlite_store, kept).findings) == [
        (*LOG, "tree-node-mismatch"),
        (*LOG, "tree-node-mismatch"),
    ]


def test_an_event_after_the_checkpoint_removed_with_its_leaf_and_the_tree_rebuilt(
    sqlite_store: Store, person_in: PersonFactory
) -> None:
    """RP-101 v5 taken out: its v6 no longer follows, and the checkpoint sealed over both no
    longer signs the log (it cannot be re-signed without the server's key)."""
    c, kept, _ = kept_then_two_more(sqlite_store, person_in)
    drop_triggers(sqlite_store, *APPEND_ONLY_TABLES)
    with database(sqlite_store) as execute:
        execute(
            f"DELETE FROM {table(sqlite_store)} WHERE {position_column(sqlite_store)} = ?",
            (c.at(RP101, 5),),
        )
    rebuild_tree(sqlite_store)

    assert where(since(sqlite_store, kept).findings) == [
        (*LOG, "checkpoint-mismatch"),
        (c.at(RP101, 6), RP101, 6, "chain-broken"),
        (c.at(RP101, 6), RP101, 6, "version-gap"),
    ]


def test_the_kept_checkpoints_last_leaf_removed_is_a_rewrite(
    sqlite_store: Store, person_in: PersonFactory
) -> None:
    """Where the new events begin is read from the checkpoint's last leaf: without it, nothing
    says where the kept log ends."""
    _, kept, _ = kept_then_two_more(sqlite_store, person_in)
    drop_triggers(sqlite_store, "merkle_leaves")
    with database(sqlite_store) as execute:
        execute("DELETE FROM merkle_leaves WHERE leaf_index = ?", (KEPT_SIZE - 1,))

    assert where(since(sqlite_store, kept).findings) == [(*LOG, "log-rewritten")]


def test_the_account_events_are_read_through_their_own_index_not_a_scan_of_the_log(
    sqlite_store: Store,
) -> None:
    """The condition ``verify --since`` queries by is the partial index's, word for word: the
    database finds the account events without reading the topic of every event."""
    events = table(sqlite_store)
    statement = (
        f"SELECT rowid FROM {events} WHERE {account_events_condition()} AND rowid <= 100 "
        "ORDER BY rowid"
    )
    with database(sqlite_store) as execute:
        plan = " ".join(str(row[-1]) for row in execute(f"EXPLAIN QUERY PLAN {statement}"))

    assert f"USING COVERING INDEX {account_index_name(events)}" in plan


def test_a_checkpoint_sealed_since_over_another_history_is_named_and_not_offered(
    sqlite_store: Store, person_in: PersonFactory
) -> None:
    """The owner, who holds the server's key, signs a checkpoint of the same size over another
    root and puts it in place of the one sealed over RP-101's versions 5 and 6."""
    _, kept, newest = kept_then_two_more(sqlite_store, person_in)
    sealed = parse_note(newest)[0]
    other = Checkpoint(sealed.origin, sealed.size, bytes(reversed(sealed.root)))
    drop_triggers(sqlite_store, "checkpoints")
    with database(sqlite_store) as execute:
        execute(
            "UPDATE checkpoints SET root = ?, note = ? WHERE tree_size = ?",
            (other.root, signed_by_the_server(sqlite_store, other), sealed.size),
        )

    report = since(sqlite_store, kept)

    assert where(report.findings) == [(*LOG, "checkpoint-mismatch")]
    assert report.keep_next is None


def test_a_checkpoint_over_another_history_is_named_beside_an_edited_event(
    sqlite_store: Store, person_in: PersonFactory
) -> None:
    """The owner edits an event after the kept checkpoint and signs a checkpoint over another
    root: the edit's findings do not hide the checkpoint (the stored leaves' tree judges it)."""
    c, kept, newest = kept_then_two_more(sqlite_store, person_in)
    sealed = parse_note(newest)[0]
    other = Checkpoint(sealed.origin, sealed.size, bytes(reversed(sealed.root)))
    drop_triggers(sqlite_store, "checkpoints")
    state = stored_state(sqlite_store, RP101, 5)
    set_state(
        sqlite_store, RP101, 5, state.replace(b'\\"value\\":\\"8.4\\"', b'\\"value\\":\\"9.4\\"')
    )
    with database(sqlite_store) as execute:
        execute(
            "UPDATE checkpoints SET root = ?, note = ? WHERE tree_size = ?",
            (other.root, signed_by_the_server(sqlite_store, other), sealed.size),
        )

    report = since(sqlite_store, kept)

    assert where(report.findings) == [
        (*LOG, "checkpoint-mismatch"),
        (c.at(RP101, 5), RP101, 5, "leaf-mismatch"),
        (c.at(RP101, 5), RP101, 5, "signature-invalid"),
        (c.at(RP101, 6), RP101, 6, "chain-broken"),
    ]
    assert report.keep_next is None


@pytest.mark.parametrize("subject", ["RP-101", "RP-103"], ids=["screened-before", "screened-after"])
def test_a_record_signed_by_a_person_of_another_site_after_the_checkpoint_is_not_authorised(
    sqlite_store: Store, person_in: PersonFactory, subject: str
) -> None:
    """The insider holds the key of SP's coordinator and appends a lab result to an RP subject
    (screened before the kept checkpoint, or after it), chained and with its leaf and nodes: only
    the subject's site, read from its screening, tells it from a write the store accepted."""
    c, kept, _ = kept_then_two_more(sqlite_store, person_in)
    c.coordinator.record(sqlite_store, "RP-103", "Screened", screening())
    c.coordinator.record(sqlite_store, "RP-103", "ConsentObtained", consent())
    elsewhere = person_in(sqlite_store, "coord-sp", sites=("SP",))
    stored = forged_record(sqlite_store, elsewhere, subject, "BloodCountRecorded", haemoglobin())
    position = append_event(sqlite_store.settings.database_url, stored)

    assert where(since(sqlite_store, kept).findings) == [
        (position, f"{STUDY}/{subject}", stored.originator_version, "not-authorised")
    ]
